/// A path to a field in an object, printed as Kubernetes prints it: `spec.rollout.steps[1]`,
/// `metadata.labels[app]`.
public struct FieldPath: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The printed path.
    public let description: String

    /// A root path such as `spec`.
    public init(_ root: String) { description = root }
    public init(stringLiteral value: String) { description = value }

    /// The path of a member.
    public func child(_ name: String) -> FieldPath {
        FieldPath(description.isEmpty ? name : "\(description).\(name)")
    }

    /// The path of an array element.
    public func index(_ index: Int) -> FieldPath { FieldPath("\(description)[\(index)]") }

    /// The path of a map entry.
    public func key(_ key: String) -> FieldPath { FieldPath("\(description)[\(key)]") }
}

/// One problem with one field, shaped like `k8s.io/apimachinery/pkg/util/validation/field.Error`
/// so it maps onto a `metav1.StatusCause` of an `Invalid` response.
public struct FieldError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of problem; its raw value is the `StatusCause.reason`.
    public enum Kind: String, Sendable, Hashable {
        case required = "FieldValueRequired"
        case invalid = "FieldValueInvalid"
        case notSupported = "FieldValueNotSupported"
        case duplicate = "FieldValueDuplicate"
        case forbidden = "FieldValueForbidden"
        case tooLong = "FieldValueTooLong"
        case tooMany = "FieldValueTooMany"
        case typeInvalid = "FieldValueTypeInvalid"

        /// The phrase Kubernetes puts before the detail.
        var phrase: String {
            switch self {
            case .required: "Required value"
            case .invalid: "Invalid value"
            case .notSupported: "Unsupported value"
            case .duplicate: "Duplicate value"
            case .forbidden: "Forbidden"
            case .tooLong: "Too long"
            case .tooMany: "Too many"
            case .typeInvalid: "Invalid value"
            }
        }
    }

    /// The kind of problem.
    public var kind: Kind
    /// Where it is.
    public var field: FieldPath
    /// The offending value, when there is one worth printing.
    public var badValue: JSONValue?
    /// What is wrong and, ideally, what to do.
    public var detail: String

    /// Creates a field error.
    public init(_ kind: Kind, _ field: FieldPath, _ detail: String, badValue: JSONValue? = nil) {
        self.kind = kind
        self.field = field
        self.detail = detail
        self.badValue = badValue
    }

    /// `spec.version: Invalid value: 0: must be at least 1`, as the API server writes it.
    public var description: String {
        var text = "\(field): \(kind.phrase)"
        if let badValue, kind != .required, kind != .forbidden { text += ": \(badValue.jsonString())" }
        if !detail.isEmpty { text += ": \(detail)" }
        return text
    }
}

extension Array where Element == FieldError {
    /// All errors, one per line.
    public var summary: String { map(\.description).joined(separator: "\n") }
}
