import Foundation
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

/// JSON <-> tensor conversion and validation against a model signature.
public enum TensorCodec {
    /// Every V2 datatype name the protocol defines.
    public static let v2Datatypes: Set<String> = [
        "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES", "BF16",
    ]

    /// Parses a JSON body into a top-level object, with a 400 on bad JSON.
    public static func parseObject(_ body: Data) throws -> [String: Any] {
        let parsed: Any
        do {
            if let fast = try? FastJSON.parse(body) { parsed = fast } else { parsed = try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) }
        } catch {
            var hint = ""
            if let text = String(data: body.prefix(1 << 20), encoding: .utf8), text.contains("NaN") || text.contains("Infinity") {
                hint = " (bare NaN/Infinity are not JSON; send them as the strings \"NaN\", \"Infinity\", \"-Infinity\")"
            }
            throw InferenceError.badRequest("request body is not valid JSON\(hint)")
        }
        guard let object = parsed as? [String: Any] else { throw InferenceError.badRequest("request body must be a JSON object") }
        return object
    }

    /// Decodes a V2 request body against `model`.
    ///
    /// - Parameter binary: the bytes after the JSON header when the request used the binary
    ///   tensor extension (`Inference-Header-Content-Length`); inputs with
    ///   `parameters.binary_data_size` take their data from it, in input order.
    public static func decodeV2(_ object: [String: Any], model: InferenceModel, allowNaN: Bool, binary: Data? = nil) throws -> V2InferRequest {
        var binaryOffset = binary?.startIndex ?? 0
        var id: String?
        if let raw = object["id"] {
            guard let string = raw as? String else { throw InferenceError.badRequest("'id' must be a string") }
            id = string
        }
        if let parameters = object["parameters"], !(parameters is [String: Any]) {
            throw InferenceError.badRequest("'parameters' must be an object")
        }
        guard let inputsRaw = object["inputs"] as? [Any] else { throw InferenceError.badRequest("'inputs' must be an array of tensors") }
        var inputs: [DecodedInput] = []
        var seen = Set<String>()
        for (index, item) in inputsRaw.enumerated() {
            guard let tensor = item as? [String: Any] else { throw InferenceError.badRequest("inputs[\(index)] must be an object") }
            guard let name = tensor["name"] as? String else { throw InferenceError.badRequest("inputs[\(index)].name must be a string") }
            guard let signature = model.model.inputs.first(where: { $0.name == name }) else {
                throw InferenceError.badRequest("unknown input '\(name)'; the model's inputs are \(model.model.inputs.map(\.name))")
            }
            guard seen.insert(name).inserted else { throw InferenceError.badRequest("input '\(name)' is given twice") }
            guard let datatype = tensor["datatype"] as? String else { throw InferenceError.badRequest("input '\(name)': 'datatype' must be a string") }
            guard let shapeRaw = tensor["shape"] as? [Any] else { throw InferenceError.badRequest("input '\(name)': 'shape' must be an array of integers") }
            var shape: [Int] = []
            for dim in shapeRaw {
                guard let number = dim as? NSNumber, !isJSONBool(dim), let value = Int(exactly: number.doubleValue), value >= 0 else {
                    throw InferenceError.badRequest("input '\(name)': 'shape' must be an array of non-negative integers")
                }
                shape.append(value)
            }
            if let parameters = tensor["parameters"], !(parameters is [String: Any]) {
                throw InferenceError.badRequest("input '\(name)': 'parameters' must be an object")
            }
            let flat: [Any]
            if let size = ((tensor["parameters"] as? [String: Any])?["binary_data_size"] as? NSNumber)?.intValue {
                guard let binary, size >= 0, binaryOffset + size <= binary.endIndex else {
                    throw InferenceError.badRequest("input '\(name)': binary_data_size \(size) exceeds the binary part of the request")
                }
                flat = try decodeBinary(binary[binaryOffset..<(binaryOffset + size)], datatype: datatype, name: name)
                binaryOffset += size
            } else {
                guard let data = tensor["data"] else { throw InferenceError.badRequest("input '\(name)': 'data' is missing") }
                flat = flatten(data)
            }
            inputs.append(DecodedInput(
                name: name,
                tensor: try makeTensor(name: name, datatype: datatype, shape: shape, values: flat, signature: signature, allowNaN: allowNaN)))
        }
        for signature in model.model.inputs where !seen.contains(signature.name) {
            throw InferenceError.badRequest("missing input '\(signature.name)'")
        }
        var outputs: [String]?
        if let outputsRaw = object["outputs"] {
            guard let list = outputsRaw as? [Any] else { throw InferenceError.badRequest("'outputs' must be an array") }
            outputs = []
            for (index, item) in list.enumerated() {
                guard let output = item as? [String: Any], let name = output["name"] as? String else {
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
    public static func decodeV1(_ object: [String: Any], model: InferenceModel, allowNaN: Bool) throws -> DecodedInput {
        guard let rowsRaw = object["instances"] ?? object["inputs"] else {
            throw InferenceError.badRequest("expected 'instances' (or 'inputs'): an array of rows")
        }
        guard let rows = rowsRaw as? [Any], !rows.isEmpty else { throw InferenceError.badRequest("'instances' must be a non-empty array of rows") }
        guard model.model.inputs.count == 1, let signature = model.model.inputs.first, let type = signature.elementType else {
            throw InferenceError.badRequest("V1 predict needs a model with exactly one tensor input; use V2 infer")
        }
        var flat: [Any] = []
        var width: Int?
        for (index, row) in rows.enumerated() {
            let values: [Any] = (row as? [Any]) ?? [row]
            if let width, width != values.count {
                throw InferenceError.badRequest("instances[\(index)] has \(values.count) values; instances[0] has \(width)")
            }
            width = values.count
            for value in values where value is [Any] {
                _ = value
                throw InferenceError.badRequest("instances[\(index)] must be a flat row of numbers")
            }
            flat.append(contentsOf: values)
        }
        let rank = signature.shape?.count ?? 2
        let shape = rank == 1 ? [rows.count] : [rows.count, width ?? 0]
        let tensor = try makeTensor(name: signature.name, datatype: type.v2Name, shape: shape, values: flat, signature: signature, allowNaN: allowNaN, field: "instances")
        return DecodedInput(name: signature.name, tensor: tensor)
    }

    /// Decodes little-endian binary tensor data (the V2 binary tensor extension) into JSON-like values.
    static func decodeBinary(_ bytes: Data, datatype: String, name: String) throws -> [Any] {
        let raw = [UInt8](bytes)
        func fixed<T>(_ size: Int, _ make: (UInt64) -> T) throws -> [T] {
            guard raw.count % size == 0 else { throw InferenceError.badRequest("input '\(name)': \(raw.count) binary bytes is not a multiple of \(size)") }
            return stride(from: 0, to: raw.count, by: size).map { start in
                var value: UInt64 = 0
                for i in 0..<size { value |= UInt64(raw[start + i]) << (8 * UInt64(i)) }
                return make(value)
            }
        }
        switch datatype {
        case "FP32": return try fixed(4) { NSNumber(value: Float(bitPattern: UInt32($0))) }
        case "FP64": return try fixed(8) { NSNumber(value: Double(bitPattern: $0)) }
        case "INT64": return try fixed(8) { NSNumber(value: Int64(bitPattern: $0)) }
        case "INT32": return try fixed(4) { NSNumber(value: Int32(bitPattern: UInt32($0))) }
        case "BOOL": return try fixed(1) { NSNumber(value: $0 != 0) }
        case "BYTES":
            var out: [Any] = []
            var index = 0
            while index < raw.count {
                guard index + 4 <= raw.count else { throw InferenceError.badRequest("input '\(name)': truncated BYTES element") }
                let length = Int(raw[index]) | Int(raw[index + 1]) << 8 | Int(raw[index + 2]) << 16 | Int(raw[index + 3]) << 24
                index += 4
                guard index + length <= raw.count else { throw InferenceError.badRequest("input '\(name)': truncated BYTES element") }
                out.append(String(decoding: raw[index..<(index + length)], as: UTF8.self))
                index += length
            }
            return out
        default:
            throw InferenceError.badRequest("input '\(name)': binary data for datatype \(datatype) is not supported")
        }
    }

    static func flatten(_ data: Any) -> [Any] {
        guard let array = data as? [Any] else { return [data] }
        // Tensors are homogeneous: only nested data has an array first. (A ragged mix fails the
        // element checks later.)
        if let first = array.first, !(first is [Any]) { return array }
        var out: [Any] = []
        out.reserveCapacity(array.count)
        func walk(_ value: Any) {
            if let nested = value as? [Any] { nested.forEach(walk) } else { out.append(value) }
        }
        walk(array)
        return out
    }

    static func makeTensor(
        name: String, datatype: String, shape: [Int], values: [Any], signature: ValueSignature, allowNaN: Bool, field: String? = nil
    ) throws -> Tensor {
        let label = field ?? "input '\(name)'"
        guard v2Datatypes.contains(datatype) else {
            throw InferenceError.badRequest("\(label): unknown datatype '\(datatype)'")
        }
        guard let expected = signature.elementType else { throw InferenceError.badRequest("\(label): not a tensor input") }
        guard datatype == expected.v2Name else {
            throw InferenceError.badRequest("\(label): datatype \(datatype) does not match the model's \(expected.v2Name)")
        }
        var count = 1
        for dim in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw InferenceError.badRequest("\(label): shape \(shape) is too large") }
            count = product
        }
        guard count == values.count else {
            throw InferenceError.badRequest("\(label): shape \(shape) needs \(count) values, got \(values.count)")
        }
        if let declared = signature.shape {
            guard declared.count == shape.count, zip(declared, shape).allSatisfy({ $0 < 0 || $0 == $1 }) else {
                throw InferenceError.badRequest("\(label): shape \(shape) does not match the model's \(declared.map { $0 < 0 ? "-1" : String($0) })")
            }
        }
        do {
            switch expected {
            case .float:
                return try Tensor(shape: shape, floats: try values.enumerated().map { Float(try number($1, label, $0, allowNaN)) })
            case .double:
                return try Tensor(shape: shape, doubles: try values.enumerated().map { try number($1, label, $0, allowNaN) })
            case .int64:
                return try Tensor(shape: shape, int64s: try values.enumerated().map { Int64(try integer($1, label, $0)) })
            case .int32:
                return try Tensor(shape: shape, int32s: try values.enumerated().map {
                    let value = try integer($1, label, $0)
                    guard let narrow = Int32(exactly: value) else { throw InferenceError.badRequest("\(label): value \(value) at index \($0) is out of INT32 range") }
                    return narrow
                })
            case .string:
                return try Tensor(shape: shape, strings: try values.enumerated().map {
                    guard let string = $1 as? String else { throw InferenceError.badRequest("\(label): value at index \($0) must be a string") }
                    return string
                })
            case .bool:
                return try Tensor(shape: shape, bools: try values.enumerated().map {
                    guard isJSONBool($1), let bool = $1 as? NSNumber else { throw InferenceError.badRequest("\(label): value at index \($0) must be true or false") }
                    return bool.boolValue
                })
            }
        } catch let error as InferenceError {
            throw error
        } catch {
            throw InferenceError.badRequest("\(label): \(error)")
        }
    }

    static func number(_ value: Any, _ label: String, _ index: Int, _ allowNaN: Bool) throws -> Double {
        let result: Double
        // NSNumber first: it is what JSONSerialization produces for numbers, and a failed
        // `as? String` bridging cast per element is expensive on Linux.
        if let number = value as? NSNumber {
            guard !isJSONBool(number) else { throw InferenceError.badRequest("\(label): value at index \(index) must be a number") }
            result = number.doubleValue
        } else if let string = value as? String {
            switch string {
            case "NaN", "nan": result = .nan
            case "Infinity", "inf", "+Infinity": result = .infinity
            case "-Infinity", "-inf": result = -.infinity
            default: throw InferenceError.badRequest("\(label): value at index \(index) must be a number")
            }
        } else {
            throw InferenceError.badRequest("\(label): value at index \(index) must be a number")
        }
        if !allowNaN, !result.isFinite {
            throw InferenceError(422, "\(label): value at index \(index) is \(result.isNaN ? "NaN" : "infinite"); start the server with --allow-nan to accept it")
        }
        return result
    }

    static func integer(_ value: Any, _ label: String, _ index: Int) throws -> Int64 {
        guard let number = value as? NSNumber, !isJSONBool(value), let integer = Int64(exactly: number.doubleValue) else {
            throw InferenceError.badRequest("\(label): value at index \(index) must be an integer")
        }
        return integer
    }

    // MARK: Encoding

    /// Appends the JSON for a tensor's flat data.
    static func appendData(_ tensor: Tensor, to out: inout String) {
        out += "["
        switch tensor.storage {
        case .float(let values): appendJoined(values.map { jsonNumber(Double($0), float: $0) }, &out)
        case .double(let values): appendJoined(values.map { jsonNumber($0, float: nil) }, &out)
        case .int64(let values): appendJoined(values.map { String($0) }, &out)
        case .int32(let values): appendJoined(values.map { String($0) }, &out)
        case .bool(let values): appendJoined(values.map { $0 ? "true" : "false" }, &out)
        case .string(let values): appendJoined(values.map(jsonString), &out)
        }
        out += "]"
    }

    static func appendJoined(_ parts: [String], _ out: inout String) {
        for (index, part) in parts.enumerated() {
            if index > 0 { out += "," }
            out += part
        }
    }

    /// A JSON number; non-finite values become `null`.
    static func jsonNumber(_ value: Double, float: Float?) -> String {
        guard value.isFinite else { return "null" }
        if let float { return "\(float)" }
        return "\(value)"
    }

    /// A JSON string literal.
    public static func jsonString(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    /// Row values of a tensor's first dimension as strings (labels) or doubles, for metrics.
    static func rowValues(_ tensor: Tensor) -> (labels: [String]?, values: [Double]?) {
        let rows = tensor.shape.first ?? 1
        let perRow = rows > 0 ? tensor.count / rows : 0
        guard perRow == 1 else { return (nil, nil) }
        switch tensor.storage {
        case .int64(let v): return (v.map { String($0) }, v.map { Double($0) })
        case .int32(let v): return (v.map { String($0) }, v.map { Double($0) })
        case .string(let v): return (v, nil)
        case .bool(let v): return (v.map { String($0) }, nil)
        case .float(let v): return (nil, v.map { Double($0) })
        case .double(let v): return (nil, v)
        }
    }
}

/// The class `JSONSerialization` uses for JSON booleans (`__NSCFBoolean` on Linux and Darwin).
private let jsonBoolClass: AnyClass? = {
    guard let array = try? JSONSerialization.jsonObject(with: Data("[true]".utf8)) as? [NSNumber], let first = array.first else { return nil }
    return type(of: first)
}()

/// Whether a `JSONSerialization` value is a JSON boolean (not a number 0/1, which also bridge to
/// Bool). A class identity check: this runs once per tensor element.
func isJSONBool(_ value: Any) -> Bool {
    if let number = value as? NSNumber {
        if let jsonBoolClass { return type(of: number) == jsonBoolClass }
        return String(cString: number.objCType) == "c"
    }
    return value is Bool
}
