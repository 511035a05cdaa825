import Foundation

/// Typed access to a node's attributes while its kernel is built.
///
/// Every getter records the attribute as understood; after the kernel is built the loader
/// calls `checkAllUnderstood()` so that an attribute the kernel does not implement fails the
/// load instead of being silently ignored.
final class NodeAttributes {
    /// The operator, for error messages (`ai.onnx.ml.Scaler (node 'scaler')`).
    let op: String
    private let attributes: [String: Onnx_AttributeProto]
    private var understood: Set<String> = []

    init(node: Onnx_NodeProto, op: String) throws {
        self.op = op
        var byName: [String: Onnx_AttributeProto] = [:]
        for attribute in node.attribute {
            guard byName[attribute.name] == nil else {
                throw ModelRuntimeError.invalidAttribute(op: op, attribute: attribute.name, reason: "given twice")
            }
            byName[attribute.name] = attribute
        }
        attributes = byName
    }

    /// Whether the node sets `name`.
    func has(_ name: String) -> Bool {
        understood.insert(name)
        return attributes[name] != nil
    }

    /// Marks attributes that do not change inference (e.g. `nodes_hitrates`) as understood.
    func ignore(_ names: String...) {
        understood.formUnion(names)
    }

    /// Throws for the first attribute no getter asked for.
    func checkAllUnderstood() throws {
        for name in attributes.keys.sorted() where !understood.contains(name) {
            throw ModelRuntimeError.unsupportedAttribute(op: op, attribute: name, reason: "not implemented by this runtime")
        }
    }

    private func lookup(_ name: String, _ type: Onnx_AttributeProto.AttributeType) throws -> Onnx_AttributeProto? {
        understood.insert(name)
        guard let attribute = attributes[name] else { return nil }
        if !attribute.refAttrName.isEmpty {
            throw ModelRuntimeError.unsupportedAttribute(op: op, attribute: name, reason: "references a function attribute")
        }
        // Old models may leave `type` unset; accept them and read the field asked for.
        guard attribute.type == type || attribute.type == .undefined else {
            throw ModelRuntimeError.invalidAttribute(op: op, attribute: name, reason: "expected \(type), found \(attribute.type)")
        }
        return attribute
    }

    func int(_ name: String) throws -> Int64? { try lookup(name, .int)?.i }
    func int(_ name: String, default value: Int64) throws -> Int64 { try int(name) ?? value }

    func float(_ name: String) throws -> Float? { try lookup(name, .float)?.f }
    func float(_ name: String, default value: Float) throws -> Float { try float(name) ?? value }

    func string(_ name: String) throws -> String? {
        try lookup(name, .string).map { String(decoding: $0.s, as: UTF8.self) }
    }
    func string(_ name: String, default value: String) throws -> String { try string(name) ?? value }

    func ints(_ name: String) throws -> [Int64]? { try lookup(name, .ints)?.ints }
    func floats(_ name: String) throws -> [Float]? { try lookup(name, .floats)?.floats }
    func strings(_ name: String) throws -> [String]? {
        try lookup(name, .strings)?.strings.map { String(decoding: $0, as: UTF8.self) }
    }

    func tensor(_ name: String) throws -> Tensor? {
        guard let attribute = try lookup(name, .tensor) else { return nil }
        return try Tensor(proto: attribute.t, context: "\(op) attribute '\(name)'")
    }

    /// A required attribute: throws `invalidAttribute` naming it when absent.
    func required<T>(_ name: String, _ get: (String) throws -> T?) throws -> T {
        guard let value = try get(name) else {
            throw ModelRuntimeError.invalidAttribute(op: op, attribute: name, reason: "required but missing")
        }
        return value
    }

    /// A float list given either as `name` (floats) or `name_as_tensor` (double tensor, ai.onnx.ml ≥ 3).
    func doublesOrTensor(_ name: String) throws -> [Double]? {
        if let values = try floats(name) { return values.map { Double($0) } }
        if let tensor = try tensor(name + "_as_tensor") {
            switch tensor.storage {
            case .double(let v): return v
            case .float(let v): return v.map { Double($0) }
            default:
                throw ModelRuntimeError.invalidAttribute(op: op, attribute: name + "_as_tensor", reason: "must be a double or float tensor")
            }
        }
        return nil
    }

    func invalid(_ name: String, _ reason: String) -> ModelRuntimeError {
        .invalidAttribute(op: op, attribute: name, reason: reason)
    }

    func unsupported(_ name: String, _ reason: String) -> ModelRuntimeError {
        .unsupportedAttribute(op: op, attribute: name, reason: reason)
    }
}
