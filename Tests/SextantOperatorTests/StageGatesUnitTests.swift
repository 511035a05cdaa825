import KubeCore
import SextantAPI
import Testing

@testable import SextantOperator

@Suite("Stage gates")
struct StageGatesUnitTests {
    struct BoundCase: Sendable, CustomTestStringConvertible {
        var label: String
        var metrics: [String: Double]?
        var bounds: [MetricGate]
        var failures: [String]
        var testDescription: String { label }
    }

    static let boundCases: [BoundCase] = [
        BoundCase(label: "above the minimum", metrics: ["accuracy": 0.9], bounds: [MetricGate(metric: "accuracy", min: 0.85)], failures: []),
        BoundCase(label: "exactly the minimum", metrics: ["accuracy": 0.85], bounds: [MetricGate(metric: "accuracy", min: 0.85)], failures: []),
        BoundCase(
            label: "below the minimum", metrics: ["accuracy": 0.8], bounds: [MetricGate(metric: "accuracy", min: 0.85)],
            failures: ["accuracy 0.8 is below the minimum 0.85"]),
        BoundCase(
            label: "above the maximum", metrics: ["latency_ms": 120], bounds: [MetricGate(metric: "latency_ms", max: 100)],
            failures: ["latency_ms 120 is above the maximum 100"]),
        BoundCase(label: "exactly the maximum", metrics: ["latency_ms": 100], bounds: [MetricGate(metric: "latency_ms", max: 100)], failures: []),
        BoundCase(label: "within both bounds", metrics: ["auc": 0.7], bounds: [MetricGate(metric: "auc", min: 0.5, max: 0.99)], failures: []),
        BoundCase(
            label: "missing metric", metrics: ["auc": 0.7], bounds: [MetricGate(metric: "accuracy", min: 0.5)],
            failures: ["metric accuracy is missing (the Production gate needs it)"]),
        BoundCase(
            label: "no metrics at all", metrics: nil, bounds: [MetricGate(metric: "accuracy")],
            failures: ["metric accuracy is missing (the Production gate needs it)"]),
        BoundCase(
            label: "every failing bound reported", metrics: ["accuracy": 0.5, "latency_ms": 300],
            bounds: [MetricGate(metric: "accuracy", min: 0.8), MetricGate(metric: "latency_ms", max: 200), MetricGate(metric: "f1", min: 0.1)],
            failures: [
                "accuracy 0.5 is below the minimum 0.8", "latency_ms 300 is above the maximum 200",
                "metric f1 is missing (the Production gate needs it)",
            ]),
    ]

    @Test("metric bounds", arguments: boundCases)
    func metricBounds(_ test: BoundCase) {
        let fraud = model(production: StageGate(metrics: test.bounds))
        let candidate = version(2, stage: .production, metrics: test.metrics)
        #expect(StageGates.failures(of: candidate, entering: .production, model: fraud, production: nil) == test.failures)
    }

    @Test("each stage uses its own gate; Development and Archived have none")
    func gatePerStage() {
        let fraud = model(
            staging: StageGate(metrics: [MetricGate(metric: "accuracy", min: 0.5)]),
            production: StageGate(metrics: [MetricGate(metric: "accuracy", min: 0.9)]))
        let candidate = version(2, metrics: ["accuracy": 0.7])
        #expect(StageGates.failures(of: candidate, entering: .staging, model: fraud, production: nil).isEmpty)
        #expect(StageGates.failures(of: candidate, entering: .production, model: fraud, production: nil) == ["accuracy 0.7 is below the minimum 0.9"])
        #expect(StageGates.failures(of: candidate, entering: .development, model: fraud, production: nil).isEmpty)
        #expect(StageGates.failures(of: candidate, entering: .archived, model: fraud, production: nil).isEmpty)
        #expect(StageGates.failures(of: candidate, entering: .production, model: model(), production: nil).isEmpty)
    }

    struct RegressionCase: Sendable, CustomTestStringConvertible {
        var label: String
        var direction: MetricDirection?
        var margin: Double
        var baseline: Double?
        var value: Double?
        var failures: [String]
        var testDescription: String { label }
    }

