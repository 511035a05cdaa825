import Foundation
import KubeAPIServer
import KubeClient
import KubeCore
import Logging
import ServiceLifecycle
import SextantTestSupport
import Synchronization
import Testing

@testable import KubeRuntime

/// Watcher and controller against the project's API server over real sockets.
@Suite("Watcher and controller")
struct ControllerTests {
    final class Harness: Sendable {
        let cluster: LocalCluster
        let client: KubernetesClient
        let runner: Task<Void, Error>

        init() async throws {
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            cluster = try await LocalCluster(bookmarkInterval: .seconds(3600), logger: logger)
            let cluster = self.cluster
            runner = Task { try await cluster.run() }
            var configuration = ClientConfiguration(server: cluster.httpURL)
            configuration.maxAttempts = 2
            client = try KubernetesClient(configuration: configuration, logger: logger)
        }

        static func with(_ body: (Harness) async throws -> Void) async throws {
            let harness = try await Harness()
            do { try await body(harness) } catch {
                try? await harness.client.shutdown()
                harness.runner.cancel()
                throw error
            }
            try? await harness.client.shutdown()
            harness.runner.cancel()
            _ = await harness.runner.result
        }
    }

    /// Counts calls per key and checks no key is reconciled twice at once.
    final class Recorder: Sendable {
        private let state = Mutex<(calls: [String: Int], inFlight: Set<String>, overlap: Bool)>(([:], [], false))

        func begin(_ key: String) {
            state.withLock { state in
                if state.inFlight.contains(key) { state.overlap = true }
                state.inFlight.insert(key)
                state.calls[key, default: 0] += 1
            }
        }

        func end(_ key: String) { _ = state.withLock { $0.inFlight.remove(key) } }
        func calls(_ key: String) -> Int { state.withLock { $0.calls[key] ?? 0 } }
        var overlapped: Bool { state.withLock { $0.overlap } }
    }

    @Test("the watcher lists, follows changes, resumes after a watch ends, and re-lists after a 410")
    func watcherRelistsAfterGone() async throws {
        try await Harness.with { harness in
            let maps = Api<ConfigMap>(client: harness.client, namespace: "default")
            _ = try await maps.create(ConfigMap(metadata: ObjectMeta(name: "before", labels: ["app": "watched"])))
            let store = Store<ConfigMap>()
            let inits = Mutex(0)
            // A filtered watch sees no event for other objects, so its resourceVersion falls
            // behind the server's; once the history is compacted, resuming from it gets 410.
            let watching = Task {
                for await event in Watcher(api: maps, labelSelector: "app=watched", watchTimeoutSeconds: 1) {
                    store.apply(event)
                    if case .initDone = event { inits.withLock { $0 += 1 } }
                }
            }
            try await eventually("the first list") { store.isSynced && store.get(ObjectKey(namespace: "default", name: "before")) != nil }
            _ = try await maps.create(ConfigMap(metadata: ObjectMeta(name: "during", labels: ["app": "watched"])))
            try await eventually("the change to arrive") { store.get(ObjectKey(namespace: "default", name: "during")) != nil }
            for index in 0..<3 { _ = try await maps.create(ConfigMap(metadata: ObjectMeta(name: "unrelated-\(index)"))) }
            await harness.cluster.api.compactHistory()
            try await eventually(within: 60, "a re-list after the resumed watch got 410") { inits.withLock { $0 } >= 2 }
            #expect(store.count == 2)
            _ = try await maps.delete("during")
            try await eventually("the deletion to arrive") { store.get(ObjectKey(namespace: "default", name: "during")) == nil }
            watching.cancel()
        }
    }

    @Test("objects that exist before the controller starts are all reconciled after the initial list")
    func initialList() async throws {
        try await Harness.with { harness in
            let maps = Api<ConfigMap>(client: harness.client, namespace: "default")
            for index in 0..<300 { _ = try await maps.create(ConfigMap(metadata: ObjectMeta(name: "existing-\(index)"))) }
            let recorder = Recorder()
            var quiet = Logger(label: "test")
            quiet.logLevel = .critical
            let controller = Controller(name: "initial", api: maps, concurrency: 4, logger: quiet)
            let running = Task {
                await controller.run { object, _ in
                    recorder.begin(object.metadata.name ?? "")
                    recorder.end(object.metadata.name ?? "")
                    return .done
                }
            }
            try await eventually("every existing object to be reconciled") { (0..<300).allSatisfy { recorder.calls("existing-\($0)") >= 1 } }
            running.cancel()
            await running.value
        }
    }

