import Foundation
import KubeClient
import KubeCore
import Logging

/// What a reconcile asks for next.
public struct Action: Sendable, Equatable {
    /// Reconcile again after this long (nil: only when something changes).
    public var requeueAfter: Duration?

    /// Nothing more to do until a change.
    public static let done = Action(requeueAfter: nil)

    /// Look again after `delay` (polling something outside the cluster, a rollout step).
    public static func requeue(after delay: Duration) -> Action { Action(requeueAfter: delay) }
}

/// Runs a reconcile function for every object of a primary kind, as kube-rs's `Controller`:
/// the primary kind is watched into a cache; changes to owned kinds (via controller owner
/// references) and to related kinds (via a mapping function) enqueue their primary objects; N
/// workers take keys from the queue, never two on the same key. A reconcile sees only
/// observed state — the object from the cache — never the event that woke it.
public struct Controller<K: Resource>: Sendable {
    /// What a reconcile gets besides the object.
    public struct Context: Sendable {
        public let client: KubernetesClient
        /// The cache of the primary kind.
        public let store: Store<K>
        public let logger: Logger
    }

    public typealias Reconcile = @Sendable (K, Context) async throws -> Action
    /// Decides what happens after a failed reconcile; nil means exponential back-off per key.
    public typealias ErrorPolicy = @Sendable (K, Error, Context) -> Action?

    public let name: String
    public let store: Store<K>
    let api: Api<K>
    let concurrency: Int
    let resyncPeriod: Duration?
    let retryBaseDelay: Duration
    let metrics: RuntimeMetrics
    let logger: Logger
    /// Where primary events come from: the controller's own watch, or a shared informer.
    private let primaryEvents: @Sendable () -> any AsyncSequence<WatcherEvent<K>, Never> & Sendable
    /// Whether this controller applies primary events to `store` itself (false when an
    /// informer that owns the store already did).
    private let appliesToStore: Bool
    private var triggers: [@Sendable (WorkQueue<ObjectKey>) async -> Void] = []

    /// A controller for the objects `api` sees.
    /// - Parameters:
    ///   - resyncPeriod: when set, every cached object is reconciled again this often, catching
    ///     drift nothing would report (e.g. state outside the cluster).
    ///   - retryBaseDelay: the first back-off after a failed reconcile; it doubles per failure.
    public init(
        name: String, api: Api<K>, concurrency: Int = 2, resyncPeriod: Duration? = nil, retryBaseDelay: Duration = .milliseconds(5),
        indexes: [String: Store<K>.IndexFunction] = [:], metrics: RuntimeMetrics = RuntimeMetrics(), logger: Logger = Logger(label: "sextant.controller")
    ) {
        self.name = name
        self.api = api
        self.resyncPeriod = resyncPeriod
        self.retryBaseDelay = retryBaseDelay
        self.concurrency = max(1, concurrency)
        self.metrics = metrics
        self.logger = logger
        store = Store(indexes: indexes)
        let watcher = Watcher(api: api, metrics: metrics, logger: logger)
        primaryEvents = { watcher }
        appliesToStore = true
    }

    /// A controller whose primary objects come from a shared informer (which must be running):
    /// the controller reads the informer's store and is woken by its events.
    public init(
        name: String, informer: Informer<K>, api: Api<K>, concurrency: Int = 2, resyncPeriod: Duration? = nil,
        retryBaseDelay: Duration = .milliseconds(5), metrics: RuntimeMetrics = RuntimeMetrics(), logger: Logger = Logger(label: "sextant.controller")
    ) {
        self.name = name
        self.api = api
        self.resyncPeriod = resyncPeriod
        self.retryBaseDelay = retryBaseDelay
        self.concurrency = max(1, concurrency)
        self.metrics = metrics
        self.logger = logger
        store = informer.store
        primaryEvents = { informer.events() }
        appliesToStore = false
    }

    /// Also reconcile the objects `mapper` names when an object in a shared informer changes.
    public mutating func watches<Other: Resource>(_ informer: Informer<Other>, mapper: @escaping @Sendable (Other) -> [ObjectKey]) {
        triggers.append { queue in
            for await event in informer.events() {
                switch event {
                case .initApply(let object), .apply(let object), .delete(let object):
                    for key in mapper(object) { await queue.add(key) }
                case .initStarted, .initDone: continue
                }
            }
        }
    }

    /// Also reconcile the controlling owner when an object in a shared informer changes.
    public mutating func owns<Child: Resource>(_ informer: Informer<Child>) {
        let kind = K.kind
        let apiVersion = K.apiVersion
        watches(informer) { child in
            (child.metadata.ownerReferences ?? [])
                .filter { $0.controller == true && $0.kind == kind && $0.apiVersion == apiVersion }
                .map { ObjectKey(namespace: K.namespaced ? child.metadata.namespace : nil, name: $0.name) }
        }
    }

