import KubeCore
import SextantAPI
import Testing

@testable import SextantOperator

@Suite("Rollout planner")
struct RolloutPlannerUnitTests {
    static let threeSteps = RolloutSpec(steps: [10, 50, 100], stepInterval: "1m")

    func plan(
        _ subject: InferenceService, desired: Int64?, generation: Int64 = 1, health: [Int64: VariantHealth] = [:],
        verdict: StepVerdict? = nil, now: KubeTime
    ) -> RolloutPlan {
        let wanted = desired.map { version($0, stage: .production, conditions: passedConditions(generation: generation), generation: generation) }
        return RolloutPlanner.plan(RolloutObservation(service: subject.withDefaults(), desired: wanted, health: health, verdict: verdict, now: now))
    }

    func written(_ plan: RolloutPlan, to subject: InferenceService) -> InferenceService {
        var copy = subject
        copy.status = plan.status
        return copy
    }

    func condition(_ plan: RolloutPlan, _ type: String) -> Condition? { plan.status.conditions?[type: type] }

    /// A service at canary step `step` of `threeSteps` (10, 50, 100), the step started at `started`.
    func atStep(
        _ step: Int32, started: Double = 0, rollout: RolloutSpec = threeSteps, failures: Int32 = 0, annotations: [String: String]? = nil
    ) -> InferenceService {
        let weight = (rollout.steps ?? InferenceService.defaultSteps)[Int(step)]
        return service(
            rollout: rollout, annotations: annotations,
            status: serving(
                1, canary: VariantStatus(version: 2, weight: weight),
                rollout: RolloutProgress(currentStep: step, stepStartedAt: at(started), failures: failures)))
    }

    @Test("the first version is deployed directly")
    func initialDeploy() {
        let first = plan(service(), desired: 1, now: at(0))
        #expect(first.status.stable == VariantStatus(version: 1, weight: 100))
        #expect(first.status.canary == nil)
        #expect(first.events == [RolloutEvent(warning: false, reason: "Deploying", message: "serving version 1")])
        #expect(condition(first, InferenceServiceConditions.ready)?.reason == "Deploying")
        #expect(condition(first, InferenceServiceConditions.progressing)?.reason == "NoRollout")
        #expect(first.status.phase == .pending)
        #expect(first.requeueAfter == nil)

        let up = plan(written(first, to: service()), desired: 1, health: [1: healthy(2)], now: at(5))
        #expect(up.events.isEmpty)
        #expect(condition(up, InferenceServiceConditions.ready)?.status == .true)
        #expect(condition(up, InferenceServiceConditions.ready)?.message == "version 1 serves with 2 ready replicas")
        #expect(up.status.stable == VariantStatus(version: 1, weight: 100, replicas: 2, readyReplicas: 2))
        #expect(up.status.phase == .serving)
        #expect(up.status.observedGeneration == 1)
    }

