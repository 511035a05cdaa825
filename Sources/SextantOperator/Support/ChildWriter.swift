import KubeClient
import KubeCore
import KubeRuntime

/// Writes the objects a reconcile wants with server-side apply, as field manager
/// `sextant-operator`, and skips a write when the cached object already contains every field
/// the desired one sets — so a steady state costs no API calls.
public struct ChildWriter: Sendable {
    let client: KubernetesClient

    public init(client: KubernetesClient) { self.client = client }

    /// Applies `desired` unless `cached` already contains it. Returns whether it wrote.
    @discardableResult
    public func apply<K: Resource>(_ desired: JSONValue, as kind: K.Type, cached: K?) async throws -> Bool {
        // A typed object encodes without apiVersion and kind, which every desired object sets.
        if let cached, var current = try? JSONValue(encoding: cached) {
            current["apiVersion"] = .string(K.apiVersion)
            current["kind"] = .string(K.kind)
            if current.contains(desired) { return false }
        }
        let namespace = desired["metadata"]?["namespace"]?.stringValue
        _ = try await Api<K>(client: client, namespace: namespace).apply(desired, fieldManager: OperatorLabels.fieldManager, force: true)
        return true
    }

    /// Applies an object of a kind the operator does not cache, addressed by resource.
    public func apply(_ desired: JSONValue, resource: GroupVersionResource) async throws {
        let namespace = desired["metadata"]?["namespace"]?.stringValue
        _ = try await DynamicApi(client: client, resource: resource, namespaced: true, namespace: namespace)
            .apply(desired, fieldManager: OperatorLabels.fieldManager, force: true)
    }

    /// Sets `spec.replicas` with a merge patch.
    public func scale<K: Resource>(_ kind: K.Type, namespace: String?, name: String, to replicas: Int64) async throws {
        _ = try await Api<K>(client: client, namespace: namespace).patch(name, .merge(["spec": ["replicas": .integer(replicas)]]))
    }

    /// Deletes an object; one already gone is fine.
    public func delete<K: Resource>(_ kind: K.Type, namespace: String?, name: String) async throws {
        do {
            _ = try await Api<K>(client: client, namespace: namespace).delete(name, DeleteParams(propagation: .background))
        } catch KubernetesError.notFound {
        }
    }
}
