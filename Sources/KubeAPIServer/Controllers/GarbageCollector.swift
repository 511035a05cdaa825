import KubeCore

/// The server's own controllers, in the role of kube-controller-manager's garbage collector and
/// namespace controller. They react to every stored change:
///
/// 1. An object is gone → its dependents (objects whose `ownerReferences` name its uid) are
///    deleted (background propagation), and owners waiting in foreground deletion are rechecked.
/// 2. An object being deleted with the `orphan` finalizer → its dependents lose their owner
///    reference, then the finalizer is removed.
/// 3. An object being deleted with the `foregroundDeletion` finalizer → its dependents are
///    deleted (foreground); once none that block owner deletion remain, the finalizer is removed.
/// 4. A namespace being deleted → everything in it is deleted; once it is empty its
///    `kubernetes` finalizer is removed and it goes away.
///
/// Guarantees: level-based, each pass looks at current state, so a missed or repeated change
/// is harmless. Caveat: dependents are found by scanning the namespace, which is linear in the
/// number of objects there.
struct GarbageCollector {
    let server: APIServer

    var store: ObjectStore { server.store }

    /// Processes changes until the stream ends.
    func run() async {
        for await change in await store.changes() {
            await process(change)
        }
    }

    func process(_ change: Change) async {
        let object = change.new.object
        let metadata = object["metadata"] ?? [:]
        let uid = metadata["uid"]?.stringValue ?? ""
        if change.deleted {
            await deleteDependents(of: uid, namespace: change.new.namespace, propagation: "Background")
            await recheckForegroundOwners(of: object, namespace: change.new.namespace)
            if !change.new.namespace.isEmpty, let namespace = await store.get(BuiltinResources.namespaces, namespace: "", name: change.new.namespace),
                namespace.object["metadata"]?["deletionTimestamp"] != nil
            {
                await emptyNamespace(namespace)
            }
            return
        }
        guard metadata["deletionTimestamp"] != nil, let type = type(for: change.key) else { return }
        let finalizers = metadata["finalizers"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if finalizers.contains("orphan") {
            await orphanDependents(of: uid, namespace: change.new.namespace)
            await removeFinalizer("orphan", from: change.new, type: type)
        } else if finalizers.contains("foregroundDeletion") {
            await deleteDependents(of: uid, namespace: change.new.namespace, propagation: "Foreground")
            await finishForegroundIfUnblocked(change.new, type: type)
        }
        if type.key == BuiltinResources.namespaces.key {
            await emptyNamespace(change.new)
        }
    }

    // MARK: Dependents

    private func dependents(of uid: String, namespace: String) async -> [(ResourceType, StoredObject)] {
        guard !uid.isEmpty else { return [] }
        let candidates = await store.objects(inNamespace: namespace.isEmpty ? nil : namespace)
        return candidates.compactMap { key, stored in
            let references = stored.object["metadata"]?["ownerReferences"]?.arrayValue ?? []
            guard references.contains(where: { $0["uid"]?.stringValue == uid }), let type = type(for: key) else { return nil }
            return (type, stored)
        }
    }

    private func deleteDependents(of uid: String, namespace: String, propagation: String) async {
        for (type, dependent) in await dependents(of: uid, namespace: namespace) where dependent.object["metadata"]?["deletionTimestamp"] == nil {
            let handler = ResourceHandler(server: server, type: type, namespace: type.namespaced ? dependent.namespace : nil)
            let request = APIRequest(method: "DELETE", target: "/?propagationPolicy=\(propagation)", headers: ["user-agent": "garbage-collector"])
            _ = try? await handler.delete(dependent.name, request)
        }
    }

    private func orphanDependents(of uid: String, namespace: String) async {
        for (type, dependent) in await dependents(of: uid, namespace: namespace) {
            var object = dependent.object
            let references = (object["metadata"]?["ownerReferences"]?.arrayValue ?? []).filter { $0["uid"]?.stringValue != uid }
            object["metadata"]?["ownerReferences"] = references.isEmpty ? nil : .array(references)
            _ = try? await store.replace(type, object, expectedRevision: dependent.revision)
        }
    }

    private func recheckForegroundOwners(of dependent: JSONValue, namespace: String) async {
        for reference in dependent["metadata"]?["ownerReferences"]?.arrayValue ?? [] {
            guard let ownerUID = reference["uid"]?.stringValue else { continue }
            let candidates =
                await store.objects(inNamespace: namespace.isEmpty ? nil : namespace) + (namespace.isEmpty ? [] : await store.objects(inNamespace: ""))
            for (key, owner) in candidates where owner.object["metadata"]?["uid"]?.stringValue == ownerUID {
                if let type = type(for: key) { await finishForegroundIfUnblocked(owner, type: type) }
            }
        }
    }

    private func finishForegroundIfUnblocked(_ owner: StoredObject, type: ResourceType) async {
        guard let uid = owner.object["metadata"]?["uid"]?.stringValue,
            owner.object["metadata"]?["finalizers"]?.arrayValue?.contains("foregroundDeletion") == true
        else { return }
        let blocking = await dependents(of: uid, namespace: owner.namespace).filter { _, dependent in
            (dependent.object["metadata"]?["ownerReferences"]?.arrayValue ?? []).contains {
                $0["uid"]?.stringValue == uid && $0["blockOwnerDeletion"]?.boolValue == true
            }
        }
        if blocking.isEmpty { await removeFinalizer("foregroundDeletion", from: owner, type: type) }
    }

    /// Removes a finalizer; the object goes away when it was the last one.
    private func removeFinalizer(_ finalizer: String, from stored: StoredObject, type: ResourceType) async {
        guard let current = await store.get(type, namespace: stored.namespace, name: stored.name) else { return }
        var object = current.object
        let remaining = (object["metadata"]?["finalizers"]?.arrayValue ?? []).filter { $0.stringValue != finalizer }
        object["metadata"]?["finalizers"] = remaining.isEmpty ? nil : .array(remaining)
        let namespaceHeld = type.key == BuiltinResources.namespaces.key && object.value(at: ["spec", "finalizers"])?.arrayValue?.isEmpty == false
        if remaining.isEmpty && !namespaceHeld {
            if (try? await store.remove(type, namespace: current.namespace, name: current.name, expectedRevision: current.revision)) != nil {
                server.objectRemoved(type, current.object)
            }
        } else {
            _ = try? await store.replace(type, object, expectedRevision: current.revision)
        }
    }

    // MARK: Namespaces

    private func emptyNamespace(_ namespace: StoredObject) async {
        let contents = await store.objects(inNamespace: namespace.name).filter { !$0.1.namespace.isEmpty }
        for (key, stored) in contents where stored.object["metadata"]?["deletionTimestamp"] == nil {
            guard let type = type(for: key) else { continue }
            let handler = ResourceHandler(server: server, type: type, namespace: stored.namespace)
            _ = try? await handler.delete(stored.name, APIRequest(method: "DELETE", target: "/", headers: ["user-agent": "namespace-controller"]))
        }
        let remaining = await store.objects(inNamespace: namespace.name).filter { !$0.1.namespace.isEmpty }
        guard remaining.isEmpty, let current = await store.get(BuiltinResources.namespaces, namespace: "", name: namespace.name) else { return }
        var object = current.object
        object["spec"]?["finalizers"] = nil
        let finalizers = object["metadata"]?["finalizers"]?.arrayValue ?? []
        if finalizers.isEmpty {
            _ = try? await store.remove(BuiltinResources.namespaces, namespace: "", name: namespace.name, expectedRevision: current.revision)
        } else if object != current.object {
            _ = try? await store.replace(BuiltinResources.namespaces, object, expectedRevision: current.revision)
        }
    }

    private func type(for key: ResourceKey) -> ResourceType? {
        server.registry.type(for: key)
    }
}
