import KubeCore

extension APIServer {
    /// `/api`, `/apis`, `/apis/{group}` and `/api[s]/{group}/{version}`, in the legacy format
    /// or, when the client asks for it, the aggregated `apidiscovery.k8s.io/v2` format.
    func discovery(_ target: RequestTarget, _ request: APIRequest) throws -> APIResponse {
        let aggregatedVersion = Self.aggregatedDiscoveryVersion(request.headers["accept"] ?? "")
        switch target {
        case .coreVersions:
            if let aggregatedVersion { return aggregated(groups: [""], version: aggregatedVersion) }
            return .ok(["kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"]]])
        case .groupList:
            if let aggregatedVersion { return aggregated(groups: registry.groups, version: aggregatedVersion) }
            return .ok(["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(registry.groups.map(groupJSON))])
        case .group(let name):
            guard registry.groups.contains(name) else { throw APIError.notFound(path: request.path) }
            var group = groupJSON(name)
            group["kind"] = "APIGroup"
            group["apiVersion"] = "v1"
            return .ok(group)
        case .resourceList(let group, let version):
            let types = registry.all.filter { $0.group == group && $0.version == version }
            guard !types.isEmpty else { throw APIError.notFound(path: request.path) }
            return .ok([
                "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(types[0].groupVersion),
                "resources": .array(types.flatMap(resourceJSON)),
            ])
        default:
            throw APIError.notFound(path: request.path)
        }
    }

    /// The first aggregated-discovery version (`v2`, `v2beta1`) the Accept header lists, if any.
    static func aggregatedDiscoveryVersion(_ accept: String) -> String? {
        for range in accept.split(separator: ",") where range.contains("as=APIGroupDiscoveryList") && range.contains("g=apidiscovery.k8s.io") {
            let parameters = range.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            if let version = parameters.first(where: { $0.hasPrefix("v=") })?.dropFirst(2), version == "v2" || version == "v2beta1" {
                return String(version)
            }
        }
        return nil
    }

    private func groupJSON(_ name: String) -> JSONValue {
        let versions = registry.versions(of: name).map { version -> JSONValue in
            ["groupVersion": .string(name.isEmpty ? version : "\(name)/\(version)"), "version": .string(version)]
        }
        return ["name": .string(name), "versions": .array(versions), "preferredVersion": versions.first ?? [:]]
    }

    private func resourceJSON(_ type: ResourceType) -> [JSONValue] {
        var main: JSONValue = [
            "name": .string(type.resource), "singularName": .string(type.singular), "namespaced": .bool(type.namespaced),
            "kind": .string(type.kind), "verbs": .array(type.verbs.map(JSONValue.string)),
        ]
        if !type.shortNames.isEmpty { main["shortNames"] = .array(type.shortNames.map(JSONValue.string)) }
        if !type.categories.isEmpty { main["categories"] = .array(type.categories.map(JSONValue.string)) }
        var result = [main]
        if type.hasStatus {
            result.append([
                "name": .string("\(type.resource)/status"), "singularName": "", "namespaced": .bool(type.namespaced), "kind": .string(type.kind),
                "verbs": ["get", "patch", "update"],
            ])
        }
        if type.key == BuiltinResources.pods.key {
            result.append(["name": "pods/log", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get"]])
        }
        if type.scale != nil {
            result.append([
                "name": .string("\(type.resource)/scale"), "singularName": "", "namespaced": .bool(type.namespaced), "group": "autoscaling", "version": "v1",
                "kind": "Scale", "verbs": ["get", "patch", "update"],
            ])
        }
        return result
    }

    /// Aggregated discovery (`APIGroupDiscoveryList`), one document for all groups.
    private func aggregated(groups: [String], version: String) -> APIResponse {
        let items: [JSONValue] = groups.map { group in
            let versions = registry.versions(of: group).map { groupVersion -> JSONValue in
                let resources = registry.all.filter { $0.group == group && $0.version == groupVersion }.map { type -> JSONValue in
                    var resource: JSONValue = [
                        "resource": .string(type.resource), "singularResource": .string(type.singular),
                        "responseKind": ["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)],
                        "scope": .string(type.namespaced ? "Namespaced" : "Cluster"), "verbs": .array(type.verbs.map(JSONValue.string)),
                    ]
                    if !type.shortNames.isEmpty { resource["shortNames"] = .array(type.shortNames.map(JSONValue.string)) }
                    if !type.categories.isEmpty { resource["categories"] = .array(type.categories.map(JSONValue.string)) }
                    var subresources: [JSONValue] = []
                    if type.hasStatus {
                        subresources.append([
                            "subresource": "status",
                            "responseKind": ["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)],
                            "verbs": ["get", "patch", "update"],
                        ])
                    }
                    if type.scale != nil {
                        subresources.append([
                            "subresource": "scale", "responseKind": ["group": "autoscaling", "version": "v1", "kind": "Scale"],
                            "verbs": ["get", "patch", "update"],
                        ])
                    }
                    if !subresources.isEmpty { resource["subresources"] = .array(subresources) }
                    return resource
                }
                return ["version": .string(groupVersion), "resources": .array(resources), "freshness": "Current"]
            }
            return ["metadata": ["name": .string(group)], "versions": .array(versions)]
        }
        let body: JSONValue = [
            "kind": "APIGroupDiscoveryList", "apiVersion": .string("apidiscovery.k8s.io/\(version)"), "metadata": [:], "items": .array(items),
        ]
        return .json(status: 200, body: body, headers: ["content-type": "application/json;g=apidiscovery.k8s.io;v=\(version);as=APIGroupDiscoveryList"])
    }
}
