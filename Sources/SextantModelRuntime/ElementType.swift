/// The tensor element types the runtime can hold, with their ONNX `TensorProto.DataType` codes.
public enum ElementType: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// 32-bit IEEE float (`tensor(float)`, V2 `FP32`).
    case float
    /// 64-bit IEEE float (`tensor(double)`, V2 `FP64`).
    case double
    /// 64-bit signed integer.
    case int64
    /// 32-bit signed integer.
    case int32
    /// UTF-8 string (`tensor(string)`, V2 `BYTES`).
    case string
    /// Boolean.
    case bool

    /// Maps an ONNX `TensorProto.DataType` code; `nil` for types the runtime does not hold.
    public init?(onnxCode: Int32) {
        switch onnxCode {
        case 1: self = .float
        case 11: self = .double
        case 7: self = .int64
        case 6: self = .int32
        case 8: self = .string
        case 9: self = .bool
        default: return nil
        }
    }

    /// The ONNX `TensorProto.DataType` code.
    public var onnxCode: Int32 {
        switch self {
        case .float: return 1
        case .double: return 11
        case .int64: return 7
        case .int32: return 6
        case .string: return 8
        case .bool: return 9
        }
    }

    /// The KServe V2 / ONNX-style upper-case name (`FP32`, `INT64`, `BYTES`, ...).
    public var v2Name: String {
        switch self {
        case .float: return "FP32"
        case .double: return "FP64"
        case .int64: return "INT64"
        case .int32: return "INT32"
        case .string: return "BYTES"
        case .bool: return "BOOL"
        }
    }

    /// The ONNX type name, e.g. `tensor(float)`.
    public var description: String { "tensor(\(rawValue))" }

    /// A readable name for any ONNX data type code, for error messages.
    static func onnxName(_ code: Int32) -> String {
        let names: [Int32: String] = [
            0: "undefined", 1: "float", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32",
            7: "int64", 8: "string", 9: "bool", 10: "float16", 11: "double", 12: "uint32",
            13: "uint64", 14: "complex64", 15: "complex128", 16: "bfloat16",
        ]
        return names[code] ?? "data type \(code)"
    }
}
