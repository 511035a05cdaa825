import Foundation
import KubeCore
import SextantModelRuntime

/// One decoded V2 input tensor, ready for the runtime.
public struct DecodedInput: Sendable {
    /// Input name.
    public var name: String
    /// The tensor.
    public var tensor: Tensor
}

/// A decoded V2 inference request.
public struct V2InferRequest: Sendable {
    /// Client request id, if any.
    public var id: String?
    /// Inputs by name.
    public var inputs: [DecodedInput]
    /// Requested output names; nil means every tensor output.
    public var outputs: [String]?
}

/// JSON <-> tensor conversion and validation against a model signature. Requests are parsed
/// with KubeCore's JSON parser (the one the whole project uses) and tensor data goes straight
/// from the parsed numbers into typed arrays.
public enum TensorCodec {
    /// Every V2 datatype name the protocol defines.
    public static let v2Datatypes: Set<String> = [
        "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES", "BF16",
    ]

    /// Parses a JSON body into a top-level object, with a 400 on bad JSON.
    public static func parseObject(_ body: [UInt8]) throws -> [String: JSONValue] {
        let parsed = try withJSONErrors(body) { try JSONValue(parsing: body) }
        guard let object = parsed.objectValue else { throw InferenceError.badRequest("request body must be a JSON object") }
        return object
    }

    /// Runs `parse` over `body`, turning a JSON syntax error into a 400 (with a hint for bare
    /// NaN/Infinity); `InferenceError`s pass through.
    static func withJSONErrors<T>(_ body: [UInt8], _ parse: () throws -> T) throws -> T {
        do {
            return try parse()
        } catch let error as InferenceError {
            throw error
        } catch {
            var hint = ""
            let text = String(decoding: body.prefix(1 << 20), as: UTF8.self)
            if text.contains("NaN") || text.contains("Infinity") {
                hint = " (bare NaN/Infinity are not JSON; send them as the strings \"NaN\", \"Infinity\", \"-Infinity\")"
            }
            throw InferenceError.badRequest("request body is not valid JSON\(hint)")
        }
    }

    /// Decodes a V2 request body (JSON) against `model`, reading it in one pass
    /// (`V2RequestParts`) and checking it in a fixed order, so a body with several faults
    /// always gets the same message.
    ///
    /// - Parameter binary: the bytes after the JSON header when the request used the binary
    ///   tensor extension (`Inference-Header-Content-Length`); inputs with
    ///   `parameters.binary_data_size` take their data from it, in input order.
    public static func decodeV2(_ body: [UInt8], model: InferenceModel, allowNaN: Bool, binary: ArraySlice<UInt8>? = nil) throws -> V2InferRequest {
        let parts = try V2RequestParts.read(body)
        var binaryOffset = binary?.startIndex ?? 0
        var id: String?
        if let raw = parts.id {
            guard let string = raw.stringValue else { throw InferenceError.badRequest("'id' must be a string") }
            id = string
        }
        if let parameters = parts.parameters, parameters.objectValue == nil {
            throw InferenceError.badRequest("'parameters' must be an object")
        }
        guard let inputParts = parts.inputs else { throw InferenceError.badRequest("'inputs' must be an array of tensors") }
        var inputs: [DecodedInput] = []
        var seen: [String] = []  // models have few inputs: a list is cheaper than a set
        for (index, tensor) in inputParts.enumerated() {
            guard tensor.isObject else { throw InferenceError.badRequest("inputs[\(index)] must be an object") }
            guard let name = tensor.name?.stringValue else { throw InferenceError.badRequest("inputs[\(index)].name must be a string") }
            guard let signature = model.model.inputs.first(where: { $0.name == name }) else {
                throw InferenceError.badRequest("unknown input '\(name)'; the model's inputs are \(model.model.inputs.map(\.name))")
            }
            guard !seen.contains(name) else { throw InferenceError.badRequest("input '\(name)' is given twice") }
            seen.append(name)
            guard let datatype = tensor.datatype?.stringValue else { throw InferenceError.badRequest("input '\(name)': 'datatype' must be a string") }
            guard let shapeRaw = tensor.shape?.arrayValue else { throw InferenceError.badRequest("input '\(name)': 'shape' must be an array of integers") }
            var shape: [Int] = []
            for dim in shapeRaw {
                guard let value = dim.integerValue, value >= 0, let size = Int(exactly: value) else {
                    throw InferenceError.badRequest("input '\(name)': 'shape' must be an array of non-negative integers")
                }
                shape.append(size)
            }
            let parameters = tensor.parameters
            if let parameters, parameters.objectValue == nil {
                throw InferenceError.badRequest("input '\(name)': 'parameters' must be an object")
            }
            let values: TensorElements
            if let size = parameters?["binary_data_size"]?.integerValue.flatMap({ Int(exactly: $0) }) {
                guard let binary, size >= 0, binaryOffset + size <= binary.endIndex else {
                    throw InferenceError.badRequest("input '\(name)': binary_data_size \(size) exceeds the binary part of the request")
                }
                values = .values(try decodeBinary(binary[binaryOffset..<(binaryOffset + size)], datatype: datatype, name: name))
                binaryOffset += size
            } else {
                guard let data = tensor.data else { throw InferenceError.badRequest("input '\(name)': 'data' is missing") }
                values = data
            }
            inputs.append(
                DecodedInput(
                    name: name,
                    tensor: try makeTensor(name: name, datatype: datatype, shape: shape, values: values, signature: signature, allowNaN: allowNaN)))
        }
        for signature in model.model.inputs where !seen.contains(signature.name) {
            throw InferenceError.badRequest("missing input '\(signature.name)'")
        }
        var outputs: [String]?
        if let outputsRaw = parts.outputs {
            guard let list = outputsRaw.arrayValue else { throw InferenceError.badRequest("'outputs' must be an array") }
            outputs = []
            for (index, item) in list.enumerated() {
                guard let name = item["name"]?.stringValue else {
                    throw InferenceError.badRequest("outputs[\(index)].name must be a string")
                }
                guard model.tensorOutputs.contains(where: { $0.name == name }) else {
                    throw InferenceError.badRequest("unknown output '\(name)'; the model's outputs are \(model.tensorOutputs.map(\.name))")
                }
                outputs?.append(name)
            }
        }
        return V2InferRequest(id: id, inputs: inputs, outputs: outputs)
    }

