import Foundation
import KubeClient
import Synchronization

/// A small Prometheus registry: counters, gauges and histograms with bounded label sets,
/// rendered in the text exposition format for `/metrics`.
public final class MetricsRegistry: Sendable {
    private let metrics = Mutex<[any RenderableMetric]>([])

    public init() {}

    func register<M: RenderableMetric>(_ metric: M) -> M {
        metrics.withLock { $0.append(metric) }
        return metric
    }

    public func counter(_ name: String, help: String) -> Counter { register(Counter(name: name, help: help)) }
    public func gauge(_ name: String, help: String) -> Gauge { register(Gauge(name: name, help: help)) }
    public func histogram(_ name: String, help: String, buckets: [Double]) -> Histogram {
        register(Histogram(name: name, help: help, buckets: buckets))
    }

    /// The text exposition format.
    public func render() -> String {
        metrics.withLock { $0 }.map { $0.render() }.joined()
    }
}

protocol RenderableMetric: Sendable {
    func render() -> String
}

typealias Labels = [String: String]

func labelText(_ labels: Labels, extra: (String, String)? = nil) -> String {
    var pairs = labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    if let extra { pairs.append(extra) }
    guard !pairs.isEmpty else { return "" }
    return "{"
        + pairs.map { "\($0.0)=\"\($0.1.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))\"" }.joined(separator: ",")
        + "}"
}

func number(_ value: Double) -> String {
    value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
}

/// A value per label set, rendered as one metric family of `type`.
public class LabeledValues: RenderableMetric, @unchecked Sendable {
    let name: String
    let help: String
    let type: String
    let values = Mutex<[Labels: Double]>([:])

    init(name: String, help: String, type: String) {
        self.name = name
        self.help = help
        self.type = type
    }

    /// The current value for a label set.
    public func value(_ labels: [String: String] = [:]) -> Double { values.withLock { $0[labels] ?? 0 } }

    func render() -> String {
        var text = "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        for (labels, value) in values.withLock({ $0 }).sorted(by: { labelText($0.key) < labelText($1.key) }) {
            text += "\(name)\(labelText(labels)) \(number(value))\n"
        }
        return text
    }
}

/// A monotonically increasing count.
public final class Counter: LabeledValues, @unchecked Sendable {
    init(name: String, help: String) { super.init(name: name, help: help, type: "counter") }

    public func increment(_ labels: [String: String] = [:], by amount: Double = 1) {
        values.withLock { $0[labels, default: 0] += amount }
    }
}

/// A value that goes up and down.
public final class Gauge: LabeledValues, @unchecked Sendable {
    init(name: String, help: String) { super.init(name: name, help: help, type: "gauge") }

    public func set(_ value: Double, _ labels: [String: String] = [:]) { values.withLock { $0[labels] = value } }

    /// Drops every series whose labels match (e.g. those of an object that no longer exists).
    public func removeAll(where matches: ([String: String]) -> Bool) {
        values.withLock { values in values = values.filter { !matches($0.key) } }
    }
}

/// A distribution in cumulative buckets.
public final class Histogram: RenderableMetric {
    let name: String
    let help: String
    let buckets: [Double]
    private struct Series { var counts: [Int]; var sum: Double; var count: Int }
    private let series = Mutex<[Labels: Series]>([:])

    init(name: String, help: String, buckets: [Double]) {
        self.name = name
        self.help = help
        self.buckets = buckets.sorted()
    }

    public func observe(_ value: Double, _ labels: [String: String] = [:]) {
        series.withLock { all in
            var entry = all[labels] ?? Series(counts: Array(repeating: 0, count: buckets.count), sum: 0, count: 0)
            for (index, bound) in buckets.enumerated() where value <= bound { entry.counts[index] += 1 }
            entry.sum += value
            entry.count += 1
            all[labels] = entry
        }
    }

    /// The number of observations.
    public func count(_ labels: [String: String] = [:]) -> Int { series.withLock { $0[labels]?.count ?? 0 } }

    func render() -> String {
        var text = "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        for (labels, entry) in series.withLock({ $0 }).sorted(by: { labelText($0.key) < labelText($1.key) }) {
            for (index, bound) in buckets.enumerated() {
                text += "\(name)_bucket\(labelText(labels, extra: ("le", number(bound)))) \(entry.counts[index])\n"
            }
            text += "\(name)_bucket\(labelText(labels, extra: ("le", "+Inf"))) \(entry.count)\n"
            text += "\(name)_sum\(labelText(labels)) \(entry.sum)\n"
            text += "\(name)_count\(labelText(labels)) \(entry.count)\n"
        }
        return text
    }
}

/// The controller runtime's metrics (labels are bounded: controller, result, kind, reason,
/// verb, code). Pass it to `KubernetesClient(observer:)` to count API requests too.
public struct RuntimeMetrics: RequestObserver {
    public let registry: MetricsRegistry
    public let reconcileTotal: Counter
    public let reconcileDuration: Histogram
    public let queueDepth: Gauge
    public let queueLatency: Histogram
    public let watchRestarts: Counter
    public let apiRequests: Counter
    public let apiRequestDuration: Histogram

    public init(registry: MetricsRegistry = MetricsRegistry()) {
        self.registry = registry
        let seconds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
        reconcileTotal = registry.counter("sextant_reconcile_total", help: "Reconciles by controller and result (success, requeue, error).")
        reconcileDuration = registry.histogram("sextant_reconcile_duration_seconds", help: "Time spent in reconcile.", buckets: seconds)
        queueDepth = registry.gauge("sextant_workqueue_depth", help: "Keys waiting in the work queue.")
        queueLatency = registry.histogram(
            "sextant_workqueue_latency_seconds", help: "Time a key waits in the queue before a worker takes it.", buckets: seconds)
        watchRestarts = registry.counter("sextant_watch_restarts_total", help: "Watches reopened, by kind and reason (timeout, gone, error).")
        apiRequests = registry.counter("sextant_api_requests_total", help: "Kubernetes API requests by verb and HTTP code (0: no answer).")
        apiRequestDuration = registry.histogram("sextant_api_request_duration_seconds", help: "Kubernetes API request latency by verb.", buckets: seconds)
    }

    public func observe(verb: String, code: Int, seconds: Double) {
        apiRequests.increment(["verb": verb, "code": String(code)])
        apiRequestDuration.observe(seconds, ["verb": verb])
    }
}
