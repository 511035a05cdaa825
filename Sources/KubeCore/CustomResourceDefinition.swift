/// `apiextensions.k8s.io/v1` CustomResourceDefinition: the fields a CRD author sets.
public struct CustomResourceDefinition: KubernetesObject, Hashable {
    public static let apiVersion = "apiextensions.k8s.io/v1"
    public static let kind = "CustomResourceDefinition"

    public var apiVersion: String = CustomResourceDefinition.apiVersion
    public var kind: String = CustomResourceDefinition.kind
    public var metadata: ObjectMeta
    public var spec: Spec

    /// Creates a CRD named `<plural>.<group>`.
    public init(spec: Spec, annotations: [String: String]? = nil) {
        self.metadata = ObjectMeta(name: "\(spec.names.plural).\(spec.group)", annotations: annotations)
        self.spec = spec
    }

    /// What the CRD serves.
    public struct Spec: Codable, Sendable, Hashable {
        public var group: String
        public var names: Names
        /// `Namespaced` or `Cluster`.
        public var scope: String
        public var versions: [Version]

        public init(group: String, names: Names, scope: String, versions: [Version]) {
            self.group = group
            self.names = names
            self.scope = scope
            self.versions = versions
        }
    }

    /// How the kind is named in URLs and by kubectl.
    public struct Names: Codable, Sendable, Hashable {
        public var plural: String
        public var singular: String
        public var kind: String
        public var listKind: String
        public var shortNames: [String]?
        public var categories: [String]?

        public init(plural: String, singular: String, kind: String, shortNames: [String]? = nil, categories: [String]? = nil) {
            self.plural = plural
            self.singular = singular
            self.kind = kind
            self.listKind = "\(kind)List"
            self.shortNames = shortNames
            self.categories = categories
        }
    }

    /// One served version with its schema.
    public struct Version: Codable, Sendable, Hashable {
        public var name: String
        public var served: Bool
        public var storage: Bool
        public var schema: Validation
        public var subresources: Subresources?
        public var additionalPrinterColumns: [PrinterColumn]?

        public init(
            name: String, served: Bool = true, storage: Bool = true, schema: JSONSchemaProps,
            subresources: Subresources? = nil, printerColumns: [PrinterColumn]? = nil
        ) {
            self.name = name
            self.served = served
            self.storage = storage
            self.schema = Validation(openAPIV3Schema: schema)
            self.subresources = subresources
            self.additionalPrinterColumns = printerColumns
        }
    }

    /// Wrapper for the version's schema.
    public struct Validation: Codable, Sendable, Hashable {
        public var openAPIV3Schema: JSONSchemaProps
    }

    /// `status` and `scale` subresources.
    public struct Subresources: Codable, Sendable, Hashable {
        /// Present (as an empty object) when `/status` is served.
        public var status: JSONValue?
        /// The scale subresource's JSON paths.
        public var scale: Scale?

        public init(status: Bool, scale: Scale? = nil) {
            self.status = status ? .object([:]) : nil
            self.scale = scale
        }
    }

    /// The scale subresource's JSON paths.
    public struct Scale: Codable, Sendable, Hashable {
        public var specReplicasPath: String
        public var statusReplicasPath: String
        public var labelSelectorPath: String?
    }

    /// A column of `kubectl get`.
    public struct PrinterColumn: Codable, Sendable, Hashable {
        public var name: String
        /// `string`, `integer`, `number`, `boolean` or `date`.
        public var type: String
        public var jsonPath: String
        public var description: String?
        /// 0 shows in the default view, higher only with `-o wide`.
        public var priority: Int?
        public var format: String?

        public init(_ name: String, type: String, jsonPath: String, description: String? = nil, priority: Int? = nil) {
            self.name = name
            self.type = type
            self.jsonPath = jsonPath
            self.description = description
            self.priority = priority
        }
    }
}