    /// Also reconcile the owner when an object of `Child` it controls changes.
    public mutating func owns<Child: Resource>(_ children: Api<Child>) {
        let kind = K.kind
        let apiVersion = K.apiVersion
        let metrics = metrics
        let logger = logger
        triggers.append { queue in
            for await event in Watcher(api: children, metrics: metrics, logger: logger) {
                let child: Child
                switch event {
                case .initApply(let object), .apply(let object), .delete(let object): child = object
                case .initStarted, .initDone: continue
                }
                for owner in child.metadata.ownerReferences ?? [] where owner.controller == true && owner.kind == kind && owner.apiVersion == apiVersion {
                    await queue.add(ObjectKey(namespace: K.namespaced ? child.metadata.namespace : nil, name: owner.name))
                }
            }
        }
    }

    /// Also reconcile the objects `mapper` names when an object of `Other` changes.
    public mutating func watches<Other: Resource>(_ others: Api<Other>, mapper: @escaping @Sendable (Other) -> [ObjectKey]) {
        let metrics = metrics
        let logger = logger
        triggers.append { queue in
            for await event in Watcher(api: others, metrics: metrics, logger: logger) {
                switch event {
                case .initApply(let object), .apply(let object), .delete(let object):
                    for key in mapper(object) { await queue.add(key) }
                case .initStarted, .initDone: continue
                }
            }
        }
    }

    /// Runs until the task is cancelled; reconciles in flight finish first.
    public func run(reconcile: @escaping Reconcile, errorPolicy: ErrorPolicy? = nil) async {
        let queue = WorkQueue<ObjectKey>(name: name, baseDelay: retryBaseDelay, metrics: metrics)
        let context = Context(client: api.dynamic.client, store: store, logger: logger)
        await withTaskGroup(of: Void.self) { group in
            let store = self.store
            let primary = primaryEvents()
            let appliesToStore = self.appliesToStore
            group.addTask {
                for await event in primary {
                    if appliesToStore { store.apply(event) }
                    switch event {
                    case .apply(let object): await queue.add(ObjectKey(object))
                    // A (re)list becomes visible in the store at its end; only then are its
                    // objects queued, so no worker looks one up before it is there.
                    case .initDone: for object in store.list() { await queue.add(ObjectKey(object)) }
                    case .delete, .initStarted, .initApply: break
                    }
                }
            }
            for trigger in triggers {
                group.addTask { await trigger(queue) }
            }
            if let resyncPeriod {
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: resyncPeriod)
                        for object in store.list() { await queue.add(ObjectKey(object)) }
                    }
                }
            }
            let workers = (0..<concurrency).map { _ in
                Task { await self.work(queue, context: context, reconcile: reconcile, errorPolicy: errorPolicy) }
            }
            await withTaskCancellationHandler {
                for worker in workers { await worker.value }
            } onCancel: {
                Task { await queue.shutdown() }
            }
            group.cancelAll()
        }
    }

    private func work(_ queue: WorkQueue<ObjectKey>, context: Context, reconcile: Reconcile, errorPolicy: ErrorPolicy?) async {
        while let key = await queue.next() {
            guard let object = store.get(key) else {
                await queue.forget(key)
                await queue.done(key)
                continue
            }
            let started = ContinuousClock.now
            do {
                let action = try await reconcile(object, context)
                await queue.forget(key)
                metrics.reconcileTotal.increment(["controller": name, "result": action.requeueAfter == nil ? "success" : "requeue"])
                if let delay = action.requeueAfter { await queue.add(key, after: delay) }
            } catch {
                metrics.reconcileTotal.increment(["controller": name, "result": "error"])
                // A conflict means the cache was behind a write; the newer object is on its way
                // and the retry will see it. Anything else is worth a warning.
                if case KubernetesError.conflict = error {
                    logger.debug("reconcile raced a newer write; retrying", metadata: ["controller": "\(name)", "k8s.object": "\(key)"])
                } else {
                    logger.warning("reconcile failed", metadata: ["controller": "\(name)", "k8s.object": "\(key)", "error": "\(error)"])
                }
                if let action = errorPolicy?(object, error, context), let delay = action.requeueAfter {
                    await queue.add(key, after: delay)
                } else {
                    await queue.addRateLimited(key)
                }
            }
            let elapsed = ContinuousClock.now - started
            metrics.reconcileDuration.observe(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, ["controller": name])
            await queue.done(key)
        }
    }
}
