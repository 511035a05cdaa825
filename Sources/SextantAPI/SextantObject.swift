import KubeCore

/// Any object of the Sextant API, decoded from JSON or YAML with clear, field-level errors.
public enum SextantObject: Sendable, Hashable {
    case model(Model)
    case modelVersion(ModelVersion)
    case inferenceService(InferenceService)
    case retrainPolicy(RetrainPolicy)

    /// Why a document could not be read as a Sextant object.
    public enum DecodeError: Error, CustomStringConvertible, Equatable {
        /// Not an `ml.sextant.dev/v1alpha1` kind.
        case unknownKind(apiVersion: String, kind: String)
        /// The document breaks the kind's schema.
        case invalid(kind: String, name: String, errors: [FieldError])

        public var description: String {
            switch self {
            case .unknownKind(let apiVersion, let kind):
                "unknown kind \"\(kind)\" in \"\(apiVersion)\": expected \(SextantAPIGroup.apiVersion) Model, ModelVersion, InferenceService or RetrainPolicy"
            case .invalid(let kind, let name, let errors):
                "\(kind) \"\(name)\" is invalid:\n\(errors.summary)"
            }
        }
    }

    /// Decodes a document: checks the apiVersion and kind, applies the schema's defaults,
    /// checks the schema (types, enums, bounds, patterns), then decodes the Swift type.
    /// Unknown fields are reported as errors rather than dropped, like `kubectl --validate=strict`.
    public init(json: JSONValue) throws {
        let apiVersion = json["apiVersion"]?.stringValue ?? ""
        let kind = json["kind"]?.stringValue ?? ""
        guard apiVersion == SextantAPIGroup.apiVersion else { throw DecodeError.unknownKind(apiVersion: apiVersion, kind: kind) }
        switch kind {
        case Model.kind: self = .model(try Self.decode(json, as: Model.self))
        case ModelVersion.kind: self = .modelVersion(try Self.decode(json, as: ModelVersion.self))
        case InferenceService.kind: self = .inferenceService(try Self.decode(json, as: InferenceService.self))
        case RetrainPolicy.kind: self = .retrainPolicy(try Self.decode(json, as: RetrainPolicy.self))
        default: throw DecodeError.unknownKind(apiVersion: apiVersion, kind: kind)
        }
    }

    /// The decoded object.
    public var resource: any SextantResource {
        switch self {
        case .model(let object): object
        case .modelVersion(let object): object
        case .inferenceService(let object): object
        case .retrainPolicy(let object): object
        }
    }

    /// Errors the API server would report for a document of kind `T`, after the schema's
    /// defaults are applied: unknown fields (`FieldValueForbidden`, "unknown field"), schema
    /// violations, and, when those pass, the CEL rules (transition rules need `old`).
    public static func schemaErrors<T: SextantResource>(_ json: JSONValue, as type: T.Type, old: JSONValue? = nil) -> [FieldError] {
        let defaulted = SchemaRewriting.applyDefaults(json, schema: T.openAPISchema)
        let (_, removed) = SchemaRewriting.prune(defaulted, schema: T.openAPISchema)
        let errors =
            removed.map { FieldError(.forbidden, $0, "unknown field") }
            + SchemaValidator.validate(defaulted, against: T.openAPISchema, at: "")
        guard errors.isEmpty else { return errors }
        let oldDefaulted = old.map { SchemaRewriting.applyDefaults($0, schema: T.openAPISchema) }
        return CELValidation.validate(defaulted, old: oldDefaulted, schema: T.openAPISchema, path: "").errors
    }

    private static func decode<T: SextantResource>(_ json: JSONValue, as type: T.Type) throws -> T {
        let name = json["metadata"]?["name"]?.stringValue ?? ""
        let errors = schemaErrors(json, as: type)
        guard errors.isEmpty else { throw DecodeError.invalid(kind: T.kind, name: name, errors: errors) }
        do {
            return try SchemaRewriting.applyDefaults(json, schema: T.openAPISchema).decode(as: T.self)
        } catch {
            throw DecodeError.invalid(kind: T.kind, name: name, errors: [FieldError(.invalid, "", "\(error)")])
        }
    }
}
