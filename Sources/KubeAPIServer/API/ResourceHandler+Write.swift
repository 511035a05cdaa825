import Foundation
import KubeCore

extension ResourceHandler {
    /// POST: admission, then a store create that fails on a name clash.
    func create(_ request: APIRequest) async throws -> APIResponse {
        guard !type.namespaced || namespace != nil else {
            throw APIError.methodNotAllowed("create is only possible in a namespace: POST to /.../namespaces/{namespace}/\(type.resource)")
        }
        let body = try request.bodyJSON()
        let (result, warnings) = try await insert(body, request, recordingManager: true)
        return .ok(result, status: 201, warnings: warnings)
    }

    /// Admits and stores a new object. With `recordingManager`, the request's field manager
    /// becomes the owner of every field (an Update); apply has recorded its own ownership already.
    func insert(_ body: JSONValue, _ request: APIRequest, recordingManager: Bool) async throws -> (JSONValue, [String]) {
        var admitted = try admission.prepareForCreate(body, namespace: namespace, fieldValidation: try fieldValidation(request), now: .now())
        let name = admitted.object["metadata"]?["name"]?.stringValue ?? ""
        if type.namespaced { try await requireActiveNamespace(admitted.object["metadata"]?["namespace"]?.stringValue ?? "") }
        if recordingManager {
            admitted.object = ManagedFields.recordUpdate(
                admitted.object, old: nil, manager: manager(request), operation: "Update", subresource: nil, type: type)
        }
        if type.key == BuiltinResources.customResourceDefinitions.key {
            try checkCRDNames(admitted.object)
        }
        var allocation = ServiceClusterIPs.Allocation()
        if type.key == BuiltinResources.services.key {
            (admitted.object, allocation) = try ServiceClusterIPs.admitCreate(
                admitted.object, allocator: server.clusterIPs, dryRun: request.isDryRun, kind: type)
        }
        if request.isDryRun { return (admitted.object, admitted.warnings) }
        let stored: StoredObject
        do {
            stored = try await store.create(type, admitted.object)
        } catch {
            if let ip = allocation.allocated { server.clusterIPs.release(ip) }
            throw translate(error, name: name)
        }
        return (try await afterWrite(stored), admitted.warnings)
    }

