import Foundation
import KubeCore
import SextantAPI

/// What was observed for each variant of an experiment.
public struct ExperimentObservation: Sendable, Equatable {
    /// Successes and trials (Accuracy, SuccessRate).
    public var proportions: [Int64: (successes: Int, trials: Int)] = [:]
    /// Mean, (n−1) variance and count of a measured value (Latency, in ms).
    public var moments: [Int64: (mean: Double, variance: Double, count: Int)] = [:]

    public init() {}

    public static func == (a: ExperimentObservation, b: ExperimentObservation) -> Bool {
        a.proportions.mapValues { [$0.successes, $0.trials] } == b.proportions.mapValues { [$0.successes, $0.trials] }
            && a.moments.mapValues { [$0.mean, $0.variance, Double($0.count)] } == b.moments.mapValues { [$0.mean, $0.variance, Double($0.count)] }
    }
}

/// Runs an A/B experiment: serves its variants at their fixed shares, and once every variant has
/// `minSamples` observations (or `duration` has passed) compares each with the control using the
/// metric's test at `significance` divided among the comparisons (Bonferroni). The verdict names
/// the best variant that is significantly better than the control, or the control when it is
/// significantly better than every other, or none (Inconclusive). A verdict is final until the
/// experiment's spec changes. Pure.
public enum ExperimentPlanner {
    public static func test(for metric: ExperimentMetric) -> String {
        metric == .latency || metric == .business ? "WelchTTest" : "TwoProportionZTest"
    }

    /// Versions and weights to serve: the variants, or the winner alone once promoted.
    public static func serving(_ experiment: ExperimentSpec, status: ExperimentStatus?) -> [(version: Int64, weight: Int32)] {
        if experiment.promoteWinner == true, status?.phase == .concluded, let winner = status?.winner {
            return [(winner, 100)]
        }
        return experiment.variants.map { ($0.version, $0.weight) }
    }

    public static func plan(
        service: InferenceService, experiment: ExperimentSpec, health: [Int64: VariantHealth], measured: ExperimentObservation, now: KubeTime
    ) -> RolloutPlan {
        var status = service.status ?? InferenceServiceStatus()
        let generation = service.metadata.generation ?? 0
        var events: [RolloutEvent] = []
        let testName = test(for: experiment.metric)
        // A new or changed experiment starts afresh (the spec's generation is its identity).
        var current = status.experiment
        if current == nil || status.observedGeneration != generation && current?.phase != .running || current?.test != testName {
            current = ExperimentStatus(phase: .running, startedAt: now, variants: [], test: testName)
            events.append(
                RolloutEvent(
                    warning: false, reason: "ExperimentStarted",
                    message: "comparing " + experiment.variants.map { "v\($0.version) (\($0.weight)%)" }.joined(separator: " vs ")
                        + " on \(experiment.metric == .business ? experiment.businessMetric ?? "Business" : experiment.metric.rawValue)"))
        }
        var result = current!
        let higherIsBetter =
            switch experiment.metric {
            case .latency: false
            case .business: experiment.direction != .lowerIsBetter
            case .accuracy, .successRate: true
            }
        result.variants = experiment.variants.map { variant in
            if let proportion = measured.proportions[variant.version] {
                return ExperimentVariantResult(
                    version: variant.version, weight: variant.weight, samples: Int64(proportion.trials),
                    value: proportion.trials > 0 ? Double(proportion.successes) / Double(proportion.trials) : nil)
            }
            if let moments = measured.moments[variant.version] {
                return ExperimentVariantResult(version: variant.version, weight: variant.weight, samples: Int64(moments.count), value: moments.mean)
            }
            return ExperimentVariantResult(version: variant.version, weight: variant.weight, samples: 0, value: nil)
        }
        var requeue: Duration? = .seconds(5)
        if result.phase == .running {
            let minimum = Int64(experiment.minSamples ?? 100)
            let enough = result.variants.allSatisfy { $0.samples >= minimum }
            let limit = experiment.duration.flatMap(DurationString.seconds)
            let expired = limit.map { now.date.timeIntervalSince(result.startedAt.date) >= $0 } ?? false
            if enough || expired {
                conclude(&result, experiment: experiment, measured: measured, higherIsBetter: higherIsBetter, now: now)
                events.append(
                    RolloutEvent(
                        warning: false, reason: result.phase == .concluded ? "ExperimentConcluded" : "ExperimentInconclusive", message: result.message ?? ""))
                requeue = nil
            } else {
                let waiting = result.variants.filter { $0.samples < minimum }.map { "v\($0.version) has \($0.samples)" }.joined(separator: ", ")
                result.message = "collecting: \(waiting) of \(minimum) observations"
            }
        } else {
            requeue = nil
        }
        status.experiment = result

        // What serves, for status readers: the control as stable, others are in `experiment`.
        let served = serving(experiment, status: result)
        let first = served[0]
        status.stable = VariantStatus(
            version: first.version, weight: first.weight, replicas: health[first.version]?.desiredReplicas, readyReplicas: health[first.version]?.readyReplicas)
        status.canary = nil
        status.rollout = nil
        var conditions = status.conditions ?? []
        let ready = served.allSatisfy { (health[$0.version]?.readyReplicas ?? 0) > 0 }
        conditions.set(
            Condition(
                type: InferenceServiceConditions.ready, status: ready ? .true : .false, reason: ready ? "Serving" : "Deploying",
                message: ready
                    ? "serving " + served.map { "v\($0.version) at \($0.weight)%" }.joined(separator: ", ") : "waiting for every variant to have ready pods",
                observedGeneration: generation, lastTransitionTime: now))
        conditions.set(
            Condition(
                type: InferenceServiceConditions.progressing, status: result.phase == .running ? .true : .false,
                reason: result.phase == .running ? "ExperimentRunning" : "Experiment\(result.phase.rawValue)", message: result.message ?? "",
                observedGeneration: generation, lastTransitionTime: now))
        status.conditions = conditions
        status.phase = ready ? .serving : .pending
        status.observedGeneration = generation
        return RolloutPlan(status: status, events: events, requeueAfter: requeue)
    }

