import Foundation
import KubeCore

/// The in-memory object storage behind the API server, playing etcd's role: one global,
/// monotonically increasing revision; compare-and-swap writes; a bounded history of changes so
/// watches can resume from a recent revision (older ones get `410 Gone`); and fan-out of every
/// change to the watches whose filter it matches.
///
/// The store knows nothing of admission, defaulting or HTTP: callers give it finished objects.
actor ObjectStore {
    /// Why a write was refused.
    enum WriteError: Error, Equatable {
        case alreadyExists
        case notFound
        case conflict
    }

    private var revision: Int64 = 1
    private var collections: [ResourceKey: [String: StoredObject]] = [:]
    private var history: [Change] = []
    private var historyStart = 0
    private let historyLimit: Int
    private var watchers: [ResourceKey: [Int: Watcher]] = [:]
    private var changeListeners: [Int: AsyncStream<Change>.Continuation] = [:]
    private var nextID = 0

    private struct Watcher {
        let type: ResourceType
        let filter: ObjectFilter
        let bookmarks: Bool
        let queue: WatchQueue
    }

    /// An open watch: its queue of events, and how to end it.
    struct Subscription: Sendable {
        let queue: WatchQueue
        let cancel: @Sendable () -> Void
    }

    /// - Parameter historyLimit: changes kept for watch resumption.
    init(historyLimit: Int = 100_000) {
        self.historyLimit = historyLimit
    }

    /// The revision of the latest write.
    var currentRevision: Int64 { revision }

    /// The oldest revision a watch can resume from.
    var oldestResumableRevision: Int64 {
        historyStart < history.count ? history[historyStart].revision - 1 : revision
    }

    // MARK: Reads

    func get(_ type: ResourceType, namespace: String, name: String) -> StoredObject? {
        collections[type.key]?[storageKey(namespace, name)]
    }

    /// A page of matching objects in key order, the revision the list reflects, and the key to
    /// continue after when more remain.
    func list(
        _ type: ResourceType, filter: ObjectFilter, limit: Int?, after startKey: String?
    )
        -> (items: [StoredObject], revision: Int64, lastKey: String?, remaining: Int)
    {
        let collection = collections[type.key] ?? [:]
        var keys = collection.keys.sorted()
        if let namespace = filter.namespace {
            keys = keys.filter { collection[$0]!.namespace == namespace }
        }
        if let startKey {
            keys = Array(keys.drop { $0 <= startKey })
        }
        var items: [StoredObject] = []
        var lastKey: String?
        var remaining = 0
        for key in keys {
            let stored = collection[key]!
            guard filter.matches(stored, type) else { continue }
            if let limit, items.count >= limit {
                remaining += 1
                continue
            }
            items.append(stored)
            lastKey = key
        }
        return (items, revision, remaining > 0 ? lastKey : nil, remaining)
    }

    /// Every object of every collection in a namespace (for namespace deletion and GC).
    func objects(inNamespace namespace: String?) -> [(ResourceKey, StoredObject)] {
        collections.flatMap { key, collection in
            collection.values.filter { namespace == nil || $0.namespace == namespace }.map { (key, $0) }
        }
    }

    // MARK: Writes

    /// Stores a new object; fails if one with the same name exists.
    func create(_ type: ResourceType, _ object: JSONValue) throws(WriteError) -> StoredObject {
        let (namespace, name) = identity(object)
        let key = storageKey(namespace, name)
        guard collections[type.key]?[key] == nil else { throw .alreadyExists }
        let stored = stamp(object, namespace: namespace, name: name)
        collections[type.key, default: [:]][key] = stored
        record(Change(revision: stored.revision, key: type.key, old: nil, new: stored, deleted: false), type)
        return stored
    }

    /// Replaces an object if it is still at `expectedRevision` (any revision when nil).
    func replace(_ type: ResourceType, _ object: JSONValue, expectedRevision: Int64?) throws(WriteError) -> StoredObject {
        let (namespace, name) = identity(object)
        let key = storageKey(namespace, name)
        guard let old = collections[type.key]?[key] else { throw .notFound }
        if let expectedRevision, expectedRevision != old.revision { throw .conflict }
        let stored = stamp(object, namespace: namespace, name: name)
        collections[type.key]![key] = stored
        record(Change(revision: stored.revision, key: type.key, old: old, new: stored, deleted: false), type)
        return stored
    }

    /// Removes an object if it is still at `expectedRevision` (any revision when nil).
    /// The DELETED event carries the last state with a new resourceVersion, as etcd's does.
    @discardableResult
    func remove(_ type: ResourceType, namespace: String, name: String, expectedRevision: Int64?) throws(WriteError) -> StoredObject {
        let key = storageKey(namespace, name)
        guard let old = collections[type.key]?[key] else { throw .notFound }
        if let expectedRevision, expectedRevision != old.revision { throw .conflict }
        collections[type.key]![key] = nil
        let last = stamp(old.object, namespace: namespace, name: name)
        record(Change(revision: last.revision, key: type.key, old: old, new: last, deleted: true), type)
        return last
    }

    /// Drops every object of a resource (when its CRD is deleted), emitting DELETED events.
    func removeAll(_ type: ResourceType) {
        for stored in (collections[type.key] ?? [:]).values {
            _ = try? remove(type, namespace: stored.namespace, name: stored.name, expectedRevision: nil)
        }
        collections[type.key] = nil
    }

    /// Forgets all history, so any watch resuming from an older revision gets `410 Gone`.
    func compact() {
        history.removeAll()
        historyStart = 0
    }

    // MARK: Watches

    /// Starts a watch. With `fromRevision` nil, the stream begins with an ADDED event per
    /// matching object (and, with `initialEventsEndBookmark`, a bookmark after them); otherwise
    /// it replays the changes after that revision. Registration and replay happen in one step,
    /// so no change can fall between them.
    func watch(
        _ type: ResourceType, filter: ObjectFilter, fromRevision: Int64?, bookmarks: Bool,
        initialEventsEndBookmark: Bool = false, bufferLimit: Int = 100_000
    ) throws(APIError) -> Subscription {
        if let fromRevision, fromRevision < oldestResumableRevision {
            throw APIError.expired("too old resource version: \(fromRevision) (\(oldestResumableRevision))")
        }
        let queue = WatchQueue(limit: bufferLimit)
        if let fromRevision {
            for change in history[historyStart...] where change.revision > fromRevision && change.key == type.key {
                if let event = Self.event(for: change, filter: filter, type: type) { queue.push(event) }
            }
        } else {
            let initial = list(type, filter: filter, limit: nil, after: nil).items
            for stored in initial { queue.push(WatchEvent(type: .added, object: stored.object)) }
            if initialEventsEndBookmark {
                queue.push(bookmarkEvent(type, annotations: ["k8s.io/initial-events-end": "true"]))
            }
        }
        let id = nextID
        nextID += 1
        watchers[type.key, default: [:]][id] = Watcher(type: type, filter: filter, bookmarks: bookmarks, queue: queue)
        let key = type.key
        return Subscription(queue: queue) { [weak self] in
            queue.finish()
            Task { await self?.removeWatcher(key, id) }
        }
    }

    /// Sends a BOOKMARK with the current revision to every watch that asked for bookmarks.
    /// Bookmarks travel in order with the events, so a client that sees one has seen every
    /// change up to its revision.
    func emitBookmarks() {
        for (_, byID) in watchers {
            for (_, watcher) in byID where watcher.bookmarks {
                watcher.queue.push(bookmarkEvent(watcher.type, annotations: nil))
            }
        }
    }

    /// Ends every watch (server shutdown).
    func closeAllWatches() {
        for (_, byID) in watchers { for (_, watcher) in byID { watcher.queue.finish() } }
        watchers.removeAll()
        for (_, listener) in changeListeners { listener.finish() }
        changeListeners.removeAll()
    }

    /// Number of open watches (for tests and metrics).
    var watchCount: Int { watchers.values.reduce(0) { $0 + $1.count } }

    /// Every change to every resource, for the server's own controllers (garbage collector,
    /// namespace lifecycle, local runtime).
    func changes() -> AsyncStream<Change> {
        let (stream, continuation) = AsyncStream<Change>.makeStream()
        let id = nextID
        nextID += 1
        changeListeners[id] = continuation
        continuation.onTermination = { [weak self] _ in
            Task { await self?.removeListener(id) }
        }
        return stream
    }

    // MARK: Internals

    private func removeWatcher(_ key: ResourceKey, _ id: Int) {
        watchers[key]?[id] = nil
    }

    private func removeListener(_ id: Int) {
        changeListeners[id] = nil
    }

    private func bookmarkEvent(_ type: ResourceType, annotations: [String: JSONValue]?) -> WatchEvent {
        var metadata: JSONValue = ["resourceVersion": .string(String(revision))]
        if let annotations { metadata["annotations"] = .object(annotations) }
        return WatchEvent(type: .bookmark, object: ["kind": .string(type.kind), "apiVersion": .string(type.groupVersion), "metadata": metadata])
    }

    private func record(_ change: Change, _ type: ResourceType) {
        history.append(change)
        if history.count - historyStart > historyLimit { historyStart += 1 }
        if historyStart > 4096, historyStart * 2 > history.count {
            history.removeFirst(historyStart)
            historyStart = 0
        }
        if let byID = watchers[change.key], !byID.isEmpty {
            let encoded = change.new.object.jsonBytes()
            for (id, watcher) in byID {
                guard var event = Self.event(for: change, filter: watcher.filter, type: watcher.type) else { continue }
                event.encodedObject = encoded
                if !watcher.queue.push(event) {
                    // Ended by its client, or the client cannot keep up: it resumes or re-lists.
                    watchers[change.key]?[id] = nil
                }
            }
        }
        for (_, listener) in changeListeners { listener.yield(change) }
    }

    /// The event a watch with `filter` sees for a change: objects moving into the filter are
    /// ADDED, out of it DELETED.
    private static func event(for change: Change, filter: ObjectFilter, type: ResourceType) -> WatchEvent? {
        let newMatches = filter.matches(change.new, type)
        if change.deleted { return newMatches ? WatchEvent(type: .deleted, object: change.new.object) : nil }
        let oldMatches = change.old.map { filter.matches($0, type) } ?? false
        switch (oldMatches, newMatches) {
        case (false, true): return WatchEvent(type: .added, object: change.new.object)
        case (true, true): return WatchEvent(type: .modified, object: change.new.object)
        case (true, false): return WatchEvent(type: .deleted, object: change.new.object)
        case (false, false): return nil
        }
    }

    private func stamp(_ object: JSONValue, namespace: String, name: String) -> StoredObject {
        revision += 1
        var stamped = object
        var metadata = stamped["metadata"] ?? [:]
        metadata["resourceVersion"] = .string(String(revision))
        stamped["metadata"] = metadata
        return StoredObject(object: stamped, revision: revision, namespace: namespace, name: name)
    }

    private func identity(_ object: JSONValue) -> (String, String) {
        (object["metadata"]?["namespace"]?.stringValue ?? "", object["metadata"]?["name"]?.stringValue ?? "")
    }

    private func storageKey(_ namespace: String, _ name: String) -> String {
        namespace.isEmpty ? name : "\(namespace)/\(name)"
    }
}
