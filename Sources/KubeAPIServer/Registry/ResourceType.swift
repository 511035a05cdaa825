import KubeCore

/// Identifies a collection in storage: group and plural resource name (versions share storage).
public struct ResourceKey: Hashable, Sendable, CustomStringConvertible {
    public var group: String
    public var resource: String

    public init(group: String, resource: String) {
        self.group = group
        self.resource = resource
    }

    public var description: String { group.isEmpty ? resource : "\(resource).\(group)" }
}

/// A served resource: names, scope, verbs, subresources and, for custom resources, the schema.
public struct ResourceType: Sendable, Hashable {
    public var group: String
    public var version: String
    public var resource: String
    public var singular: String
    public var kind: String
    public var namespaced: Bool
    public var shortNames: [String]
    public var categories: [String]
    /// Whether `/status` is served (and status is ignored on the main resource).
    public var hasStatus: Bool
    /// The scale subresource's paths, when served.
    public var scale: ScalePaths?
    /// The structural schema of a custom resource.
    public var schema: JSONSchemaProps?
    /// Printer columns of a custom resource (built-ins use their own table converters).
    public var printerColumns: [CustomResourceDefinition.PrinterColumn]
    /// Whether this is served from a CustomResourceDefinition.
    public var isCustom: Bool
    /// Extra field selectors beyond metadata.name and metadata.namespace, with their JSON paths.
    public var selectableFields: [String: [String]]

    /// JSON paths of the scale subresource.
    public struct ScalePaths: Sendable, Hashable {
        public var specReplicas: [String]
        public var statusReplicas: [String]
        public var labelSelector: [String]?
    }

    public init(
        group: String, version: String, resource: String, singular: String, kind: String, namespaced: Bool,
        shortNames: [String] = [], categories: [String] = [], hasStatus: Bool = false, scale: ScalePaths? = nil,
        schema: JSONSchemaProps? = nil, printerColumns: [CustomResourceDefinition.PrinterColumn] = [],
        isCustom: Bool = false, selectableFields: [String: [String]] = [:]
    ) {
        self.group = group
        self.version = version
        self.resource = resource
        self.singular = singular
        self.kind = kind
        self.namespaced = namespaced
        self.shortNames = shortNames
        self.categories = categories
        self.hasStatus = hasStatus
        self.scale = scale
        self.schema = schema
        self.printerColumns = printerColumns
        self.isCustom = isCustom
        self.selectableFields = selectableFields
    }

    public var key: ResourceKey { ResourceKey(group: group, resource: resource) }
    /// `apps/v1`, or `v1` for the core group.
    public var groupVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    /// `deployments.apps`, or `pods` for the core group; used in error messages.
    public var qualifiedResource: String { group.isEmpty ? resource : "\(resource).\(group)" }
    /// The verbs advertised in discovery.
    public var verbs: [String] {
        ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
    }
}
