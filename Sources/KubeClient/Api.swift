import Foundation
import KubeCore

/// Typed access to the objects of one kind, in one namespace (or all, for reads), e.g.
/// `Api<ConfigMap>(client: client, namespace: "default")` or `Api<Model>(...)`.
public struct Api<K: Resource>: Sendable {
    public let dynamic: DynamicApi

    /// A handle on `K` in `namespace`; nil reads across all namespaces (or a cluster-scoped kind).
    public init(client: KubernetesClient, namespace: String?) {
        dynamic = DynamicApi(
            client: client, resource: GroupVersionResource(group: K.group, version: K.version, resource: K.plural),
            namespaced: K.namespaced, namespace: namespace)
    }

    public func get(_ name: String) async throws -> K {
        try Self.decode(try await dynamic.get(name))
    }

    public func list(_ params: ListParams = .init()) async throws -> ObjectList<K> {
        let page = try await dynamic.list(params)
        return ObjectList(
            items: try page.items.map(Self.decode), resourceVersion: page.resourceVersion, continueToken: page.continueToken,
            remainingItemCount: page.remainingItemCount)
    }

    public func listAll(_ params: ListParams = .init(), pageSize: Int = 500) async throws -> ObjectList<K> {
        let all = try await dynamic.listAll(params, pageSize: pageSize)
        return ObjectList(items: try all.items.map(Self.decode), resourceVersion: all.resourceVersion, continueToken: nil, remainingItemCount: nil)
    }

    public func create(_ object: K, dryRun: Bool = false, fieldManager: String? = nil) async throws -> K {
        try Self.decode(try await dynamic.create(try Self.encode(object), dryRun: dryRun, fieldManager: fieldManager))
    }

    /// Replaces the object; conditional on its `metadata.resourceVersion` (409 when stale).
    public func update(_ object: K, fieldManager: String? = nil) async throws -> K {
        try Self.decode(try await dynamic.update(try Self.encode(object), fieldManager: fieldManager))
    }

    /// Replaces the status only, through the status subresource.
    public func updateStatus(_ object: K, fieldManager: String? = nil) async throws -> K {
        try Self.decode(try await dynamic.update(try Self.encode(object), subresource: "status", fieldManager: fieldManager))
    }

    public func patch(_ name: String, _ patch: Patch, subresource: String? = nil, fieldManager: String? = nil) async throws -> K {
        try Self.decode(try await dynamic.patch(name, patch, subresource: subresource, fieldManager: fieldManager))
    }

    /// Server-side apply of a configuration given as JSON (only the fields this manager owns).
    public func apply(_ configuration: JSONValue, fieldManager: String, force: Bool = false, subresource: String? = nil) async throws -> K {
        var configuration = configuration
        if configuration["apiVersion"] == nil { configuration["apiVersion"] = .string(K.apiVersion) }
        if configuration["kind"] == nil { configuration["kind"] = .string(K.kind) }
        return try Self.decode(try await dynamic.apply(configuration, fieldManager: fieldManager, force: force, subresource: subresource))
    }

    public func delete(_ name: String, _ params: DeleteParams = .init()) async throws -> DeleteOutcome<K> {
        switch try await dynamic.delete(name, params) {
        case .deleted: .deleted
        case .pending(let object): .pending(try Self.decode(object))
        }
    }

    /// Watches the kind; see `DynamicApi.watch`.
    public func watch(_ params: WatchParams = .init()) -> WatchStream<WatchEvent<K>> {
        let events = dynamic.watch(params)
        return WatchStream {
            AsyncThrowingStream { continuation in
                let task = Task {
                    do {
                        for try await event in events {
                            switch event {
                            case .added(let object): continuation.yield(.added(try Self.decode(object)))
                            case .modified(let object): continuation.yield(.modified(try Self.decode(object)))
                            case .deleted(let object): continuation.yield(.deleted(try Self.decode(object)))
                            case .bookmark(let version): continuation.yield(.bookmark(resourceVersion: version))
                            }
                        }
                        continuation.finish()
                    } catch {
                        continuation.finish(throwing: error)
                    }
                }
                continuation.onTermination = { _ in task.cancel() }
            }
        }
    }

    static func decode(_ json: JSONValue) throws -> K {
        do {
            return try json.decode(as: K.self)
        } catch {
            throw KubernetesError.decoding("\(K.kind) \(json["metadata"]?["name"]?.stringValue ?? ""): \(error)")
        }
    }

    static func encode(_ object: K) throws -> JSONValue {
        var json = try JSONValue(encoding: object)
        json["apiVersion"] = .string(K.apiVersion)
        json["kind"] = .string(K.kind)
        return json
    }
}
