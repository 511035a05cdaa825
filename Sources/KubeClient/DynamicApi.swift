import AsyncHTTPClient
import Foundation
import KubeCore
import NIOCore
import NIOHTTP1

/// Options of a list.
public struct ListParams: Sendable {
    public var labelSelector: String?
    public var fieldSelector: String?
    public var limit: Int?
    public var continueToken: String?
    /// `"0"` lets the server answer from any revision; nil asks for the latest.
    public var resourceVersion: String?

    public init(labelSelector: String? = nil, fieldSelector: String? = nil, limit: Int? = nil, continueToken: String? = nil, resourceVersion: String? = nil) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.limit = limit
        self.continueToken = continueToken
        self.resourceVersion = resourceVersion
    }

    var query: [(String, String)] {
        var query: [(String, String)] = []
        if let labelSelector { query.append(("labelSelector", labelSelector)) }
        if let fieldSelector { query.append(("fieldSelector", fieldSelector)) }
        if let limit { query.append(("limit", String(limit))) }
        if let continueToken { query.append(("continue", continueToken)) }
        if let resourceVersion { query.append(("resourceVersion", resourceVersion)) }
        return query
    }
}

/// Options of a watch.
public struct WatchParams: Sendable {
    public var labelSelector: String?
    public var fieldSelector: String?
    /// Start after this revision (typically a list's); nil starts with the current objects.
    public var resourceVersion: String?
    /// The server ends the watch after this long (the client then resumes).
    public var timeoutSeconds: Int
    public var allowBookmarks: Bool

    public init(
        labelSelector: String? = nil, fieldSelector: String? = nil, resourceVersion: String? = nil, timeoutSeconds: Int = 290, allowBookmarks: Bool = true
    ) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.resourceVersion = resourceVersion
        self.timeoutSeconds = timeoutSeconds
        self.allowBookmarks = allowBookmarks
    }
}

/// Options of a delete.
public struct DeleteParams: Sendable {
    public enum Propagation: String, Sendable { case background = "Background", foreground = "Foreground", orphan = "Orphan" }

    public var propagation: Propagation?
    /// Delete only if the object still has this uid (not deleted and re-created meanwhile).
    public var preconditionUID: String?
    /// Delete only if the object is still at this resourceVersion.
    public var preconditionResourceVersion: String?
    public var dryRun: Bool

    public init(propagation: Propagation? = nil, preconditionUID: String? = nil, preconditionResourceVersion: String? = nil, dryRun: Bool = false) {
        self.propagation = propagation
        self.preconditionUID = preconditionUID
        self.preconditionResourceVersion = preconditionResourceVersion
        self.dryRun = dryRun
    }

    var body: JSONValue {
        var body: JSONValue = ["apiVersion": "v1", "kind": "DeleteOptions"]
        if let propagation { body["propagationPolicy"] = .string(propagation.rawValue) }
        var preconditions: JSONValue = [:]
        if let preconditionUID { preconditions["uid"] = .string(preconditionUID) }
        if let preconditionResourceVersion { preconditions["resourceVersion"] = .string(preconditionResourceVersion) }
        if preconditions != [:] { body["preconditions"] = preconditions }
        if dryRun { body["dryRun"] = ["All"] }
        return body
    }
}

/// A patch and its format.
public enum Patch: Sendable {
    /// RFC 7386 JSON merge patch.
    case merge(JSONValue)
    /// RFC 6902 JSON patch (an array of operations).
    case json(JSONValue)
    /// Strategic merge patch (built-in kinds only).
    case strategic(JSONValue)

    var contentType: String {
        switch self {
        case .merge: "application/merge-patch+json"
        case .json: "application/json-patch+json"
        case .strategic: "application/strategic-merge-patch+json"
        }
    }

    var body: JSONValue {
        switch self {
        case .merge(let body), .json(let body), .strategic(let body): body
        }
    }
}

/// What a delete did: the object is gone, or it waits for finalizers.
public enum DeleteOutcome<Object: Sendable>: Sendable {
    case deleted
    case pending(Object)
}