    /// Decodes V1 `instances` (or `inputs`) rows into the model's single input.
    public static func decodeV1(_ object: [String: JSONValue], model: InferenceModel, allowNaN: Bool) throws -> DecodedInput {
        guard let rowsRaw = object["instances"] ?? object["inputs"] else {
            throw InferenceError.badRequest("expected 'instances' (or 'inputs'): an array of rows")
        }
        guard let rows = rowsRaw.arrayValue, !rows.isEmpty else { throw InferenceError.badRequest("'instances' must be a non-empty array of rows") }
        guard model.model.inputs.count == 1, let signature = model.model.inputs.first, let type = signature.elementType else {
            throw InferenceError.badRequest("V1 predict needs a model with exactly one tensor input; use V2 infer")
        }
        var flat: [JSONValue] = []
        var width: Int?
        for (index, row) in rows.enumerated() {
            let values = row.arrayValue ?? [row]
            if let width, width != values.count {
                throw InferenceError.badRequest("instances[\(index)] has \(values.count) values; instances[0] has \(width)")
            }
            width = values.count
            if values.contains(where: { $0.arrayValue != nil }) {
                throw InferenceError.badRequest("instances[\(index)] must be a flat row of numbers")
            }
            flat.append(contentsOf: values)
        }
        let rank = signature.shape?.count ?? 2
        let shape = rank == 1 ? [rows.count] : [rows.count, width ?? 0]
        let tensor = try makeTensor(
            name: signature.name, datatype: type.v2Name, shape: shape, values: .values(flat), signature: signature, allowNaN: allowNaN,
            field: "instances")
        return DecodedInput(name: signature.name, tensor: tensor)
    }

