import KubeClient
import KubeCore
import Logging
import Synchronization

/// One watch of a kind feeding one cache that many controllers share, as controller-runtime's
/// shared informers: a controller reads related objects from `store` and subscribes to `events()`
/// to be woken by changes, so an operator with four controllers opens one watch per kind.
///
/// Guarantees: an event is applied to `store` before any subscriber sees it, so a reconcile
/// woken by an event finds the object (or its absence) in the cache. A subscriber that joins
/// after the first list gets `initDone` at once, meaning "the store is complete".
public final class Informer<K: Resource>: Sendable {
    /// The cache every subscriber reads.
    public let store: Store<K>
    private let watcher: Watcher<K>
    private let subscribers = Mutex<[Int: AsyncStream<WatcherEvent<K>>.Continuation]>([:])
    private let nextSubscriber = Atomic<Int>(0)

    /// An informer for the objects `api` sees, optionally narrowed by a label selector.
    public init(
        api: Api<K>, labelSelector: String? = nil, indexes: [String: Store<K>.IndexFunction] = [:],
        metrics: RuntimeMetrics? = nil, logger: Logger = Logger(label: "sextant.informer")
    ) {
        store = Store(indexes: indexes)
        watcher = Watcher(api: api, labelSelector: labelSelector, metrics: metrics, logger: logger)
    }

    /// Changes from now on. The stream ends when the informer stops or the caller stops iterating.
    public func events() -> AsyncStream<WatcherEvent<K>> {
        let (stream, continuation) = AsyncStream<WatcherEvent<K>>.makeStream(bufferingPolicy: .unbounded)
        let id = nextSubscriber.add(1, ordering: .relaxed).newValue
        subscribers.withLock { subscribers in
            subscribers[id] = continuation
            // Joined late: the list is already in the store.
            if store.isSynced { continuation.yield(.initDone) }
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        return stream
    }

    /// Watches until cancelled, keeping the store current and telling every subscriber.
    public func run() async {
        for await event in watcher {
            // Applying and fanning out under one lock keeps a late subscriber from seeing
            // `initDone` twice or missing the one that completes the list.
            subscribers.withLock { subscribers in
                store.apply(event)
                for continuation in subscribers.values { continuation.yield(event) }
            }
        }
        let remaining = subscribers.withLock { subscribers in
            defer { subscribers.removeAll() }
            return Array(subscribers.values)
        }
        for continuation in remaining { continuation.finish() }
    }

    /// Returns once the first list is in the store (or the task is cancelled).
    public func waitUntilSynced() async {
        if store.isSynced { return }
        for await event in events() {
            if case .initDone = event { return }
        }
    }
}