    static let regressionCases: [RegressionCase] = [
        RegressionCase(label: "higher is better (default): better", direction: nil, margin: 0, baseline: 0.9, value: 0.92, failures: []),
        RegressionCase(label: "higher is better: equal with no margin", direction: .higherIsBetter, margin: 0, baseline: 0.9, value: 0.9, failures: []),
        RegressionCase(
            label: "higher is better: worse within the margin", direction: .higherIsBetter, margin: 0.005, baseline: 0.9, value: 0.896, failures: []),
        RegressionCase(
            label: "higher is better: worse by exactly the margin", direction: .higherIsBetter, margin: 0.005, baseline: 0.9, value: 0.895, failures: []),
        RegressionCase(
            label: "higher is better: worse beyond the margin", direction: nil, margin: 0.005, baseline: 0.9, value: 0.89,
            failures: ["accuracy 0.89 regresses by 0.01 against Production version 1 (0.9); at most 0.005 allowed"]),
        RegressionCase(label: "lower is better: lower", direction: .lowerIsBetter, margin: 0, baseline: 0.1, value: 0.08, failures: []),
        RegressionCase(label: "lower is better: higher within the margin", direction: .lowerIsBetter, margin: 0.02, baseline: 0.1, value: 0.11, failures: []),
        RegressionCase(
            label: "lower is better: higher beyond the margin", direction: .lowerIsBetter, margin: 0.01, baseline: 0.1, value: 0.12,
            failures: ["accuracy 0.12 regresses by 0.02 against Production version 1 (0.1); at most 0.01 allowed"]),
        RegressionCase(label: "Production version lacks the metric", direction: nil, margin: 0, baseline: nil, value: 0.5, failures: []),
        RegressionCase(
            label: "candidate lacks the metric", direction: nil, margin: 0, baseline: 0.9, value: nil,
            failures: ["metric accuracy is missing (no-regression gate against version 1)"]),
    ]

    @Test("no regression against the Production version", arguments: regressionCases)
    func noRegression(_ test: RegressionCase) {
        let fraud = model(production: StageGate(noRegression: [RegressionGate(metric: "accuracy", direction: test.direction, maxRegression: test.margin)]))
        let current = version(1, stage: .production, effective: .production, metrics: test.baseline.map { ["accuracy": $0] } ?? ["other": 1])
        let candidate = version(2, stage: .production, metrics: test.value.map { ["accuracy": $0] } ?? ["other": 1])
        #expect(StageGates.failures(of: candidate, entering: .production, model: fraud, production: current) == test.failures)
    }

    @Test("no-regression gates pass without a Production version, or against the version itself")
    func noRegressionWithoutBaseline() {
        let fraud = model(production: StageGate(noRegression: [RegressionGate(metric: "accuracy", maxRegression: 0)]))
        let candidate = version(2, stage: .production, metrics: ["accuracy": 0.5])
        #expect(StageGates.failures(of: candidate, entering: .production, model: fraud, production: nil).isEmpty)
        let itself = version(2, stage: .production, effective: .production, metrics: ["accuracy": 0.9])
        #expect(StageGates.failures(of: candidate, entering: .production, model: fraud, production: itself).isEmpty)
    }

    @Test(
        "approval is required when the gate says so",
        arguments: [
            ([String: String]?.none, false), (["other": "x"], false), ([ModelVersion.approvedByAnnotation: ""], false),
            ([ModelVersion.approvedByAnnotation: "alice"], true),
        ])
    func approval(_ annotations: [String: String]?, _ passes: Bool) {
        let fraud = model(production: StageGate(requireApproval: true))
        let candidate = version(2, stage: .production, annotations: annotations)
        let failures = StageGates.failures(of: candidate, entering: .production, model: fraud, production: nil)
        #expect(failures == (passes ? [] : ["approval required: annotate with ml.sextant.dev/approved-by=<name>"]))
        let noApprovalNeeded = model(production: StageGate(requireApproval: false))
        #expect(StageGates.failures(of: candidate, entering: .production, model: noApprovalNeeded, production: nil).isEmpty)
    }

    @Test(
        "numbers are written without floating-point noise",
        arguments: [
            (0.1 + 0.2, "0.3"), (3.0, "3"), (-2.0, "-2"), (0.0000004, "0"), (0.125, "0.125"), (1e20, "1e+20"),
        ])
    func format(_ value: Double, _ text: String) {
        #expect(StageGates.format(value) == text)
    }
}