    static func conclude(_ result: inout ExperimentStatus, experiment: ExperimentSpec, measured: ExperimentObservation, higherIsBetter: Bool, now: KubeTime) {
        let control = experiment.variants[0].version
        let others = experiment.variants.dropFirst().map(\.version)
        let alpha = (experiment.significance ?? 0.05) / Double(max(1, others.count))
        var comparisons: [(version: Int64, result: TestResult)] = []
        for version in others {
            let tested: TestResult?
            if experiment.metric == .latency || experiment.metric == .business {
                if let a = measured.moments[control], let b = measured.moments[version] {
                    tested = StatisticalTests.welchTTest(
                        meanA: a.mean, varianceA: a.variance, countA: a.count, meanB: b.mean, varianceB: b.variance, countB: b.count)
                } else {
                    tested = nil
                }
            } else if let a = measured.proportions[control], let b = measured.proportions[version] {
                tested = StatisticalTests.twoProportionZTest(successesA: a.successes, trialsA: a.trials, successesB: b.successes, trialsB: b.trials)
            } else {
                tested = nil
            }
            if let tested { comparisons.append((version, tested)) }
        }
        result.concludedAt = now
        func better(_ test: TestResult) -> Bool { higherIsBetter ? test.difference > 0 : test.difference < 0 }
        let significant = comparisons.filter { $0.result.pValue < alpha }
        let winners = significant.filter { better($0.result) }
        let deciding: (version: Int64, result: TestResult)?
        if let best = winners.max(by: { higherIsBetter ? $0.result.difference < $1.result.difference : $0.result.difference > $1.result.difference }) {
            result.phase = .concluded
            result.winner = best.version
            deciding = best
        } else if !comparisons.isEmpty, significant.count == comparisons.count, significant.allSatisfy({ !better($0.result) }) {
            result.phase = .concluded
            result.winner = control
            deciding = significant.min { $0.result.pValue > $1.result.pValue }
        } else {
            result.phase = .inconclusive
            result.winner = nil
            deciding = comparisons.min { $0.result.pValue < $1.result.pValue }
        }
        result.statistic = deciding?.result.statistic
        result.pValue = deciding?.result.pValue
        result.effectSize = deciding?.result.effectSize
        let unit = experiment.metric == .latency ? " ms" : ""
        let metricName = experiment.metric == .business ? (experiment.businessMetric ?? "Business") : experiment.metric.rawValue
        let values = result.variants.map { "v\($0.version) \($0.value.map { String(format: "%.4g", $0) } ?? "-")\(unit) (n=\($0.samples))" }.joined(
            separator: ", ")
        let numbers =
            deciding.map {
                String(
                    format: "%@ = %.3f, p = %.3g, effect size %.3f", result.test == "WelchTTest" ? "t" : "z", $0.result.statistic, $0.result.pValue,
                    $0.result.effectSize)
            } ?? "no comparison possible"
        switch result.phase {
        case .concluded:
            result.message = "version \(result.winner!) wins on \(metricName): \(values); \(numbers) (alpha \(String(format: "%.3g", alpha)))"
        default:
            result.message = "no significant difference on \(metricName): \(values); \(numbers) (alpha \(String(format: "%.3g", alpha)))"
        }
    }
}