    /// PUT of the object or its status: optimistic concurrency on `metadata.resourceVersion`.
    func update(_ name: String, _ request: APIRequest, subresource: String?) async throws -> APIResponse {
        let body = try request.bodyJSON()
        let namespace = try objectNamespace(request)
        if let bodyNamespace = body["metadata"]?["namespace"]?.stringValue, !bodyNamespace.isEmpty, type.namespaced, bodyNamespace != namespace {
            throw APIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        let old = try await current(name, namespace: namespace)
        let expected = try precondition(body)
        if expected == nil, type.isCustom {
            throw APIError.invalid(
                type, name: name, errors: [FieldError(.invalid, "metadata.resourceVersion", "must be specified for an update", badValue: .integer(0))])
        }
        if let expected, expected != old.revision { throw APIError.conflict(type, name: name) }
        let (result, warnings) = try await write(body, over: old, subresource: subresource, request: request, operation: "Update")
        return .ok(result, warnings: warnings)
    }

    /// PATCH: merge, JSON or strategic merge patch applied to the current object, retried on
    /// a concurrent write unless the patch itself pins a resourceVersion.
    func patch(_ name: String, _ request: APIRequest, subresource: String?) async throws -> APIResponse {
        let namespace = try objectNamespace(request)
        let kind = try PatchKind(contentType: request.contentType, type: type)
        if kind == .apply {
            return try await apply(name, request, subresource: subresource)
        }
        let body = try request.bodyJSON()
        for _ in 0..<8 {
            let old = try await current(name, namespace: namespace)
            let patched = try Patches.apply(kind, body, to: old.object, type: type)
            if let pinned = try precondition(patched), pinned != old.revision { throw APIError.conflict(type, name: name) }
            do {
                let (result, warnings) = try await write(patched, over: old, subresource: subresource, request: request, operation: "Update")
                return .ok(result, warnings: warnings)
            } catch let error as APIError where error.reason == "Conflict" && (try? precondition(body)) == nil {
                continue
            }
        }
        throw APIError.conflict(type, name: name, detail: "the object kept changing while the patch was applied; try again")
    }

    /// Admits `input` as the new state of `old` and stores it, or removes the object when its
    /// last finalizer was removed during deletion.
    func write(_ input: JSONValue, over old: StoredObject, subresource: String?, request: APIRequest, operation: String) async throws -> (JSONValue, [String]) {
        let isService = type.key == BuiltinResources.services.key && subresource != "status"
        var input = subresource == "status" ? input : BuiltinDefaults.applyOnUpdate(input, type)
        if isService { input = ServiceClusterIPs.carryOver(input, old: old.object) }
        var admitted = try admission.prepareForUpdate(input, old: old.object, status: subresource == "status", fieldValidation: try fieldValidation(request))
        let name = old.name
        var allocation = ServiceClusterIPs.Allocation()
        if isService {
            (admitted.object, allocation) = try ServiceClusterIPs.admitUpdate(
                admitted.object, old: old.object, allocator: server.clusterIPs, dryRun: request.isDryRun, kind: type)
        }
        let isDeleting = admitted.object["metadata"]?["deletionTimestamp"] != nil
        let finalizers = admitted.object["metadata"]?["finalizers"]?.arrayValue ?? []
        if !(isDeleting && finalizers.isEmpty), admitted.object.withoutVolatileMetadata == old.object.withoutVolatileMetadata {
            // A no-op write changes nothing, not even the resourceVersion.
            if let ip = allocation.allocated { server.clusterIPs.release(ip) }
            return (old.object, admitted.warnings)
        }
        if operation != "Apply" {
            admitted.object = ManagedFields.recordUpdate(
                admitted.object, old: old.object, manager: manager(request), operation: operation, subresource: subresource, type: type)
        }
        if request.isDryRun { return (admitted.object, admitted.warnings) }
        if isDeleting && finalizers.isEmpty {
            do {
                let removed = try await store.remove(type, namespace: old.namespace, name: name, expectedRevision: old.revision)
                if let ip = allocation.allocated { server.clusterIPs.release(ip) }
                server.objectRemoved(type, old.object)
                return (removed.object, admitted.warnings)
            } catch {
                if let ip = allocation.allocated { server.clusterIPs.release(ip) }
                throw translate(error, name: name)
            }
        }
        let stored: StoredObject
        do {
            stored = try await store.replace(type, admitted.object, expectedRevision: old.revision)
        } catch {
            if let ip = allocation.allocated { server.clusterIPs.release(ip) }
            throw translate(error, name: name)
        }
        if let ip = allocation.released { server.clusterIPs.release(ip) }
        return (try await afterWrite(stored), admitted.warnings)
    }

    /// The field manager of a write: `fieldManager`, else the client's user agent, as the real server does.
    func manager(_ request: APIRequest) -> String {
        if let manager = request.query["fieldManager"], !manager.isEmpty { return manager }
        let agent = request.headers["user-agent"] ?? "unknown"
        return String(agent.split(separator: "/").first ?? "unknown")
    }

    /// Work that follows a write: CRDs become served and get their status.
    private func afterWrite(_ stored: StoredObject) async throws -> JSONValue {
        guard type.key == BuiltinResources.customResourceDefinitions.key else { return stored.object }
        let types = CustomResourceDefinitions.resourceTypes(stored.object)
        if let first = types.first { server.registry.setCustom(group: first.group, resource: first.resource, types: types) }
        var established = stored.object
        established["status"] = CustomResourceDefinitions.establishedStatus(stored.object, now: .now())
        guard established != stored.object else { return stored.object }
        let updated = try? await store.replace(type, established, expectedRevision: stored.revision)
        return updated?.object ?? stored.object
    }

    private func checkCRDNames(_ crd: JSONValue) throws {
        let group = crd["spec"]?["group"]?.stringValue ?? ""
        let plural = crd["spec"]?["names"]?["plural"]?.stringValue ?? ""
        let kind = crd["spec"]?["names"]?["kind"]?.stringValue ?? ""
        if BuiltinResources.all.contains(where: { $0.group == group && $0.resource == plural })
            || server.registry.conflictingNames(group: group, resource: plural, kind: kind)
        {
            throw APIError.invalid(
                type, name: crd["metadata"]?["name"]?.stringValue ?? "",
                errors: [FieldError(.invalid, "spec.names", "names conflict with an existing resource", badValue: .string(plural))])
        }
    }

    private func requireActiveNamespace(_ name: String) async throws {
        guard let stored = await store.get(BuiltinResources.namespaces, namespace: "", name: name) else {
            throw APIError.notFound(BuiltinResources.namespaces, name: name)
        }
        if stored.object["metadata"]?["deletionTimestamp"] != nil {
            throw APIError(
                code: 403, reason: "Forbidden",
                message: "\(type.qualifiedResource) is forbidden: unable to create new content in namespace \(name) because it is being terminated",
                details: [
                    "causes": [["reason": "NamespaceTerminating", "message": .string("namespace \(name) is being terminated"), "field": "metadata.namespace"]]
                ])
        }
    }
}

extension JSONValue {
    /// The object without the metadata every write changes (resourceVersion, managedFields),
    /// for detecting no-op writes.
    var withoutVolatileMetadata: JSONValue {
        var copy = self
        copy["metadata"]?["resourceVersion"] = nil
        copy["metadata"]?["managedFields"] = nil
        return copy
    }
}