    /// Decodes little-endian binary tensor data (the V2 binary tensor extension) into JSON values.
    static func decodeBinary(_ bytes: ArraySlice<UInt8>, datatype: String, name: String) throws -> [JSONValue] {
        let raw = Array(bytes)
        func fixed(_ size: Int, _ make: (UInt64) -> JSONValue) throws -> [JSONValue] {
            guard raw.count % size == 0 else { throw InferenceError.badRequest("input '\(name)': \(raw.count) binary bytes is not a multiple of \(size)") }
            return stride(from: 0, to: raw.count, by: size).map { start in
                var value: UInt64 = 0
                for i in 0..<size { value |= UInt64(raw[start + i]) << (8 * UInt64(i)) }
                return make(value)
            }
        }
        switch datatype {
        case "FP32": return try fixed(4) { .number(Double(Float(bitPattern: UInt32($0)))) }
        case "FP64": return try fixed(8) { .number(Double(bitPattern: $0)) }
        case "INT64": return try fixed(8) { .integer(Int64(bitPattern: $0)) }
        case "INT32": return try fixed(4) { .integer(Int64(Int32(bitPattern: UInt32($0)))) }
        case "BOOL": return try fixed(1) { .bool($0 != 0) }
        case "BYTES":
            var out: [JSONValue] = []
            var index = 0
            while index < raw.count {
                guard index + 4 <= raw.count else { throw InferenceError.badRequest("input '\(name)': truncated BYTES element") }
                let length = Int(raw[index]) | Int(raw[index + 1]) << 8 | Int(raw[index + 2]) << 16 | Int(raw[index + 3]) << 24
                index += 4
                guard index + length <= raw.count else { throw InferenceError.badRequest("input '\(name)': truncated BYTES element") }
                out.append(.string(String(decoding: raw[index..<(index + length)], as: UTF8.self)))
                index += length
            }
            return out
        default:
            throw InferenceError.badRequest("input '\(name)': binary data for datatype \(datatype) is not supported")
        }
    }

