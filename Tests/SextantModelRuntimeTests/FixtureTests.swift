import Foundation
import Testing

@testable import SextantModelRuntime

/// Every model of the fixture zoo, run on its recorded inputs and compared with onnxruntime's outputs.
@Suite("ONNX fixture zoo")
struct FixtureTests {
    @Test("the fixture directory holds the zoo")
    func fixturesAreThere() {
        #expect(Fixtures.zoo.names.count >= 21, "fixtures in \(Fixtures.zoo.directory.path): \(Fixtures.zoo.names)")
    }

    @Test("matches onnxruntime", arguments: Fixtures.zoo.names)
    func matchesOnnxRuntime(name: String) throws {
        let problems = try Fixtures.zoo.mismatches(name)
        #expect(problems.isEmpty, "\(name): \(problems.prefix(8).joined(separator: "; "))")
    }

    /// Single rows and small batches take other code paths than large batches (the forests
    /// interleave trees instead of rows): each row must get exactly the batch's answer.
    @Test("row by row and in twos and threes, the outputs equal the batch's exactly", arguments: Fixtures.zoo.names)
    func smallBatchesEqualTheBatch(name: String) throws {
        let model = try Fixtures.zoo.model(name)
        guard let (inputName, batch, values) = try Fixtures.zoo.floatBatch(name) else { return }
        let (rows, width) = (batch.shape[0], batch.shape[1])
        let whole = try model.run(inputs: [inputName: batch])
        for size in [1, 2, 3] {
            var start = 0
            while start + size <= rows {
                let part = try Tensor(shape: [size, width], floats: Array(values[(start * width)..<((start + size) * width)]))
                let results = try model.run(inputs: [inputName: part])
                for (output, value) in whole {
                    guard case .tensor(let full) = value, full.rank >= 1, full.shape[0] == rows, case .tensor(let small)? = results[output] else { continue }
                    let perRow = full.count / max(rows, 1)
                    let range = (start * perRow)..<((start + size) * perRow)
                    let same: Bool
                    switch (full.storage, small.storage) {
                    case (.float(let a), .float(let b)): same = Array(a[range]) == b
                    case (.double(let a), .double(let b)): same = Array(a[range]) == b
                    case (.int64(let a), .int64(let b)): same = Array(a[range]) == b
                    case (.string(let a), .string(let b)): same = Array(a[range]) == b
                    default: same = true
                    }
                    #expect(same, "\(name).\(output): rows \(start)..<\(start + size) differ from the batch")
                }
                start += size
            }
        }
    }

    @Test("an empty batch gives empty outputs", arguments: Fixtures.zoo.names)
    func emptyBatch(name: String) throws {
        let model = try Fixtures.zoo.model(name)
        let input = try #require(model.inputs.first)
        let width = try #require(input.shape?.last)
        let results = try model.run(inputs: [input.name: try Tensor(shape: [0, width], floats: [])])
        for output in model.outputs {
            switch results[output.name] {
            case .tensor(let tensor)?: #expect(tensor.count == 0, "\(name).\(output.name): \(tensor.shape)")
            case .mapSequence(let maps)?: #expect(maps.count == 0)
            case nil: Issue.record("\(name): missing \(output.name)")
            }
        }
    }

    @Test("signatures describe the graph", arguments: Fixtures.zoo.names)
    func signatures(name: String) throws {
        let model = try Fixtures.zoo.model(name)
        let expected = try Fixtures.zoo.expected(name)
        let outputNames = try #require(expected["outputNames"] as? [String])
        #expect(model.outputs.map(\.name) == outputNames)
        let input = try #require(model.inputs.first)
        #expect(input.name == "input")
        #expect(input.kind == .tensor(.float))
        #expect(input.shape?.first == -1)
    }
}

/// Synthetic models exercising operator options the zoo does not use (tree modes, binary-case
/// variants, multi-target regressors, transforms, dense and shape graphs), against onnxruntime.
@Suite("onnxruntime parity models")
struct ParityTests {
    @Test("the parity directory holds the models")
    func modelsAreThere() {
        #expect(Fixtures.parity.names.count >= 20, "models in \(Fixtures.parity.directory.path)")
    }

    @Test("matches onnxruntime", arguments: Fixtures.parity.names)
    func matchesOnnxRuntime(name: String) throws {
        let problems = try Fixtures.parity.mismatches(name)
        #expect(problems.isEmpty, "\(name): \(problems.prefix(8).joined(separator: "; "))")
    }
}
