import Foundation
import KubeCore
import SextantAPI
import SextantOperator
import Testing

@Suite("Analysis judge")
struct AnalysisJudgeUnitTests {
    let now = KubeTime(Date(timeIntervalSince1970: 1_800_000_000))

    func spec(_ metrics: [AnalysisMetric], minimum: Int32 = 10) -> AnalysisSpec {
        AnalysisSpec(metrics: metrics, minRequestCount: minimum, failureLimit: 1)
    }

    @Test("too few canary requests: hold, whatever the numbers")
    func holdsForRequests() {
        var measured = CanaryMeasurements()
        measured.canaryRequests = 3
        measured.canary[.successRate] = 0
        let (verdict, results) = AnalysisJudge.judge(spec([AnalysisMetric(name: "sr", type: .successRate, min: 99)]), measured, window: "30s", now: now)
        guard case .hold(let why) = verdict else { Issue.record("expected hold, got \(verdict)"); return }
        #expect(why.contains("3 requests") && why.contains("10 are needed"))
        #expect(results.map(\.metric) == ["request-count"])
    }

    @Test("absolute bounds: pass and fail with the distance in the message")
    func absolute() {
        var measured = CanaryMeasurements()
        measured.canaryRequests = 100
        measured.canary[.successRate] = 97.5
        measured.canary[.latencyP99] = 20
        let metrics = [AnalysisMetric(name: "sr", type: .successRate, min: 99), AnalysisMetric(name: "p99", type: .latencyP99, max: 50)]
        let (verdict, results) = AnalysisJudge.judge(spec(metrics), measured, window: "30s", now: now)
        #expect(verdict == .fail(reason: "AnalysisFailed", message: "sr: 97.5 is below 99 by 1.5"))
        #expect(results.map(\.passed) == [false, true])
        #expect(results.map(\.threshold) == [">= 99", "<= 50"])
        #expect(results.allSatisfy { $0.window == "30s" })
    }

    @Test("relative bounds compare canary − stable; not applicable once stable has no traffic")
    func relative() {
        let metric = AnalysisMetric(name: "vs-stable", type: .successRate, min: -0.5, relativeToStable: true)
        var measured = CanaryMeasurements()
        measured.canaryRequests = 100
        measured.stableRequests = 100
        measured.canary[.successRate] = 98
        measured.stable[.successRate] = 99.9
        let (failed, results) = AnalysisJudge.judge(spec([metric]), measured, window: "1m", now: now)
        #expect(results.first?.threshold == ">= stable - 0.5")
        guard case .fail(_, let message) = failed else { Issue.record("expected fail"); return }
        #expect(message.contains("canary 98, stable 99.9"))
        measured.stable[.successRate] = nil
        measured.stableRequests = 0
        let (verdict, notApplicable) = AnalysisJudge.judge(spec([metric]), measured, window: "1m", now: now)
        #expect(verdict == .advance)
        #expect(notApplicable.first?.passed == true)
    }

    @Test("a missing measurement holds and says why")
    func missing() {
        var measured = CanaryMeasurements()
        measured.canaryRequests = 100
        measured.problems["promql"] = "Prometheus returned no sample"
        let (verdict, results) = AnalysisJudge.judge(
            spec([AnalysisMetric(name: "promql", type: .prometheus, min: 1, query: "up")]), measured, window: "1m", now: now)
        guard case .hold(let why) = verdict else { Issue.record("expected hold"); return }
        #expect(why.contains("Prometheus returned no sample"))
        #expect(results.first?.value == nil)
    }

    @Test("population-stability index of class counts")
    func psi() throws {
        #expect(try #require(AnalysisJudge.populationStabilityIndex(["a": 50, "b": 50], ["a": 50, "b": 50])) == 0)
        let shifted = try #require(AnalysisJudge.populationStabilityIndex(["a": 90, "b": 10], ["a": 50, "b": 50]))
        // (0.9−0.5)·ln(0.9/0.5) + (0.1−0.5)·ln(0.1/0.5)
        #expect(abs(shifted - (0.4 * log(1.8) + 0.4 * log(5))) < 1e-12)
        #expect(AnalysisJudge.populationStabilityIndex([:], ["a": 1]) == nil)
    }
}

@Suite("Experiment planner")
struct ExperimentPlannerUnitTests {
    let start = KubeTime(Date(timeIntervalSince1970: 1_800_000_000))

    func service(_ experiment: ExperimentSpec, status: ExperimentStatus? = nil) -> InferenceService {
        var service = InferenceService(
            metadata: ObjectMeta(name: "churn", namespace: "ml"), spec: InferenceServiceSpec(modelName: "churn", experiment: experiment))
        service.metadata.generation = 1
        if let status {
            var serviceStatus = InferenceServiceStatus(observedGeneration: 1)
            serviceStatus.experiment = status
            service.status = serviceStatus
        }
        return service
    }

