import Foundation
import NIOConcurrencyHelpers
import Prometheus

/// The server's Prometheus metrics, all in one registry per server (so tests can run many
/// servers in one process). Labels are bounded: endpoint templates, status codes, class labels
/// of the model, feature names of the baseline; never request ids.
public final class ServerMetrics: Sendable {
    /// The registry `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    /// Rows predicted.
    public let rows: Counter
    /// Whether the model is loaded and ready (1/0).
    public let modelReady: Gauge
    /// Model load time.
    public let modelLoadSeconds: Gauge
    /// In-flight requests.
    public let inflight: Gauge
    /// Inference requests `InferenceFastPath` answered (the rest went through the router).
    public let fastPathRequests: Counter
    /// Per-request metrics by label values, so the hot path does not go through the registry's
    /// name validation and lookup for every request.
    private let endpoints = MetricCache<String, EndpointMetrics>()
    private let classCounters = MetricCache<String, Counter>()

    /// An endpoint's latency histogram and its request counters by status code (a handful), so
    /// a request costs one cache lookup.
    final class EndpointMetrics: Sendable {
        let duration: DurationHistogram
        let counters: MetricCache<Int, Counter>

        init(duration: DurationHistogram) {
            self.duration = duration
            counters = MetricCache()
        }
    }

    /// Creates the metrics.
    public init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        rows = registry.makeCounter(descriptor: Self.descriptor("sextant_rows_predicted_total", "Rows (instances) predicted."))
        modelReady = registry.makeGauge(descriptor: Self.descriptor("sextant_model_ready", "1 when the model is loaded and serving, else 0."))
        modelLoadSeconds = registry.makeGauge(descriptor: Self.descriptor("sextant_model_load_seconds", "Seconds taken to fetch, verify and load the model."))
        inflight = registry.makeGauge(descriptor: Self.descriptor("sextant_inflight_requests", "Requests being handled now."))
        fastPathRequests = registry.makeCounter(
            descriptor: Self.descriptor(
                "sextant_fast_path_requests_total",
                "Inference requests answered on the connection's event loop because they arrived whole; the rest went through the router."))
        modelReady.set(to: 0)
    }

    static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    /// Counts one finished request.
    public func request(endpoint: String, code: Int, duration: Duration) {
        let metrics = endpoints.metric(for: endpoint) {
            EndpointMetrics(
                duration: registry.makeDurationHistogram(
                    descriptor: Self.descriptor("sextant_request_duration_seconds", "HTTP request latency by endpoint template."),
                    labels: [("endpoint", endpoint)], buckets: Self.latencyBuckets))
        }
        metrics.counters.metric(for: code) {
            registry.makeCounter(
                descriptor: Self.descriptor("sextant_requests_total", "HTTP requests by endpoint template and status code."),
                labels: [("endpoint", endpoint), ("code", String(code))])
        }.increment()
        metrics.duration.record(duration)
    }

    /// Counts a rejected request (`overload`, `timeout`, `body_too_large`).
    public func rejected(_ reason: String) {
        registry.makeCounter(
            descriptor: Self.descriptor("sextant_rejected_requests_total", "Requests rejected before or during handling, by reason."),
            labels: [("reason", reason)]
        ).increment()
    }

    /// Counts predicted rows per class.
    public func predicted(classLabel: String, count: Int) {
        classCounters.metric(for: classLabel) {
            registry.makeCounter(
                descriptor: Self.descriptor("sextant_predictions_total", "Predicted rows by class label (classifiers)."),
                labels: [("class", classLabel)])
        }.increment(by: Int64(count))
    }

    /// Records a regression prediction value.
    public func predicted(value: Double, buckets: [Double]) {
        registry.makeValueHistogram(
            descriptor: Self.descriptor("sextant_prediction_value", "Distribution of predicted values (regressors)."),
            buckets: buckets
        ).record(value)
    }

    /// Publishes drift gauges.
    public func drift(_ features: [FeatureDrift]) {
        var maxPSI = 0.0
        for feature in features {
            if let psi = feature.psi {
                maxPSI = max(maxPSI, psi)
                registry.makeGauge(
                    descriptor: Self.descriptor("sextant_drift_psi", "Population stability index of recent inputs against the baseline, per feature."),
                    labels: [("feature", feature.name)]
                ).set(to: psi)
            }
            if let ks = feature.ks {
                registry.makeGauge(
                    descriptor: Self.descriptor("sextant_drift_ks", "Binned Kolmogorov-Smirnov statistic of recent inputs against the baseline, per feature."),
                    labels: [("feature", feature.name)]
                ).set(to: ks)
            }
        }
        registry.makeGauge(descriptor: Self.descriptor("sextant_drift_max_psi", "Largest per-feature PSI.")).set(to: maxPSI)
    }

    /// Publishes the prediction-distribution PSI (classifiers).
    public func predictionDrift(_ psi: Double) {
        registry.makeGauge(descriptor: Self.descriptor("sextant_drift_prediction_psi", "PSI of recent predicted classes against the baseline's.")).set(to: psi)
    }

    /// Publishes the online accuracy gauge (`accuracy` or `mae`).
    public func accuracy(metric: String, value: Double) {
        registry.makeGauge(
            descriptor: Self.descriptor("sextant_online_accuracy", "Rolling accuracy (classification) or mean absolute error (regression) from feedback."),
            labels: [("metric", metric)]
        ).set(to: value)
    }

    /// Counts feedback items by result (`matched`, `unknown_id`).
    public func feedback(result: String) {
        registry.makeCounter(
            descriptor: Self.descriptor("sextant_feedback_total", "Feedback items received, by result."),
            labels: [("result", result)]
        ).increment()
    }

    /// The text exposition.
    public func render() -> String { registry.emitToString() }
}

/// Metric objects by their label values, made once through the registry.
final class MetricCache<Key: Hashable & Sendable, Metric: Sendable>: Sendable {
    private let metrics = NIOLockedValueBox<[Key: Metric]>([:])

    /// The metric for `key`, made by `make` the first time.
    func metric(for key: Key, make: () -> Metric) -> Metric {
        if let metric = metrics.withLockedValue({ $0[key] }) { return metric }
        let metric = make()
        metrics.withLockedValue { $0[key] = metric }
        return metric
    }
}