/// A page of a list.
public struct ObjectList<Object: Sendable>: Sendable {
    public var items: [Object]
    /// The revision the list reflects; watch from here.
    public var resourceVersion: String
    /// Pass to the next list to get the next page.
    public var continueToken: String?
    public var remainingItemCount: Int?
}

/// An event of a watch.
public enum WatchEvent<Object: Sendable>: Sendable {
    case added(Object)
    case modified(Object)
    case deleted(Object)
    /// The server has sent every change up to this revision.
    case bookmark(resourceVersion: String)
}

/// Untyped access to any collection (e.g. Gateway API HTTPRoutes) with JSON objects.
public struct DynamicApi: Sendable {
    public let client: KubernetesClient
    public let resource: GroupVersionResource
    public let namespaced: Bool
    /// The namespace of this handle; nil for cluster-scoped kinds, or all namespaces on reads.
    public let namespace: String?

    public init(client: KubernetesClient, resource: GroupVersionResource, namespaced: Bool, namespace: String?) {
        self.client = client
        self.resource = resource
        self.namespaced = namespaced
        self.namespace = namespaced ? namespace : nil
    }

    func collectionPath() -> String {
        if let namespace { return "\(resource.basePath)/namespaces/\(namespace)/\(resource.resource)" }
        return "\(resource.basePath)/\(resource.resource)"
    }

    func objectPath(_ name: String, subresource: String? = nil) throws -> String {
        guard !namespaced || namespace != nil else {
            throw KubernetesError.configuration("\(resource) is namespaced: use a handle with a namespace for single objects")
        }
        return collectionPath() + "/\(name)" + (subresource.map { "/\($0)" } ?? "")
    }

    public func get(_ name: String, subresource: String? = nil) async throws -> JSONValue {
        try await client.send(.init(.GET, try objectPath(name, subresource: subresource))).body
    }

    public func list(_ params: ListParams = .init()) async throws -> ObjectList<JSONValue> {
        let body = try await client.send(.init(.GET, collectionPath(), query: params.query)).body
        return ObjectList(
            items: body["items"]?.arrayValue ?? [], resourceVersion: body["metadata"]?["resourceVersion"]?.stringValue ?? "",
            continueToken: body["metadata"]?["continue"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 },
            remainingItemCount: body["metadata"]?["remainingItemCount"]?.integerValue.map(Int.init))
    }

    /// Every object, following continue tokens (`pageSize` objects per request).
    public func listAll(_ params: ListParams = .init(), pageSize: Int = 500) async throws -> ObjectList<JSONValue> {
        var params = params
        params.limit = pageSize
        var page = try await list(params)
        var items = page.items
        while let token = page.continueToken {
            params.continueToken = token
            page = try await list(params)
            items += page.items
        }
        return ObjectList(items: items, resourceVersion: page.resourceVersion, continueToken: nil, remainingItemCount: nil)
    }

    public func create(_ object: JSONValue, dryRun: Bool = false, fieldManager: String? = nil) async throws -> JSONValue {
        try await client.send(.init(.POST, collectionPath(), query: writeQuery(dryRun: dryRun, fieldManager: fieldManager), body: Data(object.jsonBytes())))
            .body
    }

    /// Replaces the object; `metadata.resourceVersion` makes it conditional (409 when stale).
    public func update(_ object: JSONValue, subresource: String? = nil, dryRun: Bool = false, fieldManager: String? = nil) async throws -> JSONValue {
        let name = object["metadata"]?["name"]?.stringValue ?? ""
        return try await client.send(
            .init(
                .PUT, try objectPath(name, subresource: subresource), query: writeQuery(dryRun: dryRun, fieldManager: fieldManager),
                body: Data(object.jsonBytes()))
        ).body
    }

    public func patch(_ name: String, _ patch: Patch, subresource: String? = nil, fieldManager: String? = nil) async throws -> JSONValue {
        try await client.send(
            .init(
                .PATCH, try objectPath(name, subresource: subresource), query: writeQuery(dryRun: false, fieldManager: fieldManager),
                body: Data(patch.body.jsonBytes()), contentType: patch.contentType)
        ).body
    }

