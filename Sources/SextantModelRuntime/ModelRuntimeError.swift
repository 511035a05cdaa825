import Foundation

/// Every error the model runtime throws: load-time problems (bad bytes, unsupported
/// operators, opsets or attributes, malformed graphs) and request-time problems (wrong
/// input names, element types or shapes).
///
/// Messages name the operator (`domain.op_type` and node name), the input or the
/// attribute involved, so they can be shown to a client as they are.
public enum ModelRuntimeError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// The bytes are not a valid ONNX `ModelProto`, or the model has no graph.
    case invalidModel(String)
    /// The model imports an opset version this runtime does not implement.
    case unsupportedOpset(domain: String, version: Int64)
    /// A node uses an operator this runtime does not implement.
    case unsupportedOperator(domain: String, opType: String, node: String)
    /// A node carries an attribute value this runtime does not implement.
    case unsupportedAttribute(op: String, attribute: String, reason: String)
    /// A node's attribute is missing, of the wrong type, or inconsistent with others.
    case invalidAttribute(op: String, attribute: String, reason: String)
    /// The graph is malformed: unknown value names, cycles, duplicate outputs, ...
    case invalidGraph(String)
    /// A tensor (initializer or request input) is malformed.
    case invalidTensor(String)
    /// The request names an input the model does not have.
    case unknownInput(name: String, expected: [String])
    /// The request lacks one of the model's inputs.
    case missingInput(name: String)
    /// A request input has the wrong element type.
    case inputTypeMismatch(name: String, expected: ElementType, actual: ElementType)
    /// A request input has the wrong rank or a wrong fixed dimension.
    case inputShapeMismatch(name: String, expected: [Int], actual: [Int])
    /// An operator could not evaluate its inputs (shape mismatch, index out of range, ...).
    case evaluationFailed(op: String, reason: String)

    /// A one-line message naming the operator, input or attribute involved.
    public var description: String {
        switch self {
        case .invalidModel(let reason):
            return "invalid ONNX model: \(reason)"
        case .unsupportedOpset(let domain, let version):
            return "unsupported opset: domain '\(domain.isEmpty ? "ai.onnx" : domain)' version \(version)"
        case .unsupportedOperator(let domain, let opType, let node):
            return "unsupported operator \(OperatorName(domain: domain, opType: opType)) (node '\(node)')"
        case .unsupportedAttribute(let op, let attribute, let reason):
            return "\(op): unsupported attribute '\(attribute)': \(reason)"
        case .invalidAttribute(let op, let attribute, let reason):
            return "\(op): invalid attribute '\(attribute)': \(reason)"
        case .invalidGraph(let reason):
            return "invalid graph: \(reason)"
        case .invalidTensor(let reason):
            return "invalid tensor: \(reason)"
        case .unknownInput(let name, let expected):
            return "unknown input '\(name)'; the model's inputs are \(expected.map { "'\($0)'" }.joined(separator: ", "))"
        case .missingInput(let name):
            return "missing input '\(name)'"
        case .inputTypeMismatch(let name, let expected, let actual):
            return "input '\(name)' has element type \(actual), the model expects \(expected)"
        case .inputShapeMismatch(let name, let expected, let actual):
            return "input '\(name)' has shape \(actual), the model expects \(expected) (-1 = any)"
        case .evaluationFailed(let op, let reason):
            return "\(op): \(reason)"
        }
    }

    /// The same message as `description`, for `localizedDescription`.
    public var errorDescription: String? { description }
}

/// The printable name of an operator: `Gemm` for the default domain, `ai.onnx.ml.TreeEnsembleClassifier` otherwise.
struct OperatorName: CustomStringConvertible, Sendable {
    let domain: String
    let opType: String

    var description: String {
        domain.isEmpty || domain == "ai.onnx" ? opType : "\(domain).\(opType)"
    }
}
