import Foundation
import KubeCore
import Logging
import Synchronization

/// The Kubernetes API, transport-independent: takes an `APIRequest`, answers an `APIResponse`.
/// The HTTP server (`HTTPServer`) and tests both drive it.
public final class APIServer: Sendable {
    let store: ObjectStore
    let registry = ResourceRegistry()
    let logger: Logger
    /// The Kubernetes minor version reported by `/version` (kubectl picks its version by it).
    let minorVersion: Int
    /// Allocates Service cluster IPs from the service CIDR.
    let clusterIPs: ClusterIPAllocator
    /// Where the local runtime keeps pod logs (`<namespace>/<pod>/container.log`), when it runs.
    private let podLogDirectory = Mutex<URL?>(nil)

    /// Serves `pods/log` from the local runtime's directory.
    func setPodLogDirectory(_ directory: URL) {
        podLogDirectory.withLock { $0 = directory }
    }

    /// Creates a server with the default namespaces.
    /// - Parameters:
    ///   - historyLimit: changes kept for watch resumption; older resource versions get 410.
    ///   - minorVersion: the Kubernetes 1.x minor version to report.
    ///   - serviceClusterIPRange: where Service cluster IPs come from (`--service-cluster-ip-range`).
    public init(
        historyLimit: Int = 100_000, minorVersion: Int = 33, serviceClusterIPRange: ServiceCIDR = .standard,
        logger: Logger = Logger(label: "sextant.apiserver")
    ) async {
        self.store = ObjectStore(historyLimit: historyLimit)
        self.clusterIPs = ClusterIPAllocator(range: serviceClusterIPRange)
        self.logger = logger
        self.minorVersion = minorVersion
        let now = KubeTime.now()
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let namespace: JSONValue = [
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": [
                    "name": .string(name), "uid": .string(UUID().uuidString.lowercased()), "creationTimestamp": .string(now.description),
                    "labels": ["kubernetes.io/metadata.name": .string(name)],
                ],
                "spec": ["finalizers": ["kubernetes"]], "status": ["phase": "Active"],
            ]
            _ = try? await store.create(BuiltinResources.namespaces, namespace)
        }
    }

    /// Answers one request.
    public func handle(_ request: APIRequest) async -> APIResponse {
        do {
            guard let target = RequestTarget(path: request.path) else { throw APIError.notFound(path: request.path) }
            switch target {
            case .version: return .ok(versionInfo)
            case .health: return .json(status: 200, body: "ok", headers: ["x-plain-text": "ok"])
            case .coreVersions, .groupList, .group, .resourceList:
                guard request.method == "GET" else { throw APIError.methodNotAllowed("the server does not allow this method on the requested resource") }
                return try discovery(target, request)
            case .openAPIv2, .openAPIv3Root, .openAPIv3:
                return try openAPI(target)
            case .resource(let path):
                return try await resource(path, request)
            }
        } catch let error as APIError {
            return .error(error)
        } catch {
            logger.error("unexpected error", metadata: ["error": "\(error)", "path": "\(request.path)"])
            return .error(.internalError("\(error)"))
        }
    }

    /// Stops every watch.
    public func shutdown() async {
        await store.closeAllWatches()
    }

    /// Sends a bookmark to every watch that asked for them.
    public func emitBookmarks() async {
        await store.emitBookmarks()
    }

    /// Forgets the change history: watches resuming from older revisions get 410 Gone (for tests).
    public func compactHistory() async {
        await store.compact()
    }

    /// The range Service cluster IPs are allocated from.
    public var serviceClusterIPRange: ServiceCIDR { clusterIPs.range }

    /// Bookkeeping for an object that has left storage, whichever path removed it: a Service's
    /// cluster IP goes back to the pool.
    func objectRemoved(_ type: ResourceType, _ object: JSONValue) {
        if type.key == BuiltinResources.services.key, let ip = ServiceClusterIPs.heldAddress(object) {
            clusterIPs.release(ip)
        }
    }

    /// Number of open watches.
    public var watchCount: Int {
        get async { await store.watchCount }
    }

    var versionInfo: JSONValue {
        [
            "major": "1", "minor": .string(String(minorVersion)), "gitVersion": .string("v1.\(minorVersion).0-sextant"),
            "gitCommit": "sextant", "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z",
            "goVersion": "swift", "compiler": "swiftc", "platform": "linux/amd64",
        ]
    }

    // MARK: Resource requests

    private func resource(_ path: RequestTarget.ResourcePath, _ request: APIRequest) async throws -> APIResponse {
        guard let type = registry.find(group: path.group, version: path.version, resource: path.resource) else {
            throw APIError.notFound(path: request.path)
        }
        if path.namespace != nil, !type.namespaced { throw APIError.notFound(path: request.path) }
        if type.key == BuiltinResources.pods.key, path.subresource == "log", let name = path.name, request.method == "GET" {
            return try await podLog(namespace: path.namespace ?? "", name: name, request)
        }
        if let subresource = path.subresource, !((subresource == "status" && type.hasStatus) || (subresource == "scale" && type.scale != nil)) {
            throw APIError.notFound(path: request.path)
        }
        let handler = ResourceHandler(server: self, type: type, namespace: path.namespace)
        switch (request.method, path.name, path.subresource) {
        case ("GET", nil, nil):
            return request.flag("watch") ? try await handler.watch(request) : try await handler.list(request)
        case ("GET", let name?, nil): return try await handler.get(name, request)
        case ("GET", let name?, "status"): return try await handler.get(name, request, subresource: "status")
        case ("GET", let name?, "scale"): return try await handler.getScale(name)
        case ("POST", nil, nil): return try await handler.create(request)
        case ("PUT", let name?, nil): return try await handler.update(name, request, subresource: nil)
        case ("PUT", let name?, "status"): return try await handler.update(name, request, subresource: "status")
        case ("PUT", let name?, "scale"): return try await handler.updateScale(name, request)
        case ("PATCH", let name?, nil): return try await handler.patch(name, request, subresource: nil)
        case ("PATCH", let name?, "status"): return try await handler.patch(name, request, subresource: "status")
        case ("PATCH", let name?, "scale"): return try await handler.patchScale(name, request)
        case ("DELETE", let name?, nil): return try await handler.delete(name, request)
        case ("DELETE", nil, nil): return try await handler.deleteCollection(request)
        default:
            throw APIError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
    }

    /// `GET …/pods/{name}/log`: the container's output as plain text (`tailLines` honoured).
    private func podLog(namespace: String, name: String, _ request: APIRequest) async throws -> APIResponse {
        guard await store.get(BuiltinResources.pods, namespace: namespace, name: name) != nil else {
            throw APIError.notFound(BuiltinResources.pods, name: name)
        }
        guard let directory = podLogDirectory.withLock({ $0 }) else {
            throw APIError.badRequest("pod \(name) has no logs: this server runs no containers (start it with --local-runtime)")
        }
        let file = directory.appendingPathComponent(namespace).appendingPathComponent(name).appendingPathComponent("container.log")
        var text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        if let tail = request.query["tailLines"].flatMap(Int.init), tail >= 0 {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let trimmed = lines.last == "" ? lines.dropLast() : lines[...]
            text = trimmed.suffix(tail).joined(separator: "\n") + (trimmed.isEmpty ? "" : "\n")
        }
        return .raw(status: 200, contentType: "text/plain", body: Data(text.utf8))
    }
}
