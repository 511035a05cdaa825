import Foundation
import KubeAPIServer
import KubeClient
import KubeCore
import KubeRuntime
import Logging
import Synchronization

/// Measures the controller runtime against the project's API server, in one process:
/// reconciles per second for an initial sync of N objects, event-to-reconcile latency at a
/// steady event rate, and the resident memory the cache adds per 1,000 objects.
@main
struct RuntimeBench {
    static func main() async throws {
        try await measure()
    }

    /// Runs off the main actor, so the measurements do not queue behind it.
    nonisolated static func measure() async throws {
        let arguments = CommandLine.arguments
        let objects = arguments.count > 1 ? Int(arguments[1]) ?? 10_000 : 10_000
        let rate = arguments.count > 2 ? Int(arguments[2]) ?? 100 : 100
        let seconds = arguments.count > 3 ? Int(arguments[3]) ?? 10 : 10
        var logger = Logger(label: "bench")
        logger.logLevel = .critical

        let cluster = try await LocalCluster(bookmarkInterval: .seconds(3600), logger: logger)
        let server = Task { try await cluster.run() }
        let client = try KubernetesClient(configuration: ClientConfiguration(server: cluster.httpURL), logger: logger)
        let maps = Api<ConfigMap>(client: client, namespace: "default")

        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    for index in stride(from: writer, to: objects, by: 8) {
                        _ = try await maps.create(ConfigMap(metadata: ObjectMeta(name: String(format: "object-%06d", index)), data: ["value": String(index)]))
                    }
                }
            }
            try await group.waitForAll()
        }
        let rssBefore = residentBytes()

        let tracker = Tracker()
        let controller = Controller(name: "bench", api: maps, concurrency: 4, logger: logger)
        let syncStart = ContinuousClock.now
        let running = Task {
            await controller.run { object, _ in
                tracker.reconciled(object)
                return .done
            }
        }
        while tracker.distinctCount < objects { try await Task.sleep(for: .milliseconds(5)) }
        let syncTime = ContinuousClock.now - syncStart
        let rssAfter = residentBytes()

        // Steady state: `rate` updates per second, each stamped with its send time.
        let interval = Duration.seconds(1) / rate
        var next = ContinuousClock.now
        for index in 0..<(rate * seconds) {
            next += interval
            try await Task.sleep(until: next)
            let name = String(format: "object-%06d", index % objects)
            tracker.sent(name)
            _ = try await maps.patch(name, .merge(["metadata": ["annotations": ["bench/seq": .string(String(index))]]]))
        }
        while tracker.pendingCount > 0 { try await Task.sleep(for: .milliseconds(5)) }
        let latencies = tracker.latencies.sorted()

        func percentile(_ p: Double) -> Double {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] * 1000
        }
        let syncSeconds = Double(syncTime.components.seconds) + Double(syncTime.components.attoseconds) / 1e18
        print("objects: \(objects)")
        print(String(format: "initial sync: %.2f s, %.0f reconciles/s", syncSeconds, Double(objects) / syncSeconds))
        print(
            String(
                format: "event-to-reconcile latency at %d events/s: p50 %.2f ms, p99 %.2f ms (%d events)", rate, percentile(0.5), percentile(0.99),
                latencies.count))
        print(
            String(
                format: "cache RSS: %.2f KiB per cached object (%.1f MiB per 1,000 objects)", Double(rssAfter - rssBefore) / 1024 / Double(objects),
                Double(rssAfter - rssBefore) / 1_048_576 / Double(objects) * 1000))
        print("targets: p99 < 50 ms at 100 events/s; < 2 KiB RSS per cached small object")
        running.cancel()
        try await client.shutdown()
        server.cancel()
    }

    /// Resident memory after returning freed heap pages to the system, so the number reflects
    /// live data rather than what the allocator keeps cached.
    static func residentBytes() -> Int {
        _ = malloc_trim(0)
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return (Int(fields.count > 1 ? fields[1] : "0") ?? 0) * 4096
    }
}

/// Records reconciles, and the latency of stamped updates.
final class Tracker: Sendable {
    private struct State {
        var seen = Set<String>()
        var sentAt: [String: ContinuousClock.Instant] = [:]
        var latencies: [Double] = []
    }

    private let state = Mutex(State())

    func sent(_ name: String) { state.withLock { $0.sentAt[name] = ContinuousClock.now } }

    func reconciled(_ object: ConfigMap) {
        let name = object.metadata.name ?? ""
        state.withLock { state in
            state.seen.insert(name)
            if object.metadata.annotations?["bench/seq"] != nil, let sent = state.sentAt.removeValue(forKey: name) {
                let latency = ContinuousClock.now - sent
                state.latencies.append(Double(latency.components.seconds) + Double(latency.components.attoseconds) / 1e18)
            }
        }
    }

    var distinctCount: Int { state.withLock { $0.seen.count } }
    var pendingCount: Int { state.withLock { $0.sentAt.count } }
    var latencies: [Double] { state.withLock { $0.latencies } }
}

/// glibc's `malloc_trim`, which the Glibc module does not export.
@_silgen_name("malloc_trim")
func malloc_trim(_ pad: Int) -> Int32
