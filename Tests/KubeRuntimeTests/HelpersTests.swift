import AsyncHTTPClient
import Foundation
import KubeClient
import KubeCore
import SextantTestSupport
import Synchronization
import Testing

@testable import KubeRuntime

@Suite("Finalizers, events and leader election")
struct HelpersTests {
    @Test("the finalizer flow adds ours, cleans up on deletion, and removes only ours")
    func finalizerFlow() async throws {
        try await ControllerTests.Harness.with { harness in
            let maps = Api<ConfigMap>(client: harness.client, namespace: "default")
            var object = ConfigMap(metadata: ObjectMeta(name: "guarded"))
            object.metadata.finalizers = ["other.example.com/keep"]
            _ = try await maps.create(object)
            let applied = Mutex(0)
            let cleaned = Mutex(0)
            @Sendable func step() async throws -> Action {
                try await Finalizers.run(
                    "sextant.dev/cleanup", object: try await maps.get("guarded"), api: maps,
                    apply: { _ in
                        applied.withLock { $0 += 1 }; return .done
                    },
                    cleanup: { _ in
                        cleaned.withLock { $0 += 1 }; return .done
                    })
            }
            _ = try await step()
            #expect(try await maps.get("guarded").metadata.finalizers == ["other.example.com/keep", "sextant.dev/cleanup"])
            _ = try await step()
            #expect(applied.withLock { $0 } == 1)
            guard case .pending = try await maps.delete("guarded") else { Issue.record("expected the delete to wait"); return }
            _ = try await step()
            #expect(cleaned.withLock { $0 } == 1)
            let remaining = try await maps.get("guarded")
            #expect(remaining.metadata.finalizers == ["other.example.com/keep"], "the other controller's finalizer stays")
            _ = try await maps.patch("guarded", .merge(["metadata": ["finalizers": nil]]))
            await #expect(throws: KubernetesError.self) { try await maps.get("guarded") }
        }
    }

    @Test("repeated events are aggregated into one Event with a count")
    func events() async throws {
        try await ControllerTests.Harness.with { harness in
            let maps = Api<ConfigMap>(client: harness.client, namespace: "default")
            let subject = try await maps.create(ConfigMap(metadata: ObjectMeta(name: "subject")))
            let recorder = EventRecorder(client: harness.client, component: "sextant-operator", instance: "test")
            for _ in 0..<3 { await recorder.record(subject, type: .normal, reason: "Promoted", message: "v2 is now stable") }
            await recorder.record(subject, type: .warning, reason: "RolledBack", message: "error rate 5% > 1%")
            let events = try await Api<Event>(client: harness.client, namespace: "default").list(.init(fieldSelector: "involvedObject.name=subject"))
            #expect(events.items.count == 2)
            let promoted = events.items.first { $0.reason == "Promoted" }
            #expect(promoted?.count == 3)
            #expect(promoted?.involvedObject.kind == "ConfigMap" && promoted?.involvedObject.uid == subject.metadata.uid)
            #expect(events.items.first { $0.reason == "RolledBack" }?.type == "Warning")
        }
    }

    @Test("leader election: one leader at a time, hand-over on release, leadership lost when the lease is taken")
    func leaderElection() async throws {
        try await ControllerTests.Harness.with { harness in
            let leases = Api<Lease>(client: harness.client, namespace: "default")
            let leaders = LeaderLog()
            // A 10 s lease: only a renewal stalled for 10 s (not mere load) would let b in early;
            // release and loss are detected at once, so the test stays fast.
            let electorA = LeaderElector(
                api: leases, leaseName: "sextant-operator", identity: "a", leaseDuration: .seconds(10), renewDeadline: .seconds(8),
                retryPeriod: .milliseconds(100))
            let electorB = LeaderElector(
                api: leases, leaseName: "sextant-operator", identity: "b", leaseDuration: .seconds(10), renewDeadline: .seconds(8),
                retryPeriod: .milliseconds(100))
            let first = Task {
                await electorA.run { @Sendable in
                    leaders.append("a"); while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(20)) }; leaders.append("a stopped")
                }
            }
            try await eventually("a to lead") { leaders.entries == ["a"] }
            let second = Task {
                await electorB.run { @Sendable in
                    leaders.append("b"); while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(20)) }; leaders.append("b stopped")
                }
            }
            try await Task.sleep(for: .milliseconds(500))
            #expect(leaders.entries == ["a"], "b waits while a renews")
            first.cancel()
            await first.value
            try await eventually("b to take over after a released the lease") { leaders.entries == ["a", "a stopped", "b"] }
            let lease = try await leases.get("sextant-operator")
            #expect(lease.spec?.holderIdentity == "b")
            #expect(lease.spec?.leaseTransitions == 1)
            // Someone else takes the lease: b must stop leading. (b renews every 100 ms, so the
            // take may meet a newer version: read it again and retry, as a real contender would.)
            var taken = false
            for _ in 0..<50 where !taken {
                var stolen = try await leases.get("sextant-operator")
                stolen.spec?.holderIdentity = "intruder"
                stolen.spec?.renewTime = MicroTime(Date())
                do {
                    _ = try await leases.update(stolen)
                    taken = true
                } catch KubernetesError.conflict {
                    continue
                }
            }
            #expect(taken, "the lease could not be taken")
            try await eventually("b to stop leading once the lease is someone else's") { leaders.entries.last == "b stopped" }
            second.cancel()
            await second.value
            #expect(try await leases.get("sextant-operator").spec?.holderIdentity == "intruder", "b does not release a lease it no longer holds")
        }
    }
}

/// Who became leader, in order.
final class LeaderLog: Sendable {
    private let state = Mutex<[String]>([])
    func append(_ identity: String) { state.withLock { $0.append(identity) } }
    var entries: [String] { state.withLock { $0 } }
}

@Suite("Operational endpoints")
struct OperationalServerTests {
    @Test("healthz, readyz following readiness, and metrics in Prometheus text")
    func endpoints() async throws {
        let registry = MetricsRegistry()
        let metrics = RuntimeMetrics(registry: registry)
        metrics.reconcileTotal.increment(["controller": "models", "result": "success"])
        metrics.reconcileDuration.observe(0.003, ["controller": "models"])
        let ready = ReadyFlag()
        let server = try await OperationalServer(metrics: registry, ready: { ready.value })
        let running = Task { try await server.run() }
        // The shared client: nothing to shut down, so a failed request fails the test instead of
        // crashing the process in the client's deinit. A generous timeout: the whole suite in
        // parallel on two cores has made a request here take over 5 s.
        let client = HTTPClient.shared
        func get(_ path: String) async throws -> (Int, String) {
            let response = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(server.port)\(path)"), timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), String(buffer: body))
        }
        #expect(try await get("/healthz").0 == 200)
        #expect(try await get("/readyz").0 == 503)
        ready.set(true)
        #expect(try await get("/readyz").0 == 200)
        let (status, text) = try await get("/metrics")
        #expect(status == 200)
        #expect(text.contains(#"sextant_reconcile_total{controller="models",result="success"} 1"#))
        #expect(text.contains(#"sextant_reconcile_duration_seconds_bucket{controller="models",le="0.005"} 1"#))
        #expect(text.contains("# TYPE sextant_workqueue_depth gauge"))
        running.cancel()
    }
}

final class ReadyFlag: Sendable {
    private let state = Mutex(false)
    var value: Bool { state.withLock { $0 } }
    func set(_ ready: Bool) { state.withLock { $0 = ready } }
}
