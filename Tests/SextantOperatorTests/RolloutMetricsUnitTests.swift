import KubeCore
import KubeRuntime
import SextantAPI
import Testing

@testable import SextantOperator

@Suite("Rollout metrics")
struct RolloutMetricsUnitTests {
    @Test("traffic weights follow the served versions; verdicts count by metric and result")
    func series() {
        let registry = MetricsRegistry()
        let metrics = RolloutMetrics(registry: registry)
        metrics.recordTraffic(namespace: "ml", service: "iris", serving: [(1, 90), (2, 10)])
        metrics.recordTraffic(namespace: "ml", service: "other", serving: [(7, 100)])
        metrics.recordTraffic(namespace: "ml", service: "iris", serving: [(2, 100)])
        let text = registry.render()
        #expect(text.contains(#"sextant_inferenceservice_traffic_weight{inferenceservice="iris",namespace="ml",version="2"} 100"#), "\(text)")
        #expect(!text.contains(#"inferenceservice="iris",namespace="ml",version="1""#), "\(text)")
        #expect(text.contains(#"sextant_inferenceservice_traffic_weight{inferenceservice="other",namespace="ml",version="7"} 100"#))
        let now = KubeTime.now()
        metrics.recordVerdicts(
            namespace: "ml", service: "iris",
            [
                AnalysisResult(metric: "SuccessRate", value: 0.99, threshold: ">= 0.95", passed: true, time: now),
                AnalysisResult(metric: "LatencyP99", value: 900, threshold: "<= 500", passed: false, time: now),
            ])
        metrics.recordVerdicts(
            namespace: "ml", service: "iris",
            [
                AnalysisResult(metric: "SuccessRate", value: 0.98, threshold: ">= 0.95", passed: true, time: now)
            ])
        #expect(metrics.verdicts.value(["namespace": "ml", "inferenceservice": "iris", "metric": "SuccessRate", "result": "passed"]) == 2)
        #expect(metrics.verdicts.value(["namespace": "ml", "inferenceservice": "iris", "metric": "LatencyP99", "result": "failed"]) == 1)
    }
}
