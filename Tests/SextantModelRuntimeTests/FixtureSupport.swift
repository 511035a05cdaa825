import Foundation
import Testing

@testable import SextantModelRuntime

/// Locates and decodes fixture directories of `<name>.onnx` + `<name>.expected.json` pairs.
///
/// - `zoo`: the model zoo, `$SEXTANT_ONNX_FIXTURES` or `Tests/Fixtures/onnx`.
/// - `parity`: synthetic models covering operator options the zoo does not use (made by
///   `hack/onnx/make_parity_models.py`), `$SEXTANT_ONNX_PARITY_FIXTURES` or `Tests/Fixtures/onnx-parity`.
///
/// Default directories are found next to this test target through `#filePath`.
struct Fixtures: Sendable {
    let directory: URL

    static let zoo = Fixtures(environment: "SEXTANT_ONNX_FIXTURES", folder: "onnx")
    static let parity = Fixtures(environment: "SEXTANT_ONNX_PARITY_FIXTURES", folder: "onnx-parity")

    init(environment: String, folder: String) {
        if let override = ProcessInfo.processInfo.environment[environment], !override.isEmpty {
            directory = URL(fileURLWithPath: override, isDirectory: true)
        } else {
            directory = URL(fileURLWithPath: #filePath)
                .deletingLastPathComponent()  // SextantModelRuntimeTests
                .deletingLastPathComponent()  // Tests
                .appendingPathComponent("Fixtures/\(folder)", isDirectory: true)
        }
    }

    /// Every model name (files `<name>.onnx` with a `<name>.expected.json`), sorted.
    var names: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".onnx") }
            .map { String($0.dropLast(".onnx".count)) }
            .filter { files.contains("\($0).expected.json") }
            .sorted()
    }

    func model(_ name: String) throws -> ONNXModel {
        try ONNXModel(contentsOf: directory.appendingPathComponent("\(name).onnx"))
    }

    func expected(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: directory.appendingPathComponent("\(name).expected.json"))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw FixtureError("\(name).expected.json is not an object")
        }
        return object
    }

    /// The recorded input of a fixture whose one input is a float `[rows, columns]` batch: its
    /// name, the tensor and its values; nil for other fixtures.
    func floatBatch(_ name: String) throws -> (input: String, batch: Tensor, values: [Float])? {
        let inputs = try #require(try expected(name)["inputs"] as? [String: [String: Any]])
        guard inputs.count == 1, let (input, spec) = inputs.first else { return nil }
        let batch = try jsonTensor(spec)
        guard batch.rank == 2, let values = batch.floats else { return nil }
        return (input, batch, values)
    }

    /// Runs `name` on its recorded inputs and returns every mismatch with the recorded outputs.
    func mismatches(_ name: String) throws -> [String] {
        let model = try model(name)
        let expected = try expected(name)
        guard let inputs = expected["inputs"] as? [String: [String: Any]],
            let outputs = expected["outputs"] as? [String: [String: Any]]
        else { throw FixtureError("\(name).expected.json lacks inputs or outputs") }
        let results = try model.run(inputs: try inputs.mapValues(jsonTensor))
        var problems: [String] = []
        if Set(results.keys) != Set(outputs.keys) {
            problems.append("outputs \(results.keys.sorted()) != \(outputs.keys.sorted())")
        }
        for (outputName, expectedOutput) in outputs.sorted(by: { $0.key < $1.key }) {
            guard let value = results[outputName] else { continue }
            problems += try compare(value, with: expectedOutput, name: outputName)
        }
        return problems
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Decodes a JSON number or one of the strings "NaN", "Infinity", "-Infinity".
func jsonDouble(_ value: Any) throws -> Double {
    if let number = value as? NSNumber { return number.doubleValue }
    switch value as? String {
    case "NaN": return .nan
    case "Infinity": return .infinity
    case "-Infinity": return -.infinity
    default: throw FixtureError("not a number: \(value)")
    }
}

/// Builds a request tensor from a V2-style JSON tensor (`datatype`, `shape`, `data`).
func jsonTensor(_ object: [String: Any]) throws -> Tensor {
    guard let datatype = object["datatype"] as? String,
        let shape = object["shape"] as? [Int],
        let data = object["data"] as? [Any]
    else { throw FixtureError("malformed tensor \(object)") }
    switch datatype {
    case "FP32": return try Tensor(shape: shape, floats: data.map { Float(try jsonDouble($0)) })
    case "FP64": return try Tensor(shape: shape, doubles: data.map { try jsonDouble($0) })
    case "INT64": return try Tensor(shape: shape, int64s: data.map { Int64(try jsonDouble($0)) })
    case "INT32": return try Tensor(shape: shape, int32s: data.map { Int32(try jsonDouble($0)) })
    case "BYTES": return try Tensor(shape: shape, strings: data.map { "\($0)" })
    default: throw FixtureError("unsupported datatype \(datatype)")
    }
}

/// `|actual - expected| <= max(1e-5 * |expected|, 1e-6)`; NaN matches NaN, infinities must be equal.
func approximatelyEqual(_ actual: Double, _ expected: Double) -> Bool {
    if expected.isNaN { return actual.isNaN }
    if expected.isInfinite { return actual == expected }
    return abs(actual - expected) <= max(1e-5 * abs(expected), 1e-6)
}

/// Compares one model output with its expected JSON; returns mismatch descriptions (empty = equal).
func compare(_ value: Value, with expected: [String: Any], name: String) throws -> [String] {
    guard let datatype = expected["datatype"] as? String, let data = expected["data"] as? [Any] else {
        throw FixtureError("malformed expected output \(name)")
    }
    var problems: [String] = []
    if datatype == "MAP" {
        guard let maps = value.mapSequence else { return ["\(name): expected a sequence of maps, got \(value)"] }
        guard maps.count == data.count else { return ["\(name): \(maps.count) maps, expected \(data.count)"] }
        for (row, entry) in data.enumerated() {
            guard let expectedMap = entry as? [String: Any] else { throw FixtureError("\(name)[\(row)] is not a map") }
            let actualMap = maps.map(at: row)
            if Set(actualMap.keys) != Set(expectedMap.keys) {
                problems.append("\(name)[\(row)]: keys \(actualMap.keys.sorted()) != \(expectedMap.keys.sorted())")
                continue
            }
            for (key, expectedValue) in expectedMap {
                let e = try jsonDouble(expectedValue)
                let a = Double(actualMap[key] ?? .nan)
                if !approximatelyEqual(a, e) { problems.append("\(name)[\(row)][\(key)]: \(a) != \(e)") }
            }
        }
        return problems
    }
    guard let tensor = value.tensor else { return ["\(name): expected a tensor"] }
    if let shape = expected["shape"] as? [Int], shape != tensor.shape {
        problems.append("\(name): shape \(tensor.shape) != \(shape)")
    }
    switch tensor.storage {
    case .int64(let values):
        let e = try data.map { Int64(try jsonDouble($0)) }
        if values != e { problems.append("\(name): \(values) != \(e)") }
    case .int32(let values):
        let e = try data.map { Int32(try jsonDouble($0)) }
        if values != e { problems.append("\(name): \(values) != \(e)") }
    case .string(let values):
        let e = data.map { "\($0)" }
        if values != e { problems.append("\(name): \(values) != \(e)") }
    case .float(let values):
        guard values.count == data.count else { return problems + ["\(name): \(values.count) values, expected \(data.count)"] }
        for (i, (a, raw)) in zip(values, data).enumerated() {
            let e = try jsonDouble(raw)
            if !approximatelyEqual(Double(a), e) { problems.append("\(name)[\(i)]: \(a) != \(e)") }
        }
    case .double(let values):
        guard values.count == data.count else { return problems + ["\(name): \(values.count) values, expected \(data.count)"] }
        for (i, (a, raw)) in zip(values, data).enumerated() {
            let e = try jsonDouble(raw)
            if !approximatelyEqual(a, e) { problems.append("\(name)[\(i)]: \(a) != \(e)") }
        }
    case .bool(let values):
        let e = try data.map { try jsonDouble($0) != 0 }
        if values != e { problems.append("\(name): \(values) != \(e)") }
    }
    return problems
}