    let healthy: [Int64: VariantHealth] = [1: VariantHealth(desiredReplicas: 1, readyReplicas: 1), 2: VariantHealth(desiredReplicas: 1, readyReplicas: 1)]

    func experiment(_ metric: ExperimentMetric, minSamples: Int32 = 100, promote: Bool = false) -> ExperimentSpec {
        ExperimentSpec(
            variants: [ExperimentVariant(version: 1, weight: 50), ExperimentVariant(version: 2, weight: 50)],
            metric: metric, significance: 0.05, minSamples: minSamples, promoteWinner: promote)
    }

    @Test("collects until every variant has its samples")
    func collecting() {
        var observed = ExperimentObservation()
        observed.proportions = [1: (90, 100), 2: (40, 50)]
        let plan = ExperimentPlanner.plan(
            service: service(experiment(.accuracy)), experiment: experiment(.accuracy), health: healthy, measured: observed, now: start)
        #expect(plan.status.experiment?.phase == .running)
        #expect(plan.status.experiment?.message == "collecting: v2 has 50 of 100 observations")
        #expect(plan.events.map(\.reason) == ["ExperimentStarted"])
    }

    @Test("a significantly better variant wins; with promoteWinner it is served alone")
    func winner() throws {
        var observed = ExperimentObservation()
        observed.proportions = [1: (200, 1000), 2: (250, 1000)]
        let spec = experiment(.accuracy, promote: true)
        let plan = ExperimentPlanner.plan(service: service(spec), experiment: spec, health: healthy, measured: observed, now: start)
        let result = try #require(plan.status.experiment)
        #expect(result.phase == .concluded)
        #expect(result.winner == 2)
        #expect(abs((result.pValue ?? 1) - 0.007419649261025693) < 1e-9)
        #expect(result.test == "TwoProportionZTest")
        #expect(ExperimentPlanner.serving(spec, status: result).map(\.version) == [2])
        #expect(plan.events.map(\.reason) == ["ExperimentStarted", "ExperimentConcluded"])
    }

    @Test("no significant difference is inconclusive and keeps both variants")
    func inconclusive() throws {
        var observed = ExperimentObservation()
        observed.proportions = [1: (200, 1000), 2: (205, 1000)]
        let spec = experiment(.successRate, promote: true)
        let plan = ExperimentPlanner.plan(service: service(spec), experiment: spec, health: healthy, measured: observed, now: start)
        let result = try #require(plan.status.experiment)
        #expect(result.phase == .inconclusive && result.winner == nil)
        #expect(result.message?.hasPrefix("no significant difference on SuccessRate") == true)
        #expect(ExperimentPlanner.serving(spec, status: result).map(\.version) == [1, 2])
    }

    @Test("latency: lower is better, so the control wins against a slower variant")
    func latencyControlWins() throws {
        var observed = ExperimentObservation()
        observed.moments = [1: (10, 4, 200), 2: (14, 4, 200)]
        let spec = experiment(.latency)
        let plan = ExperimentPlanner.plan(service: service(spec), experiment: spec, health: healthy, measured: observed, now: start)
        let result = try #require(plan.status.experiment)
        #expect(result.winner == 1 && result.test == "WelchTTest")
        #expect((result.statistic ?? 0) > 0)
    }

    @Test("a verdict stays once taken")
    func final() throws {
        let spec = experiment(.accuracy)
        let concluded = ExperimentStatus(phase: .concluded, startedAt: start, variants: [], test: "TwoProportionZTest", winner: 2, message: "version 2 wins")
        let plan = ExperimentPlanner.plan(
            service: service(spec, status: concluded), experiment: spec, health: healthy, measured: ExperimentObservation(), now: start)
        #expect(plan.status.experiment?.winner == 2 && plan.status.experiment?.phase == .concluded)
        #expect(plan.events.isEmpty)
    }

    @Test("business metric: the direction decides which way wins")
    func businessDirection() throws {
        var observed = ExperimentObservation()
        observed.moments = [1: (10, 4, 200), 2: (14, 4, 200)]
        for (direction, winner) in [(MetricDirection.higherIsBetter, Int64(2)), (.lowerIsBetter, 1)] {
            let spec = ExperimentSpec(
                variants: [ExperimentVariant(version: 1, weight: 50), ExperimentVariant(version: 2, weight: 50)],
                metric: .business, minSamples: 100, businessMetric: "revenue", direction: direction)
            let plan = ExperimentPlanner.plan(service: service(spec), experiment: spec, health: healthy, measured: observed, now: start)
            let result = try #require(plan.status.experiment)
            #expect(result.winner == winner && result.test == "WelchTTest")
            #expect(result.message?.contains("on revenue") == true)
        }
    }
}
