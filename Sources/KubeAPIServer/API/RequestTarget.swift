/// What a request path addresses, following the API server's RequestInfo rules.
enum RequestTarget: Equatable {
    case version
    case health(String)
    case coreVersions
    case groupList
    case group(String)
    case resourceList(group: String, version: String)
    case openAPIv2
    case openAPIv3Root
    case openAPIv3(group: String, version: String)
    case resource(ResourcePath)

    /// A path to resources: `/apis/{group}/{version}[/namespaces/{ns}]/{resource}[/{name}[/{subresource}]]`.
    struct ResourcePath: Equatable {
        var group: String
        var version: String
        var namespace: String?
        var resource: String
        var name: String?
        var subresource: String?
    }

    /// Parses a path; `nil` when it addresses nothing the server serves.
    init?(path: String) {
        let parts = path.split(separator: "/").map(String.init)
        switch parts.first {
        case "version" where parts.count == 1: self = .version
        case "healthz", "livez", "readyz": self = .health(parts[0])
        case "openapi":
            if parts == ["openapi", "v2"] { self = .openAPIv2; return }
            if parts == ["openapi", "v3"] { self = .openAPIv3Root; return }
            if parts.count == 4, parts[1] == "v3", parts[2] == "api" { self = .openAPIv3(group: "", version: parts[3]); return }
            if parts.count == 5, parts[1] == "v3", parts[2] == "apis" { self = .openAPIv3(group: parts[3], version: parts[4]); return }
            return nil
        case "api":
            if parts.count == 1 { self = .coreVersions; return }
            if parts.count == 2 { self = .resourceList(group: "", version: parts[1]); return }
            guard let resource = RequestTarget.resourcePath(group: "", version: parts[1], rest: Array(parts[2...])) else { return nil }
            self = .resource(resource)
        case "apis":
            if parts.count == 1 { self = .groupList; return }
            if parts.count == 2 { self = .group(parts[1]); return }
            if parts.count == 3 { self = .resourceList(group: parts[1], version: parts[2]); return }
            guard let resource = RequestTarget.resourcePath(group: parts[1], version: parts[2], rest: Array(parts[3...])) else { return nil }
            self = .resource(resource)
        default:
            return nil
        }
    }

    private static func resourcePath(group: String, version: String, rest: [String]) -> ResourcePath? {
        var rest = rest
        var namespace: String?
        // `/namespaces/{name}` is the namespace itself; `/namespaces/{name}/status|finalize` its subresources.
        if rest.first == "namespaces", rest.count >= 3, !(rest.count == 3 && ["status", "finalize"].contains(rest[2])) {
            namespace = rest[1]
            rest = Array(rest.dropFirst(2))
        }
        guard !rest.isEmpty, rest.count <= 3 else { return nil }
        return ResourcePath(
            group: group, version: version, namespace: namespace, resource: rest[0],
            name: rest.count > 1 ? rest[1] : nil, subresource: rest.count > 2 ? rest[2] : nil)
    }
}
