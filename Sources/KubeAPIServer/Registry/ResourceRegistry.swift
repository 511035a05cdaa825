import KubeCore
import Synchronization

/// The resources currently served: the built-ins plus one entry per established CRD version.
final class ResourceRegistry: Sendable {
    private let custom = Mutex<[ResourceType]>([])

    /// Every served resource, built-ins first.
    var all: [ResourceType] { BuiltinResources.all + custom.withLock { $0 } }

    /// The resource served at group/version/resource, if any.
    func find(group: String, version: String, resource: String) -> ResourceType? {
        all.first { $0.group == group && $0.version == version && $0.resource == resource }
    }

    /// The served resource stored under `key` (any version).
    func type(for key: ResourceKey) -> ResourceType? {
        all.first { $0.key == key }
    }

    /// The served versions of a group, preferred (first) version first.
    func versions(of group: String) -> [String] {
        var versions: [String] = []
        for type in all where type.group == group && !versions.contains(type.version) { versions.append(type.version) }
        return versions
    }

    /// Group names in discovery order: built-in groups, then custom groups by name.
    var groups: [String] {
        let builtin = BuiltinResources.groupOrder.filter { !$0.isEmpty }
        let customGroups = Set(custom.withLock { $0.map(\.group) }).subtracting(builtin).sorted()
        return builtin + customGroups
    }

    /// Replaces the resources served for one CRD (by group and plural).
    func setCustom(group: String, resource: String, types: [ResourceType]) {
        custom.withLock { list in
            list.removeAll { $0.group == group && $0.resource == resource }
            list.append(contentsOf: types)
        }
    }

    /// Whether a custom resource with these names is served by some other CRD.
    func conflictingNames(group: String, resource: String, kind: String) -> Bool {
        custom.withLock { list in list.contains { $0.group == group && $0.resource != resource && $0.kind == kind } }
    }
}
