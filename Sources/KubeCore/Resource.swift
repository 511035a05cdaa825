/// A kind served by the Kubernetes API: where its objects live (group, version, plural resource
/// name) and whether they are namespaced. Typed clients are generic over this.
public protocol Resource: KubernetesObject {
    /// The API group, empty for the core group.
    static var group: String { get }
    /// The API version within the group, e.g. `v1`.
    static var version: String { get }
    /// The plural resource name used in URLs, e.g. `deployments`.
    static var plural: String { get }
    /// Whether objects live in a namespace.
    static var namespaced: Bool { get }
}

extension Resource {
    /// `group/version`, or `version` for the core group.
    public static var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
}

/// A group, version and plural resource: the address of a collection.
public struct GroupVersionResource: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var version: String
    public var resource: String

    public init(group: String, version: String, resource: String) {
        self.group = group
        self.version = version
        self.resource = resource
    }

    /// The URL path prefix: `/api/v1` or `/apis/{group}/{version}`.
    public var basePath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    public var description: String { group.isEmpty ? "\(resource).\(version)" : "\(resource).\(version).\(group)" }
}
