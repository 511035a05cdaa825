import KubeCore

extension ResourceHandler {
    /// Server-side apply (`application/apply-patch+yaml`): merges the applied configuration,
    /// tracks ownership per field manager, reports conflicts unless `force=true`, and creates
    /// the object when it does not exist.
    func apply(_ name: String, _ request: APIRequest, subresource: String?) async throws -> APIResponse {
        guard let manager = request.query["fieldManager"], !manager.isEmpty else {
            throw APIError.badRequest("PATCH \(request.path): fieldManager is required for apply requests")
        }
        let force = request.flag("force")
        let body = try request.bodyJSON()
        guard body.objectValue != nil else { throw APIError.badRequest("the applied configuration must be an object") }
        guard body["apiVersion"]?.stringValue == type.groupVersion, body["kind"]?.stringValue == type.kind else {
            throw APIError.badRequest("apiVersion and kind must be set in an applied configuration and match \(type.groupVersion), \(type.kind)")
        }
        if let bodyName = body["metadata"]?["name"]?.stringValue, bodyName != name {
            throw APIError.badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        let namespace = try objectNamespace(request)
        var applied = body
        applied["metadata"]?["name"] = .string(name)
        applied["metadata"]?["managedFields"] = nil
        for _ in 0..<8 {
            guard let old = await store.get(type, namespace: namespace, name: name) else {
                guard subresource == nil else { throw APIError.notFound(type, name: name) }
                let created = try ManagedFields.apply(applied, to: nil, manager: manager, force: force, subresource: nil, type: type)
                do {
                    let (result, warnings) = try await insert(created, request, recordingManager: false)
                    return .ok(result, status: 201, warnings: warnings)
                } catch let error as APIError where error.reason == "AlreadyExists" {
                    continue
                }
            }
            let merged = try ManagedFields.apply(applied, to: old.object, manager: manager, force: force, subresource: subresource, type: type)
            do {
                let (result, warnings) = try await write(merged, over: old, subresource: subresource, request: request, operation: "Apply")
                return .ok(result, warnings: warnings)
            } catch let error as APIError where error.reason == "Conflict" && error.details?["causes"] == nil {
                continue
            }
        }
        throw APIError.conflict(type, name: name, detail: "the object kept changing while the configuration was applied; try again")
    }
}