    @Test("without a version to serve, the service says why")
    func noVersion() {
        let tracking = plan(service(track: .staging), desired: nil, now: at(0))
        #expect(tracking.status.stable == nil)
        #expect(condition(tracking, InferenceServiceConditions.ready)?.reason == "NoVersion")
        #expect(
            condition(tracking, InferenceServiceConditions.ready)?.message == "no version of model fraud is in Staging or requests it with its gates passed")
        #expect(tracking.status.phase == .pending)
        let pinned = plan(service(pinned: 4), desired: nil, now: at(0))
        #expect(condition(pinned, InferenceServiceConditions.ready)?.message == "version 4 of model fraud is not available")
    }

    @Test("a stable version that never became ready is replaced outright")
    func neverReadyReplaced() {
        let stuck = service(status: serving(1, ready: false))
        let replaced = plan(stuck, desired: 2, health: [1: starting()], now: at(0))
        #expect(replaced.status.stable?.version == 2)
        #expect(replaced.status.canary == nil)
        #expect(replaced.status.rollout == nil)
        #expect(replaced.events.map(\.reason) == ["Deploying"])

        // Once anything rolled out, a new version goes through a rollout even if the stable one is down.
        var rolledOutBefore = stuck
        rolledOutBefore.status?.lastRollout = RolloutResult(version: 1, result: .promoted, reason: "StepsPassed", time: epoch)
        #expect(plan(rolledOutBefore, desired: 2, health: [1: starting()], now: at(0)).status.canary?.version == 2)
        // And so does one whose stable version was ever Ready.
        #expect(plan(service(status: serving(1, ready: true)), desired: 2, health: [1: starting()], now: at(0)).status.canary?.version == 2)
    }

    @Test("a canary walks its steps, each after stepInterval, and is promoted after the last")
    func canaryWalk() {
        var subject = service(rollout: Self.threeSteps, status: serving(1))
        var health: [Int64: VariantHealth] = [1: healthy()]

        let started = plan(subject, desired: 2, health: health, now: at(0))
        #expect(started.status.canary == VariantStatus(version: 2, weight: 0))
        #expect(started.status.stable?.weight == 100)
        #expect(started.status.rollout == RolloutProgress(currentStep: nil, stepStartedAt: at(0), failures: 0))
        #expect(started.events == [RolloutEvent(warning: false, reason: "RolloutStarted", message: "version 2 starts beside version 1 with no traffic")])
        #expect(started.requeueAfter == .seconds(600))
        #expect(condition(started, InferenceServiceConditions.progressing)?.reason == "WaitingForCanary")
        #expect(condition(started, InferenceServiceConditions.ready)?.status == .true)
        #expect(started.status.phase == .progressing)
        subject = written(started, to: subject)

        health[2] = starting()
        let waiting = plan(subject, desired: 2, health: health, now: at(5))
        #expect(waiting.status.canary?.weight == 0)
        #expect(waiting.status.rollout?.currentStep == nil)
        #expect(waiting.requeueAfter == .seconds(595))
        #expect(waiting.events.isEmpty)
        subject = written(waiting, to: subject)

        health[2] = healthy()
        let first = plan(subject, desired: 2, health: health, now: at(10))
        #expect(first.status.canary?.weight == 10)
        #expect(first.status.stable?.weight == 90)
        #expect(first.status.rollout?.currentStep == 0)
        #expect(first.status.rollout?.stepStartedAt == at(10))
        #expect(first.requeueAfter == .seconds(60))
        #expect(first.events.map(\.message) == ["version 2 is ready; step 1 of 3: 10% of traffic"])
        #expect(condition(first, InferenceServiceConditions.progressing)?.message == "version 2 at step 1 of 3 (10%)")
        #expect(first.status.canary?.readyReplicas == 1)
        subject = written(first, to: subject)

        let early = plan(subject, desired: 2, health: health, now: at(40))
        #expect(early.status.canary?.weight == 10)
        #expect(early.requeueAfter == .seconds(30))
        #expect(early.events.isEmpty)

        let second = plan(subject, desired: 2, health: health, now: at(70))
        #expect(second.status.canary?.weight == 50)
        #expect(second.status.stable?.weight == 50)
        #expect(second.status.rollout?.currentStep == 1)
        #expect(second.events.map(\.message) == ["version 2: step 2 of 3: 50% of traffic"])
        subject = written(second, to: subject)

        let third = plan(subject, desired: 2, health: health, now: at(130))
        #expect(third.status.canary?.weight == 100)
        #expect(third.status.stable?.weight == 0)
        subject = written(third, to: subject)

        let promoted = plan(subject, desired: 2, generation: 4, health: health, now: at(190))
        #expect(promoted.status.stable?.version == 2)
        #expect(promoted.status.stable?.weight == 100)
        #expect(promoted.status.canary == nil)
        #expect(promoted.status.rollout == nil)
        #expect(
            promoted.status.lastRollout
                == RolloutResult(
                    version: 2, result: .promoted, reason: "StepsPassed", message: "version 2 passed 3 steps",
                    time: at(190), modelVersionGeneration: 4))
        #expect(promoted.events == [RolloutEvent(warning: false, reason: "Promoted", message: "version 2 now serves all traffic; version 1 retired")])
        #expect(condition(promoted, InferenceServiceConditions.progressing)?.status == .false)
        #expect(condition(promoted, InferenceServiceConditions.progressing)?.reason == "RolloutComplete")
        #expect(promoted.status.phase == .serving)
        #expect(promoted.requeueAfter == nil)

        let steady = plan(written(promoted, to: subject), desired: 2, health: [2: healthy()], now: at(300))
        #expect(steady.events.isEmpty)
        #expect(steady.status.stable == VariantStatus(version: 2, weight: 100, replicas: 1, readyReplicas: 1))
    }

    @Test("without autoPromote the last step waits for the promote annotation")
    func manualPromotion() {
        let manual = RolloutSpec(steps: [10, 50, 100], stepInterval: "1m", autoPromote: false)
        let health: [Int64: VariantHealth] = [1: healthy(), 2: healthy()]
        let waiting = plan(atStep(2, rollout: manual), desired: 2, health: health, now: at(600))
        #expect(waiting.status.canary?.version == 2)
        #expect(waiting.status.rollout?.currentStep == 2)
        #expect(waiting.events.isEmpty)
        #expect(waiting.requeueAfter == nil)

        let approved = atStep(2, rollout: manual, annotations: [RolloutPlanner.promoteAnnotation: "true"])
        let promoted = plan(approved, desired: 2, health: health, now: at(600))
        #expect(promoted.status.stable?.version == 2)
        #expect(promoted.status.canary == nil)
        #expect(promoted.status.lastRollout?.reason == "StepsPassed")

        let notYet = atStep(1, rollout: manual, annotations: [RolloutPlanner.promoteAnnotation: "true"])
        #expect(plan(notYet, desired: 2, health: health, now: at(600)).status.rollout?.currentStep == 2)
    }

    @Test("BlueGreen switches all traffic once the new version is ready")
    func blueGreen() {
        let subject = service(rollout: RolloutSpec(strategy: .blueGreen), status: serving(1))
        let started = plan(subject, desired: 2, health: [1: healthy()], now: at(0))
        #expect(started.status.canary == VariantStatus(version: 2, weight: 0))
        let notReady = plan(written(started, to: subject), desired: 2, health: [1: healthy(), 2: starting()], now: at(30))
        #expect(notReady.status.canary?.weight == 0)
        #expect(notReady.status.stable?.version == 1)
        let switched = plan(written(started, to: subject), desired: 2, health: [1: healthy(), 2: healthy()], now: at(30))
        #expect(switched.status.stable == VariantStatus(version: 2, weight: 100, replicas: 1, readyReplicas: 1))
        #expect(switched.status.canary == nil)
        #expect(switched.status.lastRollout?.reason == "BlueGreenSwitch")
        #expect(switched.status.lastRollout?.result == .promoted)
    }

    @Test("Recreate replaces the stable version and completes when it is ready")
    func recreate() {
        let subject = service(rollout: RolloutSpec(strategy: .recreate), status: serving(1))
        let started = plan(subject, desired: 2, health: [1: healthy()], now: at(0))
        #expect(started.status.stable?.version == 2)
        #expect(started.status.stable?.weight == 100)
        #expect(started.status.canary == nil)
        #expect(started.status.rollout != nil)
        #expect(started.events.map(\.message) == ["recreating: version 1 stops, version 2 starts"])
        #expect(condition(started, InferenceServiceConditions.progressing)?.reason == "Recreating")
        #expect(started.status.phase == .progressing)

        let booting = plan(written(started, to: subject), desired: 2, health: [2: starting()], now: at(10))
        #expect(booting.status.rollout != nil)
        #expect(condition(booting, InferenceServiceConditions.ready)?.status == .false)

        let done = plan(written(started, to: subject), desired: 2, health: [2: healthy()], now: at(20))
        #expect(done.status.rollout == nil)
        #expect(
            done.status.lastRollout
                == RolloutResult(version: 2, result: .promoted, reason: "Recreated", message: "version 2 is ready", time: at(20), modelVersionGeneration: 1))
        #expect(done.events.map(\.reason) == ["Promoted"])
        #expect(condition(done, InferenceServiceConditions.progressing)?.reason == "RolloutComplete")
        #expect(done.status.phase == .serving)
    }

    struct RollbackCase: Sendable, CustomTestStringConvertible {
        var label: String
        var annotations: [String: String]?
        var desired: Int64?
        var canaryHealth: VariantHealth
        var result: RolloutOutcome
        var reason: String
        var message: String
        var generation: Int64?
        var testDescription: String { label }
    }

    static let rollbackCases: [RollbackCase] = [
        RollbackCase(
            label: "crash loop", desired: 2,
            canaryHealth: VariantHealth(desiredReplicas: 1, readyReplicas: 0, crashLoop: "pod p is crash-looping (3 restarts)"),
            result: .rolledBack, reason: "CrashLoop", message: "pod p is crash-looping (3 restarts)", generation: 5),
        RollbackCase(
            label: "abort annotation", annotations: [InferenceService.abortAnnotation: "true"], desired: 2, canaryHealth: healthy(),
            result: .aborted, reason: "AbortRequested", message: "annotation ml.sextant.dev/abort-rollout=true", generation: 5),
        RollbackCase(
            label: "desired back to stable", desired: 1, canaryHealth: healthy(),
            result: .aborted, reason: "VersionNoLongerRequested", message: "the service should serve version 1 again", generation: nil),
        RollbackCase(
            label: "no version to serve", desired: nil, canaryHealth: healthy(),
            result: .aborted, reason: "VersionUnavailable", message: "version 2 is no longer available to serve", generation: nil),
    ]

    @Test("rollbacks restore the stable version and record why", arguments: rollbackCases)
    func rollback(_ test: RollbackCase) {
        let subject = atStep(1, started: 0, annotations: test.annotations)
        let result = plan(subject, desired: test.desired, generation: 5, health: [1: healthy(), 2: test.canaryHealth], now: at(30))
        #expect(result.status.stable?.version == 1)
        #expect(result.status.stable?.weight == 100)
        #expect(result.status.canary == nil)
        #expect(result.status.rollout == nil)
        #expect(
            result.status.lastRollout
                == RolloutResult(
                    version: 2, result: test.result, reason: test.reason, message: test.message, time: at(30),
                    modelVersionGeneration: test.generation))
        #expect(
            result.events == [
                RolloutEvent(
                    warning: true, reason: test.result == .aborted ? "RolloutAborted" : "RolledBack",
                    message: "version 2: \(test.reason): \(test.message)")
            ])
        let progressing = condition(result, InferenceServiceConditions.progressing)
        #expect(progressing?.status == .false)
        if test.annotations?[InferenceService.abortAnnotation] == "true" {
            // While the annotation stays, rollouts are paused.
            #expect(progressing?.reason == "Paused")
        } else {
            #expect(progressing?.reason == (test.result == .aborted ? "RolloutAborted" : "RolledBack"))
            #expect(progressing?.message == "version 2: \(test.reason): \(test.message)")
        }
        #expect(result.status.phase == .serving)
    }

    @Test("a canary that does not become ready by the progress deadline is rolled back")
    func deadlineWhileStarting() {
        let subject = service(
            rollout: Self.threeSteps,
            status: serving(1, canary: VariantStatus(version: 2, weight: 0), rollout: RolloutProgress(stepStartedAt: at(0), failures: 0)))
        let health: [Int64: VariantHealth] = [1: healthy(), 2: starting(2, reason: "ImagePullBackOff: back-off pulling image")]
        let before = plan(subject, desired: 2, health: health, now: at(599))
        #expect(before.status.canary?.version == 2)
        #expect(before.requeueAfter == .seconds(1))
        let after = plan(subject, desired: 2, health: health, now: at(600))
        #expect(after.status.canary == nil)
        #expect(after.status.lastRollout?.reason == "ProgressDeadlineExceeded")
        #expect(after.status.lastRollout?.message == "version 2 has 0/2 ready replicas after 10m: ImagePullBackOff: back-off pulling image")
        #expect(after.status.lastRollout?.result == .rolledBack)

        var quick = subject
        quick.spec.rollout?.progressDeadline = "90s"
        let quickAfter = plan(quick, desired: 2, health: [1: healthy()], now: at(90))
        #expect(quickAfter.status.lastRollout?.message == "version 2 has 0/1 ready replicas after 1m30s")
    }

    @Test("a canary that stops being ready during a step gets stepInterval plus the progress deadline")
    func deadlineDuringStep() {
        let health: [Int64: VariantHealth] = [1: healthy(), 2: VariantHealth(desiredReplicas: 2, readyReplicas: 1)]
        let before = plan(atStep(0, started: 0), desired: 2, health: health, now: at(659))
        #expect(before.status.canary?.weight == 10)
        #expect(before.requeueAfter == .seconds(1))
        let after = plan(atStep(0, started: 0), desired: 2, health: health, now: at(660))
        #expect(after.status.canary == nil)
        #expect(after.status.lastRollout?.message == "version 2 has 1/2 ready replicas after 10m")
    }

    @Test("the abort annotation pauses rollouts that have not started")
    func paused() {
        let subject = service(annotations: [InferenceService.abortAnnotation: "true"], status: serving(1))
        let result = plan(subject, desired: 2, health: [1: healthy()], now: at(0))
        #expect(result.status.canary == nil)
        #expect(result.status.stable?.version == 1)
        #expect(result.events.isEmpty)
        #expect(condition(result, InferenceServiceConditions.progressing)?.reason == "Paused")
        #expect(
            condition(result, InferenceServiceConditions.progressing)?.message
                == "rollouts are paused by ml.sextant.dev/abort-rollout=true; remove it to roll out version 2")
        #expect(result.status.phase == .serving)
        var resumed = subject
        resumed.metadata.annotations = [InferenceService.abortAnnotation: "false"]
        #expect(plan(resumed, desired: 2, health: [1: healthy()], now: at(0)).status.canary?.version == 2)
    }

    @Test("a newer desired version replaces the canary")
    func superseded() {
        let result = plan(atStep(1, started: 0), desired: 3, health: [1: healthy(), 2: healthy()], now: at(30))
        #expect(result.status.canary == VariantStatus(version: 3, weight: 0))
        #expect(result.status.stable == VariantStatus(version: 1, weight: 100, replicas: 1, readyReplicas: 1))
        #expect(result.status.rollout == RolloutProgress(currentStep: nil, stepStartedAt: at(30), failures: 0))
        #expect(result.status.lastRollout == RolloutResult(version: 2, result: .aborted, reason: "Superseded", message: "version 3 replaces it", time: at(30)))
        #expect(result.events.map(\.reason) == ["RolloutSuperseded", "RolloutStarted"])
        #expect(result.requeueAfter == .seconds(600))
    }

    struct AnalysisCase: Sendable, CustomTestStringConvertible {
        var failureLimit: Int32?
        var failuresSoFar: Int32
        var rollsBack: Bool
        var testDescription: String { "failureLimit \(failureLimit.map(String.init) ?? "default") after \(failuresSoFar) failures" }
    }

    /// `failureLimit` is the number of failed checks tolerated: the check after that many rolls back.
    static let analysisCases: [AnalysisCase] = [
        AnalysisCase(failureLimit: nil, failuresSoFar: 0, rollsBack: false),
        AnalysisCase(failureLimit: nil, failuresSoFar: 1, rollsBack: false),
        AnalysisCase(failureLimit: nil, failuresSoFar: 2, rollsBack: true),
        AnalysisCase(failureLimit: 0, failuresSoFar: 0, rollsBack: true),
        AnalysisCase(failureLimit: 1, failuresSoFar: 0, rollsBack: false),
        AnalysisCase(failureLimit: 1, failuresSoFar: 1, rollsBack: true),
        AnalysisCase(failureLimit: 3, failuresSoFar: 2, rollsBack: false),
    ]

    @Test("a failing analysis verdict is tolerated up to failureLimit, then rolls back", arguments: analysisCases)
    func analysisFailures(_ test: AnalysisCase) {
        var rollout = Self.threeSteps
        rollout.analysis = AnalysisSpec(failureLimit: test.failureLimit)
        let verdict = StepVerdict.fail(reason: "AnalysisFailed", message: "success rate 91 < 99")
        let health: [Int64: VariantHealth] = [1: healthy(), 2: healthy()]
        let result = plan(atStep(1, started: 0, rollout: rollout, failures: test.failuresSoFar), desired: 2, health: health, verdict: verdict, now: at(60))
        if test.rollsBack {
            #expect(result.status.canary == nil)
            #expect(result.status.lastRollout?.result == .rolledBack)
            #expect(result.status.lastRollout?.reason == "AnalysisFailed")
            #expect(result.status.lastRollout?.message == "success rate 91 < 99")
        } else {
            let limit = test.failureLimit ?? 2
            #expect(result.status.canary == VariantStatus(version: 2, weight: 50, replicas: 1, readyReplicas: 1))
            #expect(result.status.rollout == RolloutProgress(currentStep: 1, stepStartedAt: at(60), failures: test.failuresSoFar + 1))
            #expect(
                result.events == [
                    RolloutEvent(
                        warning: true, reason: "AnalysisFailed",
                        message: "step 2: success rate 91 < 99 (failure \(test.failuresSoFar + 1) of \(limit) allowed)")
                ])
            #expect(result.requeueAfter == .seconds(60))
        }
    }

    @Test("verdicts are asked for only once a step has lasted stepInterval")
    func verdictWaitsForInterval() {
        let verdict = StepVerdict.fail(reason: "AnalysisFailed", message: "bad")
        let result = plan(atStep(0, started: 0), desired: 2, health: [1: healthy(), 2: healthy()], verdict: verdict, now: at(59))
        #expect(result.status.rollout?.failures == 0)
        #expect(result.requeueAfter == .seconds(1))
    }

    @Test("a hold verdict waits without moving", arguments: [("1m", Duration.seconds(10)), ("5s", .seconds(5))])
    func hold(_ interval: String, _ requeue: Duration) {
        let rollout = RolloutSpec(steps: [10, 50, 100], stepInterval: interval)
        let result = plan(
            atStep(0, started: 0, rollout: rollout), desired: 2, health: [1: healthy(), 2: healthy()],
            verdict: .hold("only 12 requests"), now: at(120))
        #expect(result.status.rollout == RolloutProgress(currentStep: 0, stepStartedAt: at(0), failures: 0))
        #expect(result.status.canary?.weight == 10)
        #expect(result.events.isEmpty)
        #expect(result.requeueAfter == requeue)
    }

    @Test("the Ready condition follows the stable version's pods")
    func readyCondition() {
        let crash = VariantHealth(desiredReplicas: 1, readyReplicas: 0, crashLoop: "pod p is crash-looping (5 restarts)")
        let crashing = plan(service(status: serving(1)), desired: 1, health: [1: crash], now: at(0))
        #expect(condition(crashing, InferenceServiceConditions.ready)?.reason == "CrashLoop")
        #expect(condition(crashing, InferenceServiceConditions.ready)?.message == "version 1: pod p is crash-looping (5 restarts)")
        #expect(crashing.status.phase == .pending)

        let pulling = plan(service(status: serving(1)), desired: 1, health: [1: starting(reason: "ErrImagePull")], now: at(0))
        #expect(condition(pulling, InferenceServiceConditions.ready)?.message == "version 1 has no ready replicas yet: ErrImagePull")

        // The transition time moves only when the status changes.
        let previous = service(status: serving(1))
        let still = plan(previous, desired: 1, health: [1: healthy()], now: at(500))
        #expect(condition(still, InferenceServiceConditions.ready)?.lastTransitionTime == epoch)
    }
}
