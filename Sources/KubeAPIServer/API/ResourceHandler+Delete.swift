import Foundation
import KubeCore

extension ResourceHandler {
    /// DELETE of one object: preconditions, propagation policy, finalizers. An object with
    /// finalizers is only marked (`deletionTimestamp`) and answered as it now is; an object
    /// without is removed and answered with a success Status.
    func delete(_ name: String, _ request: APIRequest) async throws -> APIResponse {
        let namespace = try objectNamespace(request)
        let options = try DeleteOptions(request)
        if type.key == BuiltinResources.namespaces.key, ["default", "kube-system", "kube-public"].contains(name) {
            throw APIError(
                code: 403, reason: "Forbidden", message: "namespaces \"\(name)\" is forbidden: this namespace may not be deleted",
                details: APIError.details(type, name: name))
        }
        for _ in 0..<8 {
            let old = try await current(name, namespace: namespace)
            if let uid = options.preconditionUID, uid != old.object["metadata"]?["uid"]?.stringValue {
                throw APIError.conflict(
                    type, name: name,
                    detail:
                        "the UID in the precondition (\(uid)) does not match the UID in record (\(old.object["metadata"]?["uid"]?.stringValue ?? "")). The object might have been deleted and then recreated"
                )
            }
            if let version = options.preconditionResourceVersion, version != String(old.revision) {
                throw APIError.conflict(
                    type, name: name,
                    detail:
                        "the ResourceVersion in the precondition (\(version)) does not match the ResourceVersion in record (\(old.revision)). The object might have been modified"
                )
            }
            var object = old.object
            var finalizers = object["metadata"]?["finalizers"]?.arrayValue?.compactMap(\.stringValue) ?? []
            switch options.propagation {
            case .orphan where !finalizers.contains("orphan"): finalizers.append("orphan")
            case .foreground where !finalizers.contains("foregroundDeletion"): finalizers.append("foregroundDeletion")
            default: break
            }
            if type.key == BuiltinResources.namespaces.key {
                // The namespace lifecycle controller empties it, then removes it.
                object["status"] = ["phase": "Terminating"]
            }
            let hasNamespaceFinalizer = type.key == BuiltinResources.namespaces.key && (object.value(at: ["spec", "finalizers"])?.arrayValue?.isEmpty == false)
            if finalizers.isEmpty && !hasNamespaceFinalizer {
                if request.isDryRun { return .ok(successStatus(old.object)) }
                do {
                    try await store.remove(type, namespace: namespace, name: name, expectedRevision: old.revision)
                    server.objectRemoved(type, old.object)
                } catch .conflict {
                    continue
                } catch {
                    throw translate(error, name: name)
                }
                if type.key == BuiltinResources.customResourceDefinitions.key { await unregisterCustomResource(old.object) }
                return .ok(successStatus(old.object))
            }
            if object["metadata"]?["deletionTimestamp"] == nil {
                object["metadata"]?["deletionTimestamp"] = .string(KubeTime.now().description)
                object["metadata"]?["deletionGracePeriodSeconds"] = 0
                if let generation = object["metadata"]?["generation"]?.integerValue {
                    object["metadata"]?["generation"] = .integer(generation + 1)
                }
            }
            object["metadata"]?["finalizers"] = finalizers.isEmpty ? nil : .array(finalizers.map(JSONValue.string))
            if object == old.object { return .json(status: 202, body: old.object, headers: [:]) }
            if request.isDryRun { return .ok(object) }
            do {
                let stored = try await store.replace(type, object, expectedRevision: old.revision)
                return .ok(stored.object)
            } catch .conflict {
                continue
            } catch {
                throw translate(error, name: name)
            }
        }
        throw APIError.conflict(type, name: name)
    }

    /// DELETE of a collection: every object matching the selectors, one by one.
    func deleteCollection(_ request: APIRequest) async throws -> APIResponse {
        let filter = try self.filter(request)
        let page = await store.list(type, filter: filter, limit: nil, after: nil)
        var deleted: [JSONValue] = []
        for stored in page.items {
            let handler = ResourceHandler(server: server, type: type, namespace: type.namespaced ? stored.namespace : nil)
            if case .json(let status, let body, _) = try await handler.delete(stored.name, request), status < 300 {
                deleted.append(body["kind"]?.stringValue == "Status" ? stored.object : body)
            }
        }
        return .ok([
            "kind": .string(type.kind + "List"), "apiVersion": .string(type.groupVersion),
            "metadata": ["resourceVersion": .string(String(await store.currentRevision))], "items": .array(deleted),
        ])
    }

    /// `{"kind":"Status","status":"Success","details":{…}}`, answered when an object is gone.
    func successStatus(_ object: JSONValue) -> JSONValue {
        [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success",
            "details": [
                "name": object["metadata"]?["name"] ?? "", "group": .string(type.group), "kind": .string(type.resource),
                "uid": object["metadata"]?["uid"] ?? "",
            ],
        ]
    }

    private func unregisterCustomResource(_ crd: JSONValue) async {
        let types = CustomResourceDefinitions.resourceTypes(crd)
        guard let first = types.first else { return }
        server.registry.setCustom(group: first.group, resource: first.resource, types: [])
        await store.removeAll(first)
    }
}

/// The parts of `metav1.DeleteOptions` this server honours, from the body or the query.
struct DeleteOptions {
    enum Propagation: String { case orphan = "Orphan", background = "Background", foreground = "Foreground" }

    var propagation: Propagation = .background
    var preconditionUID: String?
    var preconditionResourceVersion: String?

    init(_ request: APIRequest) throws {
        var body: JSONValue = [:]
        if !request.body.isEmpty, let parsed = try? JSONValue(parsing: request.body) { body = parsed }
        let policy = body["propagationPolicy"]?.stringValue ?? request.query["propagationPolicy"]
        if let policy, !policy.isEmpty {
            guard let parsed = Propagation(rawValue: policy) else {
                throw APIError.badRequest("propagationPolicy must be one of Orphan, Background or Foreground, got \"\(policy)\"")
            }
            propagation = parsed
        } else if body["orphanDependents"]?.boolValue == true || request.query["orphanDependents"] == "true" {
            propagation = .orphan
        }
        preconditionUID = body["preconditions"]?["uid"]?.stringValue
        preconditionResourceVersion = body["preconditions"]?["resourceVersion"]?.stringValue
    }
}
