import KubeRuntime
import SextantAPI

/// Prometheus series about deliveries, for dashboards and alerts: the traffic weight each
/// InferenceService gives each served version, and every analysis verdict.
public struct RolloutMetrics: Sendable {
    /// `sextant_inferenceservice_traffic_weight{namespace,inferenceservice,version}`, percent.
    public let trafficWeight: Gauge
    /// `sextant_analysis_verdicts_total{namespace,inferenceservice,metric,result}`.
    public let verdicts: Counter

    /// Registers the series in `registry` (once per process).
    public init(registry: MetricsRegistry) {
        trafficWeight = registry.gauge(
            "sextant_inferenceservice_traffic_weight", help: "Percent of an InferenceService's traffic each served model version receives.")
        verdicts = registry.counter(
            "sextant_analysis_verdicts_total", help: "Canary analysis verdicts by metric and result (passed or failed).")
    }

    /// Records the weights of the versions a service now serves; versions it no longer serves
    /// lose their series.
    func recordTraffic(namespace: String, service: String, serving: [(version: Int64, weight: Int32)]) {
        trafficWeight.removeAll { $0["namespace"] == namespace && $0["inferenceservice"] == service }
        for (version, weight) in serving {
            trafficWeight.set(Double(weight), ["namespace": namespace, "inferenceservice": service, "version": String(version)])
        }
    }

    /// Counts one canary step's verdicts.
    func recordVerdicts(namespace: String, service: String, _ results: [AnalysisResult]) {
        for result in results {
            verdicts.increment(["namespace": namespace, "inferenceservice": service, "metric": result.metric, "result": result.passed ? "passed" : "failed"])
        }
    }
}
