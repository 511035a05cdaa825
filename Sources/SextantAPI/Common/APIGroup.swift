import KubeCore

/// The Sextant API group and version: `ml.sextant.dev/v1alpha1`.
public enum SextantAPIGroup {
    /// `ml.sextant.dev`
    public static let group = "ml.sextant.dev"
    /// `v1alpha1`
    public static let version = "v1alpha1"
    /// `ml.sextant.dev/v1alpha1`
    public static let apiVersion = "\(group)/\(version)"
    /// The category every Sextant kind belongs to: `kubectl get sextant`.
    public static let category = "sextant"
}

/// What the four Sextant kinds have in common: a spec, an optional status, defaulting,
/// validation and a CRD description.
public protocol SextantResource: Resource, Hashable {
    associatedtype Spec: Codable, Sendable, Hashable
    associatedtype Status: Codable, Sendable, Hashable

    /// `apiVersion`, written on the wire.
    var apiVersion: String { get set }
    /// `kind`, written on the wire.
    var kind: String { get set }
    /// The desired state, written by users (and GitOps tools), never by the operator.
    var spec: Spec { get set }
    /// The observed state, written by the operator through the status subresource.
    var status: Status? { get set }

    /// Plural, singular, short names and categories.
    static var names: CustomResourceDefinition.Names { get }
    /// The `openAPIV3Schema` of the whole object.
    static var openAPISchema: JSONSchemaProps { get }
    /// Columns of `kubectl get`.
    static var printerColumns: [CustomResourceDefinition.PrinterColumn] { get }

    /// The object with every omitted field that has a default filled in (the same defaults
    /// the CRD schema declares).
    func withDefaults() -> Self
    /// Every problem with the object, each naming its field. Empty means valid.
    func validate() -> [FieldError]
}

extension SextantResource {
    public static var group: String { SextantAPIGroup.group }
    public static var version: String { SextantAPIGroup.version }
    public static var plural: String { names.plural }
    public static var namespaced: Bool { true }

    /// The CRD of this kind, generated from its Swift description.
    public static var customResourceDefinition: CustomResourceDefinition {
        CustomResourceDefinition(
            spec: .init(
                group: SextantAPIGroup.group, names: names, scope: "Namespaced",
                versions: [
                    .init(
                        name: SextantAPIGroup.version, schema: openAPISchema,
                        subresources: .init(status: true), printerColumns: printerColumns)
                ]))
    }

    /// The root schema shared by all kinds: apiVersion, kind, metadata, spec (required) and status.
    static func rootSchema(
        description: String, spec: JSONSchemaProps, status: JSONSchemaProps, metadata: JSONSchemaProps? = nil
    ) -> JSONSchemaProps {
        var properties: [String: JSONSchemaProps] = [
            "apiVersion": .string("APIVersion defines the versioned schema of this representation of an object."),
            "kind": .string("Kind is a string value representing the REST resource this object represents."),
            "metadata": metadata ?? JSONSchemaProps.object("Standard object metadata.", properties: [:]),
            "spec": spec,
            "status": status,
        ]
        if metadata == nil { properties["metadata"]?.properties = nil }
        return .object(description, required: ["spec"], properties: properties)
    }
}