    /// Server-side apply of a (partial) configuration owned by `fieldManager`.
    public func apply(_ configuration: JSONValue, fieldManager: String, force: Bool = false, subresource: String? = nil) async throws -> JSONValue {
        let name = configuration["metadata"]?["name"]?.stringValue ?? ""
        var query = [("fieldManager", fieldManager)]
        if force { query.append(("force", "true")) }
        return try await client.send(
            .init(
                .PATCH, try objectPath(name, subresource: subresource), query: query, body: Data(configuration.jsonBytes()),
                contentType: "application/apply-patch+yaml")
        ).body
    }

    public func delete(_ name: String, _ params: DeleteParams = .init()) async throws -> DeleteOutcome<JSONValue> {
        let body = try await client.send(.init(.DELETE, try objectPath(name), body: Data(params.body.jsonBytes()))).body
        if body["kind"]?.stringValue == "Status" { return .deleted }
        return .pending(body)
    }

    /// Watches the collection. The stream ends when the server ends the watch (resume from the
    /// last event's or bookmark's resourceVersion); a `410 Gone` is thrown as `KubernetesError.gone`.
    public func watch(_ params: WatchParams = .init()) -> WatchStream<WatchEvent<JSONValue>> {
        var query: [(String, String)] = [("watch", "true"), ("timeoutSeconds", String(params.timeoutSeconds))]
        if let labelSelector = params.labelSelector { query.append(("labelSelector", labelSelector)) }
        if let fieldSelector = params.fieldSelector { query.append(("fieldSelector", fieldSelector)) }
        if let resourceVersion = params.resourceVersion { query.append(("resourceVersion", resourceVersion)) }
        if params.allowBookmarks { query.append(("allowWatchBookmarks", "true")) }
        let request = KubernetesClient.Request(.GET, collectionPath(), query: query)
        let client = self.client
        let timeout = Duration.seconds(params.timeoutSeconds + 30)
        return WatchStream {
            AsyncThrowingStream { continuation in
                let task = Task {
                    do {
                        let response = try await client.stream(request, timeout: timeout)
                        var lines = LineSplitter()
                        for try await chunk in response.body {
                            for line in lines.append(chunk) {
                                continuation.yield(try DynamicApi.event(line))
                            }
                        }
                        continuation.finish()
                    } catch {
                        continuation.finish(throwing: error)
                    }
                }
                continuation.onTermination = { _ in task.cancel() }
            }
        }
    }

    static func event(_ line: [UInt8]) throws -> WatchEvent<JSONValue> {
        let event: JSONValue
        do {
            event = try JSONValue(parsing: Data(line))
        } catch {
            throw KubernetesError.decoding("watch event is not JSON: \(error)")
        }
        let object = event["object"] ?? .null
        switch event["type"]?.stringValue {
        case "ADDED": return .added(object)
        case "MODIFIED": return .modified(object)
        case "DELETED": return .deleted(object)
        case "BOOKMARK": return .bookmark(resourceVersion: object["metadata"]?["resourceVersion"]?.stringValue ?? "")
        case "ERROR": throw KubernetesError.from(code: Int(object["code"]?.integerValue ?? 500), body: object, retryAfter: nil)
        default: throw KubernetesError.decoding("unknown watch event type \(event["type"]?.jsonString() ?? "none")")
        }
    }

    private func writeQuery(dryRun: Bool, fieldManager: String?) -> [(String, String)] {
        var query: [(String, String)] = []
        if dryRun { query.append(("dryRun", "All")) }
        if let fieldManager { query.append(("fieldManager", fieldManager)) }
        return query
    }
}

/// Splits a chunked stream into lines, keeping a partial line until its newline arrives
/// (a chunk boundary can fall anywhere, including inside a multi-byte character).
struct LineSplitter {
    private var pending: [UInt8] = []

    mutating func append(_ chunk: ByteBuffer) -> [[UInt8]] {
        pending.append(contentsOf: chunk.readableBytesView)
        var lines: [[UInt8]] = []
        var start = 0
        while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
            if newline > start { lines.append(Array(pending[start..<newline])) }
            start = newline + 1
        }
        pending.removeFirst(start)
        return lines
    }
}
