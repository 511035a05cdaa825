import KubeClient
import KubeCore

/// The finalizer flow, as kube-rs's `finalizer`:
///
/// 1. The object is live and lacks our finalizer → add it, guarded by the resourceVersion, and
///    stop (the change wakes the controller again).
/// 2. The object is live and carries it → `apply`.
/// 3. The object is being deleted and carries it → `cleanup`, then remove exactly our entry
///    with a JSON-patch `test` + `remove`, so another controller's entry is never touched.
/// 4. The object is being deleted without it → nothing to do.
///
/// Guarantees: cleanup runs before the object can disappear (the server keeps it while a
/// finalizer remains). Assumptions: `cleanup` is idempotent, as it may run again if the removal
/// races with another write. Caveats: a finalizer added to an object whose deletion already
/// started is refused by the server; that object is left alone.
public enum Finalizers {
    public static func run<K: Resource>(
        _ finalizer: String, object: K, api: Api<K>,
        apply: (K) async throws -> Action, cleanup: (K) async throws -> Action
    ) async throws -> Action {
        let name = object.metadata.name ?? ""
        let finalizers = object.metadata.finalizers ?? []
        let deleting = object.metadata.deletionTimestamp != nil
        switch (deleting, finalizers.firstIndex(of: finalizer)) {
        case (false, nil):
            let patch: JSONValue = [
                ["op": "test", "path": "/metadata/resourceVersion", "value": .string(object.metadata.resourceVersion ?? "")],
                ["op": "add", "path": "/metadata/finalizers", "value": .array((finalizers + [finalizer]).map(JSONValue.string))],
            ]
            do {
                _ = try await api.patch(name, .json(patch))
            } catch KubernetesError.invalid(let status) where status.message.contains("testing value") {
                // The cached object is stale: its newer version is on its way and reconciles again.
            }
            return .done
        case (false, _?):
            return try await apply(object)
        case (true, let index?):
            let action = try await cleanup(object)
            let patch: JSONValue = [
                ["op": "test", "path": .string("/metadata/finalizers/\(index)"), "value": .string(finalizer)],
                ["op": "remove", "path": .string("/metadata/finalizers/\(index)")],
            ]
            do {
                _ = try await api.patch(name, .json(patch))
            } catch KubernetesError.notFound {
                return .done
            }
            return action
        case (true, nil):
            return .done
        }
    }
}

/// Owner references for objects a controller creates.
public enum Ownership {
    /// A controller owner reference to `owner`, blocking its foreground deletion.
    public static func controllerReference<Owner: Resource>(to owner: Owner) -> OwnerReference {
        OwnerReference(
            apiVersion: Owner.apiVersion, kind: Owner.kind, name: owner.metadata.name ?? "", uid: owner.metadata.uid ?? "", controller: true,
            blockOwnerDeletion: true)
    }

    /// Whether `object` is controlled by `owner`.
    public static func isControlled(_ object: some KubernetesObject, by owner: some Resource) -> Bool {
        (object.metadata.ownerReferences ?? []).contains { $0.controller == true && $0.uid == owner.metadata.uid }
    }
}
