/// The declared type and shape of one graph input or output.
public struct ValueSignature: Sendable, Equatable {
    /// What kind of value the graph declares.
    public enum Kind: Sendable, Equatable {
        /// A tensor of the given element type.
        case tensor(ElementType)
        /// A sequence of maps (`seq(map(key, value))`), as ZipMap produces.
        case sequenceOfMaps(key: ElementType, value: ElementType)
    }

    /// The value's name in the graph.
    public let name: String
    /// The declared kind.
    public let kind: Kind
    /// The declared shape with `-1` for dynamic dimensions; `nil` when the rank is not declared
    /// (always `nil` for sequences).
    public let shape: [Int]?

    /// The element type for tensors, `nil` for sequences of maps.
    public var elementType: ElementType? {
        if case .tensor(let type) = kind { return type }
        return nil
    }
}

extension ValueSignature {
    /// Reads a graph `ValueInfoProto`, failing on types the runtime does not hold.
    init(_ info: Onnx_ValueInfoProto, role: String) throws {
        name = info.name
        let type = info.type
        switch type.value {
        case .tensorType(let tensorType):
            guard let element = ElementType(onnxCode: tensorType.elemType) else {
                throw ModelRuntimeError.invalidModel(
                    "graph \(role) '\(info.name)' has unsupported element type \(ElementType.onnxName(tensorType.elemType))")
            }
            kind = .tensor(element)
            if tensorType.hasShape {
                shape = tensorType.shape.dim.map { dim in
                    if case .dimValue(let value)? = dim.value, value >= 0 { return Int(value) }
                    return -1
                }
            } else {
                shape = nil
            }
        case .sequenceType(let sequence):
            guard case .mapType(let map)? = sequence.elemType.value,
                let key = ElementType(onnxCode: map.keyType),
                case .tensorType(let valueType)? = map.valueType.value,
                let value = ElementType(onnxCode: valueType.elemType)
            else {
                throw ModelRuntimeError.invalidModel(
                    "graph \(role) '\(info.name)' is a sequence of something other than map(int64|string, tensor)")
            }
            kind = .sequenceOfMaps(key: key, value: value)
            shape = nil
        case .mapType:
            throw ModelRuntimeError.invalidModel("graph \(role) '\(info.name)' is a map; only tensors and sequences of maps are supported")
        case nil:
            throw ModelRuntimeError.invalidModel("graph \(role) '\(info.name)' has no type")
        }
    }
}
