import Foundation
import KubeClient
import KubeCore
import Logging

/// What a watcher reports: a (re)list in three steps, then changes.
public enum WatcherEvent<K: Sendable>: Sendable {
    /// A list starts; the objects that follow replace everything known.
    case initStarted
    /// One object of the list.
    case initApply(K)
    /// The list is complete.
    case initDone
    /// An object was created or changed.
    case apply(K)
    /// An object was deleted.
    case delete(K)
}

/// Lists, then watches from the list's resourceVersion; resumes from the last seen revision
/// (events and bookmarks) when a watch ends; re-lists on `410 Gone`; backs off on errors.
/// A small state machine, as kube-rs's `watcher`:
///
/// 1. `empty` → list (paginated) → emit `initStarted`, `initApply`…, `initDone` → `watching(rv)`.
/// 2. `watching(rv)` → watch from rv; every event and bookmark advances rv; a watch that ends
///    normally is reopened from rv.
/// 3. A `410 Gone` (compacted rv) → `empty` (re-list). Other errors → jittered back-off, then
///    retry from the same state.
public struct Watcher<K: Resource>: AsyncSequence, Sendable {
    public typealias Element = WatcherEvent<K>

    let api: Api<K>
    let labelSelector: String?
    let fieldSelector: String?
    let pageSize: Int
    let watchTimeoutSeconds: Int
    let metrics: RuntimeMetrics?
    let logger: Logger

    public init(
        api: Api<K>, labelSelector: String? = nil, fieldSelector: String? = nil, pageSize: Int = 500,
        watchTimeoutSeconds: Int = 290, metrics: RuntimeMetrics? = nil, logger: Logger = Logger(label: "sextant.watcher")
    ) {
        self.api = api
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.pageSize = pageSize
        self.watchTimeoutSeconds = watchTimeoutSeconds
        self.metrics = metrics
        self.logger = logger
    }

    public func makeAsyncIterator() -> AsyncStream<WatcherEvent<K>>.Iterator {
        let (stream, continuation) = AsyncStream<WatcherEvent<K>>.makeStream(bufferingPolicy: .unbounded)
        let task = Task { await self.loop(continuation) }
        continuation.onTermination = { _ in task.cancel() }
        return stream.makeAsyncIterator()
    }

    private func loop(_ output: AsyncStream<WatcherEvent<K>>.Continuation) async {
        var resourceVersion: String?
        var failures = 0
        while !Task.isCancelled {
            do {
                if resourceVersion == nil {
                    let list = try await api.listAll(ListParams(labelSelector: labelSelector, fieldSelector: fieldSelector), pageSize: pageSize)
                    output.yield(.initStarted)
                    for item in list.items { output.yield(.initApply(item)) }
                    output.yield(.initDone)
                    resourceVersion = list.resourceVersion
                }
                let params = WatchParams(
                    labelSelector: labelSelector, fieldSelector: fieldSelector, resourceVersion: resourceVersion, timeoutSeconds: watchTimeoutSeconds,
                    allowBookmarks: true)
                for try await event in api.watch(params) {
                    failures = 0
                    switch event {
                    case .added(let object), .modified(let object):
                        resourceVersion = object.metadata.resourceVersion ?? resourceVersion
                        output.yield(.apply(object))
                    case .deleted(let object):
                        resourceVersion = object.metadata.resourceVersion ?? resourceVersion
                        output.yield(.delete(object))
                    case .bookmark(let version):
                        if !version.isEmpty { resourceVersion = version }
                    }
                }
                metrics?.watchRestarts.increment(["kind": K.kind, "reason": "timeout"])
            } catch KubernetesError.gone {
                logger.debug("resourceVersion expired, re-listing", metadata: ["k8s.kind": "\(K.kind)"])
                metrics?.watchRestarts.increment(["kind": K.kind, "reason": "gone"])
                resourceVersion = nil
            } catch {
                if Task.isCancelled { break }
                failures += 1
                metrics?.watchRestarts.increment(["kind": K.kind, "reason": "error"])
                logger.warning("watch failed", metadata: ["k8s.kind": "\(K.kind)", "error": "\(error)"])
                let delay = Swift.min(0.1 * pow(2, Double(Swift.min(failures, 8))), 30) * Double.random(in: 0.5...1)
                try? await Task.sleep(for: .seconds(delay))
            }
        }
        output.finish()
    }
}
