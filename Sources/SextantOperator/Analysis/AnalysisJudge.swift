import Foundation
import KubeCore
import SextantAPI

/// What was measured for a canary step, for each built-in metric type (and named Prometheus
/// metrics), for the canary and for the stable version.
public struct CanaryMeasurements: Sendable, Equatable {
    /// Requests the canary served in the window.
    public var canaryRequests: Int?
    /// Requests the stable version served in the window (0 once the canary has all traffic).
    public var stableRequests: Int?
    public var canary: [AnalysisMetricType: Double] = [:]
    public var stable: [AnalysisMetricType: Double] = [:]
    /// Values of Prometheus metrics by metric name (canary and stable).
    public var prometheusCanary: [String: Double] = [:]
    public var prometheusStable: [String: Double] = [:]
    /// Why a measurement is missing, by metric name.
    public var problems: [String: String] = [:]

    public init() {}
}

/// Judges a canary step: every metric against its bound — absolute, or relative to the stable
/// version — once the canary has served enough requests. Pure; the numbers come from
/// `CanaryMetricsCollector`.
public enum AnalysisJudge {
    public static func judge(
        _ analysis: AnalysisSpec, _ measured: CanaryMeasurements, window: String, now: KubeTime
    ) -> (verdict: StepVerdict, results: [AnalysisResult]) {
        let minimum = Int(analysis.minRequestCount ?? 50)
        let served = measured.canaryRequests ?? 0
        if served < minimum {
            let message = "the canary served \(served) requests in the last \(window); \(minimum) are needed before a verdict"
            return (
                .hold(message),
                [
                    AnalysisResult(
                        metric: "request-count", value: Double(served), threshold: ">= \(minimum)", passed: false, window: window, time: now, message: message)
                ]
            )
        }
        var results: [AnalysisResult] = []
        var failures: [String] = []
        var missing: [String] = []
        for metric in analysis.metrics ?? [] {
            let relative = metric.relativeToStable ?? false
            let canary = metric.type == .prometheus ? measured.prometheusCanary[metric.name] : measured.canary[metric.type]
            let stable = metric.type == .prometheus ? measured.prometheusStable[metric.name] : measured.stable[metric.type]
            let threshold = describe(metric)
            if relative, stable == nil, measured.stableRequests == 0, metric.type != .prometheus, let canary {
                // The canary has all the traffic: there is no stable behaviour in this window to compare with.
                results.append(
                    AnalysisResult(
                        metric: metric.name, value: nil, threshold: threshold, passed: true, window: window, time: now,
                        message: "the stable version served no requests in the window (canary \(format(canary))); relative bound not applicable"))
                continue
            }
            guard let canary, !relative || stable != nil else {
                let why = measured.problems[metric.name] ?? "no measurement"
                missing.append("\(metric.name): \(why)")
                results.append(AnalysisResult(metric: metric.name, value: nil, threshold: threshold, passed: false, window: window, time: now, message: why))
                continue
            }
            let value = relative ? canary - stable! : canary
            var problems: [String] = []
            if let min = metric.min, value < min { problems.append("\(format(value)) is below \(format(min)) by \(format(min - value))") }
            if let max = metric.max, value > max { problems.append("\(format(value)) is above \(format(max)) by \(format(value - max))") }
            let subject = relative ? "canary − stable = \(format(value)) (canary \(format(canary)), stable \(format(stable!)))" : "\(format(value))"
            let message =
                problems.isEmpty
                ? "\(subject) within \(threshold)"
                : "\(metric.name): " + problems.joined(separator: "; ") + (relative ? " (canary \(format(canary)), stable \(format(stable!)))" : "")
            results.append(
                AnalysisResult(metric: metric.name, value: value, threshold: threshold, passed: problems.isEmpty, window: window, time: now, message: message))
            if !problems.isEmpty { failures.append(message) }
        }
        if !failures.isEmpty { return (.fail(reason: "AnalysisFailed", message: failures.joined(separator: "; ")), results) }
        if !missing.isEmpty { return (.hold("waiting for measurements: " + missing.joined(separator: "; ")), results) }
        return (.advance, results)
    }

    /// The bound as people read it: `<= 50`, `>= 99`, `>= stable - 0.5`, `between 0 and 0.1`.
    static func describe(_ metric: AnalysisMetric) -> String {
        let relative = metric.relativeToStable ?? false
        func bound(_ value: Double) -> String {
            guard relative else { return format(value) }
            return value < 0 ? "stable - \(format(-value))" : "stable + \(format(value))"
        }
        switch (metric.min, metric.max) {
        case (let min?, let max?): return "between \(bound(min)) and \(bound(max))"
        case (let min?, nil): return ">= \(bound(min))"
        case (nil, let max?): return "<= \(bound(max))"
        case (nil, nil): return "any"
        }
    }

    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e12 { return String(Int64(value)) }
        return String(format: "%.4g", value)
    }

    /// Population-stability index between two count distributions (keys are categories);
    /// empty buckets get a small floor so the index stays finite.
    public static func populationStabilityIndex(_ actual: [String: Int], _ expected: [String: Int]) -> Double? {
        let totalA = Double(actual.values.reduce(0, +)), totalE = Double(expected.values.reduce(0, +))
        guard totalA > 0, totalE > 0 else { return nil }
        let floor = 1e-4
        var psi = 0.0
        for key in Set(actual.keys).union(expected.keys) {
            let a = max(Double(actual[key] ?? 0) / totalA, floor)
            let e = max(Double(expected[key] ?? 0) / totalE, floor)
            psi += (a - e) * log(a / e)
        }
        return psi
    }
}