    @Test("reconcile runs per object, owned children wake their owner, requeue-after repeats, failures back off, one worker per key")
    func controller() async throws {
        try await Harness.with { harness in
            let maps = Api<ConfigMap>(client: harness.client, namespace: "default")
            let secrets = Api<Secret>(client: harness.client, namespace: "default")
            let recorder = Recorder()
            let failingAttempts = Mutex<[ContinuousClock.Instant]>([])
            var quiet = Logger(label: "test")
            quiet.logLevel = .critical
            // A 100 ms first back-off makes its doubling larger than any scheduling noise.
            var controller = Controller(name: "test", api: maps, concurrency: 4, retryBaseDelay: .milliseconds(100), logger: quiet)
            controller.owns(secrets)
            let store = controller.store
            let running = Task {
                await controller.run { object, _ in
                    let name = object.metadata.name ?? ""
                    recorder.begin(name)
                    defer { recorder.end(name) }
                    try await Task.sleep(for: .milliseconds(20))
                    switch name {
                    case "poll": return recorder.calls(name) < 3 ? .requeue(after: .milliseconds(50)) : .done
                    case "broken":
                        failingAttempts.withLock { $0.append(ContinuousClock.now) }
                        throw KubernetesError.configuration("boom")
                    default: return .done
                    }
                }
            }
            let owner = try await maps.create(ConfigMap(metadata: ObjectMeta(name: "owner")))
            _ = try await maps.create(ConfigMap(metadata: ObjectMeta(name: "poll")))
            _ = try await maps.create(ConfigMap(metadata: ObjectMeta(name: "broken")))
            try await eventually("the owner's first reconcile") { recorder.calls("owner") >= 1 }
            var child = Secret(metadata: ObjectMeta(name: "child"), stringData: ["k": "v"])
            child.metadata.ownerReferences = [
                OwnerReference(apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata.uid ?? "", controller: true)
            ]
            let before = recorder.calls("owner")
            _ = try await secrets.create(child)
            try await eventually("the child to wake its owner") { recorder.calls("owner") > before }
            try await eventually("poll to be requeued until done") { recorder.calls("poll") == 3 }
            try await eventually("broken to be retried with back-off") { failingAttempts.withLock { $0.count } >= 4 }
            let attempts = failingAttempts.withLock { $0 }
            let gaps = zip(attempts.dropFirst(), attempts).map { $0 - $1 }
            #expect(gaps[0] >= .milliseconds(100), "the first retry waits the base delay: \(gaps)")
            #expect(gaps[2] >= .milliseconds(400), "the third waits four times as long: \(gaps)")
            for index in 0..<10 { _ = try await maps.patch("owner", .merge(["data": ["n": .string(String(index))]])) }
            try await eventually("the burst to be reconciled") { store.get(ObjectKey(namespace: "default", name: "owner"))?.data?["n"] == "9" }
            #expect(!recorder.overlapped, "a key was reconciled by two workers at once")
            running.cancel()
            await running.value
        }
    }
}

@Suite("Controller shutdown and metrics")
struct ControllerShutdownTests {
    @Test("graceful shutdown through a ServiceGroup lets the reconcile in flight finish; API requests are counted")
    func gracefulShutdown() async throws {
        try await ControllerTests.Harness.with { harness in
            let metrics = RuntimeMetrics()
            let client = try KubernetesClient(configuration: harness.client.configuration, observer: metrics)
            let maps = Api<ConfigMap>(client: client, namespace: "default")
            _ = try await maps.create(ConfigMap(metadata: ObjectMeta(name: "slow")))
            var quiet = Logger(label: "test")
            quiet.logLevel = .critical
            let controller = Controller(name: "shutdown", api: maps, metrics: metrics, logger: quiet)
            let progress = ReconcileProgress()
            let service = ControllerService(controller) { _, _ in
                progress.started()
                try? await Task.sleep(for: .milliseconds(300))
                progress.finished()
                return .done
            }
            let group = ServiceGroup(configuration: .init(services: [.init(service: service)], logger: quiet))
            let running = Task { try await group.run() }
            try await eventually("the reconcile to start") { progress.startedCount == 1 }
            await group.triggerGracefulShutdown()
            try await running.value
            #expect(progress.finishedCount == 1, "the reconcile in flight completed before shutdown")
            #expect(metrics.apiRequests.value(["verb": "GET", "code": "200"]) >= 1)
            #expect(metrics.apiRequests.value(["verb": "POST", "code": "201"]) == 1)
            #expect(metrics.reconcileTotal.value(["controller": "shutdown", "result": "success"]) == 1)
            try await client.shutdown()
        }
    }
}

final class ReconcileProgress: Sendable {
    private let state = Mutex((started: 0, finished: 0))
    func started() { state.withLock { $0.started += 1 } }
    func finished() { state.withLock { $0.finished += 1 } }
    var startedCount: Int { state.withLock { $0.started } }
    var finishedCount: Int { state.withLock { $0.finished } }
}
