/// `metav1.TypeMeta`: the `apiVersion` and `kind` every object carries.
public protocol KubernetesObject: Codable, Sendable {
    /// The API group and version, e.g. `ml.sextant.dev/v1alpha1`.
    static var apiVersion: String { get }
    /// The kind, e.g. `Model`.
    static var kind: String { get }
    /// Standard object metadata.
    var metadata: ObjectMeta { get set }
}

/// `metav1.ObjectMeta`: the standard metadata of every persisted object.
public struct ObjectMeta: Codable, Sendable, Hashable {
    /// Unique within a namespace; a DNS subdomain for most kinds.
    public var name: String?
    /// Prefix for a server-generated name when `name` is empty.
    public var generateName: String?
    /// The namespace of a namespaced object.
    public var namespace: String?
    /// Server-assigned, unique in time and space.
    public var uid: String?
    /// Opaque version for optimistic concurrency and watches.
    public var resourceVersion: String?
    /// Sequence number of the desired state (spec); bumped by the server.
    public var generation: Int64?
    /// When the server stored the object first.
    public var creationTimestamp: KubeTime?
    /// When deletion was requested; set while finalizers remain.
    public var deletionTimestamp: KubeTime?
    /// Seconds allowed for graceful termination once deletion was requested.
    public var deletionGracePeriodSeconds: Int64?
    /// Identifying key/value pairs used by selectors.
    public var labels: [String: String]?
    /// Non-identifying key/value pairs for tools and people.
    public var annotations: [String: String]?
    /// Objects that own this one; garbage collection follows them.
    public var ownerReferences: [OwnerReference]?
    /// Controllers that must finish cleanup before the object is removed.
    public var finalizers: [String]?
    /// Which field manager owns which fields (server-side apply).
    public var managedFields: [JSONValue]?

    /// Metadata with a name and an optional namespace.
    public init(
        name: String? = nil, namespace: String? = nil,
        labels: [String: String]? = nil, annotations: [String: String]? = nil
    ) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
    }
}

/// `metav1.OwnerReference`: points from a dependent to its owner in the same namespace.
public struct OwnerReference: Codable, Sendable, Hashable {
    /// The owner's API version.
    public var apiVersion: String
    /// The owner's kind.
    public var kind: String
    /// The owner's name.
    public var name: String
    /// The owner's uid; a reference to a re-created owner with another uid is stale.
    public var uid: String
    /// True for the single managing controller.
    public var controller: Bool?
    /// When true, foreground deletion of the owner waits for this dependent.
    public var blockOwnerDeletion: Bool?

    /// Creates an owner reference.
    public init(
        apiVersion: String, kind: String, name: String, uid: String,
        controller: Bool? = nil, blockOwnerDeletion: Bool? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
        self.blockOwnerDeletion = blockOwnerDeletion
    }
}
