import Foundation
import KubeCore
import Synchronization

extension ResourceHandler {
    /// GET of one object (or its status).
    func get(_ name: String, _ request: APIRequest, subresource: String? = nil) async throws -> APIResponse {
        let stored = try await current(name, namespace: try objectNamespace(request))
        if let table = TableRequest(request) {
            return .ok(TableConverter.table(type, objects: [stored.object], revision: stored.revision, include: table.include))
        }
        return .ok(stored.object)
    }

    /// GET of a collection: selectors, pagination, and Table output for kubectl.
    func list(_ request: APIRequest) async throws -> APIResponse {
        let filter = try self.filter(request)
        var limit: Int?
        if let text = request.query["limit"], !text.isEmpty {
            guard let value = Int(text), value >= 0 else { throw APIError.badRequest("limit must be a non-negative integer") }
            limit = value == 0 ? nil : value
        }
        var startKey: String?
        if let token = request.query["continue"], !token.isEmpty {
            let continuation = try ContinueToken(decoding: token)
            if continuation.revision < (await store.oldestResumableRevision) {
                throw APIError.expired(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
            }
            startKey = continuation.startKey
        }
        let page = await store.list(type, filter: filter, limit: limit, after: startKey)
        var metadata: JSONValue = ["resourceVersion": .string(String(page.revision))]
        if let lastKey = page.lastKey {
            metadata["continue"] = .string(ContinueToken(revision: page.revision, startKey: lastKey).encoded)
            metadata["remainingItemCount"] = .integer(Int64(page.remaining))
        }
        if let table = TableRequest(request) {
            var result = TableConverter.table(type, objects: page.items.map(\.object), revision: page.revision, include: table.include)
            result["metadata"] = metadata
            return .ok(result)
        }
        return .ok([
            "kind": .string(type.kind + "List"), "apiVersion": .string(type.groupVersion),
            "metadata": metadata, "items": .array(page.items.map(\.object)),
        ])
    }

    /// A watch: a stream of events, from `resourceVersion` if given, ending after
    /// `timeoutSeconds`.
    func watch(_ request: APIRequest) async throws -> APIResponse {
        let filter = try self.filter(request)
        let versionText = request.query["resourceVersion"] ?? ""
        var fromRevision: Int64?
        if !versionText.isEmpty, versionText != "0" {
            guard let revision = Int64(versionText) else {
                throw APIError.badRequest("invalid resourceVersion \"\(versionText)\": must be one returned by this server")
            }
            fromRevision = revision
        }
        let sendInitialEvents = request.flag("sendInitialEvents")
        if sendInitialEvents { fromRevision = nil }
        let table = TableRequest(request)
        var timeout: Double = 1800
        if let text = request.query["timeoutSeconds"], !text.isEmpty {
            guard let seconds = Double(text), seconds >= 0 else { throw APIError.badRequest("timeoutSeconds must be a non-negative number") }
            timeout = seconds
        }
        let subscription: ObjectStore.Subscription
        do {
            subscription = try await store.watch(
                type, filter: filter, fromRevision: fromRevision, bookmarks: request.flag("allowWatchBookmarks"),
                initialEventsEndBookmark: sendInitialEvents && request.flag("allowWatchBookmarks"))
        } catch {
            // A too-old resource version is reported inside the stream, as the real server does.
            let failure = WatchEvent(type: .error, object: error.status).line
            let sent = Mutex(false)
            let body = WatchBody(
                next: {
                    sent.withLock { done in
                        defer { done = true }; return done ? nil : failure
                    }
                },
                close: {}, timeout: .seconds(timeout))
            return .stream(status: 200, headers: ["content-type": "application/json"], body: body)
        }
        let type = self.type
        let queue = subscription.queue
        let body = WatchBody(
            next: {
                guard let events = await queue.next() else { return nil }
                var bytes: [UInt8] = []
                for event in events {
                    if let table, event.type != .bookmark, event.type != .error {
                        let row = TableConverter.table(type, objects: [event.object], revision: nil, include: table.include)
                        bytes.append(contentsOf: WatchEvent(type: event.type, object: row).line)
                    } else {
                        bytes.append(contentsOf: event.line)
                    }
                }
                return bytes
            },
            close: subscription.cancel, timeout: .seconds(timeout))
        return .stream(status: 200, headers: ["content-type": "application/json"], body: body)
    }

    /// The namespace, label and field filter of a list or watch.
    func filter(_ request: APIRequest) throws -> ObjectFilter {
        let labels = try request.query["labelSelector"].map { try LabelSelector(parsing: $0) } ?? .everything
        let fields = try request.query["fieldSelector"].map { try FieldSelector(parsing: $0, for: type) } ?? .everything
        return ObjectFilter(namespace: type.namespaced ? namespace : nil, labels: labels, fields: fields)
    }
}

/// Whether a request asked for `meta.k8s.io/v1` Table output, and with which objects.
struct TableRequest {
    enum Include: String { case none = "None", metadata = "Metadata", object = "Object" }
    let include: Include

    init?(_ request: APIRequest) {
        guard let accept = request.headers["accept"], accept.contains("as=Table") else { return nil }
        include = Include(rawValue: request.query["includeObject"] ?? "") ?? .metadata
    }
}

/// The opaque `continue` token of a paginated list: the list's revision and the last key served.
struct ContinueToken {
    let revision: Int64
    let startKey: String

    init(revision: Int64, startKey: String) {
        self.revision = revision
        self.startKey = startKey
    }

    init(decoding token: String) throws {
        guard let data = Data(base64Encoded: token), let json = try? JSONValue(parsing: data),
            let revision = json["rv"]?.integerValue, let start = json["start"]?.stringValue
        else { throw APIError.badRequest("continue key is not valid: \(token)") }
        self.revision = revision
        self.startKey = start
    }

    var encoded: String {
        let json: JSONValue = ["rv": .integer(revision), "start": .string(startKey)]
        return (try? json.jsonData().base64EncodedString()) ?? ""
    }
}
