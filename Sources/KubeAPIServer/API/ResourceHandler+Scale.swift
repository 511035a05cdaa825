import KubeCore

extension ResourceHandler {
    /// GET of the `autoscaling/v1` Scale of a Deployment, ReplicaSet or custom resource.
    func getScale(_ name: String) async throws -> APIResponse {
        let stored = try await current(name, namespace: namespace ?? "")
        return .ok(scale(of: stored.object))
    }

    /// PUT of a Scale: sets the replicas of the object.
    func updateScale(_ name: String, _ request: APIRequest) async throws -> APIResponse {
        let body = try request.bodyJSON()
        guard let replicas = body["spec"]?["replicas"]?.integerValue, replicas >= 0 else {
            throw APIError.invalid(
                type, name: name,
                errors: [FieldError(.invalid, "spec.replicas", "must be greater than or equal to 0", badValue: body["spec"]?["replicas"] ?? .null)])
        }
        return try await setReplicas(name, replicas, request, expected: try precondition(body))
    }

    /// PATCH of a Scale (merge or JSON patch on the Scale object).
    func patchScale(_ name: String, _ request: APIRequest) async throws -> APIResponse {
        let stored = try await current(name, namespace: namespace ?? "")
        let kind = try PatchKind(contentType: request.contentType, type: type)
        let patched = try Patches.apply(kind == .strategic ? .merge : kind, try request.bodyJSON(), to: scale(of: stored.object), type: type)
        guard let replicas = patched["spec"]?["replicas"]?.integerValue, replicas >= 0 else {
            throw APIError.invalid(type, name: name, errors: [FieldError(.invalid, "spec.replicas", "must be greater than or equal to 0")])
        }
        return try await setReplicas(name, replicas, request, expected: nil)
    }

    private func setReplicas(_ name: String, _ replicas: Int64, _ request: APIRequest, expected: Int64?) async throws -> APIResponse {
        guard let paths = type.scale else { throw APIError.notFound(path: request.path) }
        let old = try await current(name, namespace: namespace ?? "")
        if let expected, expected != old.revision { throw APIError.conflict(type, name: name) }
        let updated = JSONValue.setting(old.object, paths.specReplicas, to: .integer(replicas))
        let (result, _) = try await write(updated, over: old, subresource: nil, request: request, operation: "Update")
        return .ok(scale(of: result))
    }

    private func scale(of object: JSONValue) -> JSONValue {
        let paths = type.scale!
        let metadata = object["metadata"] ?? [:]
        var status: JSONValue = ["replicas": .integer(object.value(at: paths.statusReplicas)?.integerValue ?? 0)]
        if let selectorPath = paths.labelSelector, let selector = object.value(at: selectorPath)?.stringValue {
            status["selector"] = .string(selector)
        } else if let labels = object.value(at: ["spec", "selector", "matchLabels"])?.objectValue {
            status["selector"] = .string(labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.stringValue ?? "")" }.joined(separator: ","))
        }
        return [
            "kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": [
                "name": metadata["name"] ?? "", "namespace": metadata["namespace"] ?? "", "uid": metadata["uid"] ?? "",
                "resourceVersion": metadata["resourceVersion"] ?? "", "creationTimestamp": metadata["creationTimestamp"] ?? "",
            ],
            "spec": ["replicas": .integer(object.value(at: paths.specReplicas)?.integerValue ?? 0)],
            "status": status,
        ]
    }
}

extension JSONValue {
    /// A copy with the value at `path` replaced, creating objects along the way.
    static func setting(_ object: JSONValue, _ path: [String], to value: JSONValue) -> JSONValue {
        guard let first = path.first else { return value }
        var copy = object.objectValue != nil ? object : [:]
        copy[first] = setting(object[first] ?? [:], Array(path.dropFirst()), to: value)
        return copy
    }
}
