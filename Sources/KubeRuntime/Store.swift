import KubeClient
import KubeCore
import Synchronization

/// The reflector's cache of one kind: objects by namespace/name, secondary indexes (e.g.
/// InferenceServices by model name), and whether the first list has been seen (readiness).
/// Safe to read from any task.
public final class Store<K: Resource>: Sendable {
    /// A secondary index: object → the index values it is listed under.
    public typealias IndexFunction = @Sendable (K) -> [String]

    private struct State {
        var objects: [ObjectKey: K] = [:]
        var indexes: [String: [String: Set<ObjectKey>]] = [:]
        var pending: [ObjectKey: K]?
        var synced = false
    }

    private let state = Mutex(State())
    private let indexFunctions: [String: IndexFunction]
    private let keepManagedFields: Bool

    /// A store with named secondary indexes. Cached objects drop `metadata.managedFields`
    /// (often the largest part of a small object, and of no use to a reconcile) unless kept.
    public init(indexes: [String: IndexFunction] = [:], keepManagedFields: Bool = false) {
        indexFunctions = indexes
        self.keepManagedFields = keepManagedFields
    }

    private func cached(_ object: K) -> K {
        guard !keepManagedFields, object.metadata.managedFields != nil else { return object }
        var copy = object
        copy.metadata.managedFields = nil
        return copy
    }

    /// Whether the initial list has been loaded.
    public var isSynced: Bool { state.withLock { $0.synced } }

    public func get(_ key: ObjectKey) -> K? { state.withLock { $0.objects[key] } }

    public func list() -> [K] { state.withLock { Array($0.objects.values) } }

    public var count: Int { state.withLock { $0.objects.count } }

    /// The objects listed under `value` in index `name`.
    public func byIndex(_ name: String, _ value: String) -> [K] {
        state.withLock { state in (state.indexes[name]?[value] ?? []).compactMap { state.objects[$0] } }
    }

    /// Applies a watcher event.
    public func apply(_ event: WatcherEvent<K>) {
        state.withLock { state in
            switch event {
            case .initStarted:
                state.pending = [:]
            case .initApply(let object):
                state.pending?[ObjectKey(object)] = cached(object)
            case .initDone:
                let fresh = state.pending ?? [:]
                state.pending = nil
                state.objects = fresh
                state.indexes = [:]
                for (key, object) in fresh { index(object, key, into: &state) }
                state.synced = true
            case .apply(let object):
                let key = ObjectKey(object)
                if let old = state.objects[key] { unindex(old, key, from: &state) }
                let stored = cached(object)
                state.objects[key] = stored
                index(stored, key, into: &state)
            case .delete(let object):
                let key = ObjectKey(object)
                if let old = state.objects.removeValue(forKey: key) { unindex(old, key, from: &state) }
            }
        }
    }

    private func index(_ object: K, _ key: ObjectKey, into state: inout State) {
        for (name, function) in indexFunctions {
            for value in function(object) { state.indexes[name, default: [:]][value, default: []].insert(key) }
        }
    }

    private func unindex(_ object: K, _ key: ObjectKey, from state: inout State) {
        for (name, function) in indexFunctions {
            for value in function(object) { state.indexes[name]?[value]?.remove(key) }
        }
    }
}

/// The identity of an object in the cache and the work queue: namespace and name.
public struct ObjectKey: Hashable, Sendable, CustomStringConvertible {
    public var namespace: String?
    public var name: String

    public init(namespace: String?, name: String) {
        self.namespace = namespace
        self.name = name
    }

    public init(_ object: some KubernetesObject) {
        namespace = object.metadata.namespace
        name = object.metadata.name ?? ""
    }

    public var description: String { namespace.map { "\($0)/\(name)" } ?? name }
}