    static func makeTensor(
        name: String, datatype: String, shape: [Int], values elements: TensorElements, signature: ValueSignature, allowNaN: Bool,
        field: String? = nil
    ) throws -> Tensor {
        // Spelled out only for an error message (most requests have none).
        var label: String { field ?? "input '\(name)'" }
        let expected = signature.elementType
        guard let expected, datatype == expected.v2Name else {
            guard v2Datatypes.contains(datatype) else {
                throw InferenceError.badRequest("\(label): unknown datatype '\(datatype)'")
            }
            guard let expected else { throw InferenceError.badRequest("\(label): not a tensor input") }
            throw InferenceError.badRequest("\(label): datatype \(datatype) does not match the model's \(expected.v2Name)")
        }
        var count = 1
        for dim in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw InferenceError.badRequest("\(label): shape \(shape) is too large") }
            count = product
        }
        guard count == elements.count else {
            throw InferenceError.badRequest("\(label): shape \(shape) needs \(count) values, got \(elements.count)")
        }
        if let declared = signature.shape {
            guard declared.count == shape.count, zip(declared, shape).allSatisfy({ $0 < 0 || $0 == $1 }) else {
                throw InferenceError.badRequest("\(label): shape \(shape) does not match the model's \(declared.map { $0 < 0 ? "-1" : String($0) })")
            }
        }
        do {
            if case .numbers(let numbers) = elements, expected == .float || expected == .double {
                for index in numbers.indices where !numbers[index].isFinite { _ = try number(.number(numbers[index]), label, index, allowNaN) }
                return expected == .float
                    ? try Tensor(shape: shape, floats: numbers.map { Float($0) }) : try Tensor(shape: shape, doubles: numbers)
            }
            let values = elements.values
            switch expected {
            case .float:
                var floats = [Float](repeating: 0, count: values.count)
                for index in values.indices { floats[index] = Float(try number(values[index], label, index, allowNaN)) }
                return try Tensor(shape: shape, floats: floats)
            case .double:
                var doubles = [Double](repeating: 0, count: values.count)
                for index in values.indices { doubles[index] = try number(values[index], label, index, allowNaN) }
                return try Tensor(shape: shape, doubles: doubles)
            case .int64:
                return try Tensor(shape: shape, int64s: try values.enumerated().map { try integer($1, label, $0) })
            case .int32:
                return try Tensor(
                    shape: shape,
                    int32s: try values.enumerated().map {
                        let value = try integer($1, label, $0)
                        guard let narrow = Int32(exactly: value) else {
                            throw InferenceError.badRequest("\(label): value \(value) at index \($0) is out of INT32 range")
                        }
                        return narrow
                    })
            case .string:
                return try Tensor(
                    shape: shape,
                    strings: try values.enumerated().map {
                        guard let string = $1.stringValue else { throw InferenceError.badRequest("\(label): value at index \($0) must be a string") }
                        return string
                    })
            case .bool:
                return try Tensor(
                    shape: shape,
                    bools: try values.enumerated().map {
                        guard let bool = $1.boolValue else { throw InferenceError.badRequest("\(label): value at index \($0) must be true or false") }
                        return bool
                    })
            }
        } catch let error as InferenceError {
            throw error
        } catch {
            throw InferenceError.badRequest("\(label): \(error)")
        }
    }

    /// A float element: a JSON number, or one of the strings JSON needs for non-finite values.
    /// Throws 422 for a non-finite value unless `allowNaN`.
    static func number(_ value: JSONValue, _ label: String, _ index: Int, _ allowNaN: Bool) throws -> Double {
        let result: Double
        switch value {
        case .number(let number): result = number
        case .integer(let integer): result = Double(integer)
        case .string("NaN"), .string("nan"): result = .nan
        case .string("Infinity"), .string("inf"), .string("+Infinity"): result = .infinity
        case .string("-Infinity"), .string("-inf"): result = -.infinity
        default: throw InferenceError.badRequest("\(label): value at index \(index) must be a number")
        }
        if !allowNaN, !result.isFinite {
            throw InferenceError(
                422, "\(label): value at index \(index) is \(result.isNaN ? "NaN" : "infinite"); start the server with --allow-nan to accept it")
        }
        return result
    }

    static func integer(_ value: JSONValue, _ label: String, _ index: Int) throws -> Int64 {
        switch value {
        case .integer(let integer): return integer
        case .number(let number) where Int64(exactly: number) != nil: return Int64(number)
        default: throw InferenceError.badRequest("\(label): value at index \(index) must be an integer")
        }
    }

    // MARK: Encoding

    /// Appends the JSON array of a tensor's flat data (or of the flat elements in `range`).
    static func appendData(_ tensor: Tensor, range: Range<Int>? = nil, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        func each<T>(_ values: [T], _ write: (T, inout [UInt8]) -> Void) {
            let indices = range ?? values.indices
            for index in indices {
                if index > indices.lowerBound { out.append(UInt8(ascii: ",")) }
                write(values[index], &out)
            }
        }
        switch tensor.storage {
        case .float(let values):
            each(values) { value, out in value.isFinite ? out.append(contentsOf: value.description.utf8) : out.append(contentsOf: "null".utf8) }
        case .double(let values):
            each(values) { value, out in value.isFinite ? out.append(contentsOf: value.description.utf8) : out.append(contentsOf: "null".utf8) }
        case .int64(let values): each(values) { value, out in out.append(contentsOf: String(value).utf8) }
        case .int32(let values): each(values) { value, out in out.append(contentsOf: String(value).utf8) }
        case .bool(let values): each(values) { value, out in out.append(contentsOf: (value ? "true" : "false").utf8) }
        case .string(let values): each(values) { value, out in JSONValue.writeString(value, into: &out) }
        }
        out.append(UInt8(ascii: "]"))
    }

    /// A JSON string literal.
    public static func jsonString(_ string: String) -> String {
        var out: [UInt8] = []
        JSONValue.writeString(string, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// A classifier output's label per row as text (what feedback compares and class counts
    /// name), nil unless the tensor has one integer, string or boolean value per row.
    static func rowLabels(_ tensor: Tensor) -> [String]? {
        guard hasOneValuePerRow(tensor) else { return nil }
        switch tensor.storage {
        case .int64(let v): return v.map { String($0) }
        case .int32(let v): return v.map { String($0) }
        case .string(let v): return v
        case .bool(let v): return v.map { String($0) }
        case .float, .double: return nil
        }
    }

    /// A regression output's value per row, nil unless the tensor has one numeric value per row.
    static func rowValues(_ tensor: Tensor) -> [Double]? {
        guard hasOneValuePerRow(tensor) else { return nil }
        switch tensor.storage {
        case .int64(let v): return v.map { Double($0) }
        case .int32(let v): return v.map { Double($0) }
        case .float(let v): return v.map { Double($0) }
        case .double(let v): return v
        case .string, .bool: return nil
        }
    }

    private static func hasOneValuePerRow(_ tensor: Tensor) -> Bool {
        let rows = tensor.shape.first ?? 1
        return rows > 0 && tensor.count / rows == 1
    }
}

/// A tensor's elements as a request gives them, in row-major order.
enum TensorElements {
    /// Every element a JSON number (nearly every request), read without building JSON values.
    case numbers([Double])
    /// Anything else, element by element.
    case values([JSONValue])

    var count: Int {
        switch self {
        case .numbers(let numbers): numbers.count
        case .values(let values): values.count
        }
    }

    /// The elements as JSON values.
    var values: [JSONValue] {
        switch self {
        case .numbers(let numbers): numbers.map { .number($0) }
        case .values(let values): values
        }
    }
}
