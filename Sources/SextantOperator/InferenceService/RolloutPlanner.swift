import Foundation
import KubeCore
import SextantAPI

/// How one version's pods are doing, read from its Deployment and pods.
public struct VariantHealth: Sendable, Equatable {
    public var desiredReplicas: Int32
    public var readyReplicas: Int32
    /// Why a pod is crash-looping, when one is.
    public var crashLoop: String?
    /// Why pods are not ready, when the runtime says (e.g. a waiting reason).
    public var notReadyReason: String?

    public init(desiredReplicas: Int32, readyReplicas: Int32, crashLoop: String? = nil, notReadyReason: String? = nil) {
        self.desiredReplicas = desiredReplicas
        self.readyReplicas = readyReplicas
        self.crashLoop = crashLoop
        self.notReadyReason = notReadyReason
    }

    /// Every wanted replica is ready.
    public var isReady: Bool { readyReplicas >= max(1, desiredReplicas) && crashLoop == nil }
}

/// The judgement of a canary step's measurements (the analysis hook; health-only when nil).
public enum StepVerdict: Sendable, Equatable {
    /// Move on.
    case advance
    /// Not enough evidence yet; look again later.
    case hold(String)
    /// The canary is worse than allowed.
    case fail(reason: String, message: String)
}

/// What the InferenceService reconciler knows when it plans a rollout.
public struct RolloutObservation: Sendable {
    /// The service, with defaults applied.
    public var service: InferenceService
    /// The version the service should serve (see `Candidates`).
    public var desired: ModelVersion?
    /// Health of each version that has a Deployment.
    public var health: [Int64: VariantHealth]
    /// The analysis verdict for the current step, when analysis is configured.
    public var verdict: StepVerdict?
    /// The per-metric results behind `verdict`, recorded in the status.
    public var analysisResults: [AnalysisResult]?
    /// The smoke test of a canary that is ready but has no traffic yet.
    public var smokeTest: SmokeTestOutcome
    public var now: KubeTime

    public init(
        service: InferenceService, desired: ModelVersion?, health: [Int64: VariantHealth], verdict: StepVerdict? = nil,
        analysisResults: [AnalysisResult]? = nil, smokeTest: SmokeTestOutcome = .notConfigured, now: KubeTime
    ) {
        self.service = service
        self.desired = desired
        self.health = health
        self.verdict = verdict
        self.analysisResults = analysisResults
        self.smokeTest = smokeTest
        self.now = now
    }

    /// Whether the current canary step has lasted its interval (the moment it is judged).
    public static func stepIsDue(_ service: InferenceService, now: KubeTime) -> Bool {
        guard service.status?.canary != nil, service.status?.rollout?.currentStep != nil,
            let started = service.status?.rollout?.stepStartedAt
        else { return false }
        let interval = DurationString.seconds(service.spec.rollout?.stepInterval ?? "1m") ?? 60
        return now.date.timeIntervalSince(started.date) >= interval
    }

    /// Whether a canary is ready and waits for its smoke test before its first step.
    public static func awaitsSmokeTest(_ service: InferenceService, health: [Int64: VariantHealth]) -> Bool {
        guard let canary = service.status?.canary, service.status?.rollout != nil, service.status?.rollout?.currentStep == nil else { return false }
        return health[canary.version]?.isReady == true
    }
}

/// An Event the reconciler records because the rollout changed.
public struct RolloutEvent: Sendable, Equatable {
    public var warning: Bool
    public var reason: String
    public var message: String
}

/// The next status of an InferenceService and what to tell people about it.
public struct RolloutPlan: Sendable {
    public var status: InferenceServiceStatus
    public var events: [RolloutEvent] = []
    /// When to look again because a timer (step interval, deadline) runs out.
    public var requeueAfter: Duration?
}

/// Condition types of an InferenceService.
public enum InferenceServiceConditions {
    /// The stable version has ready pods and traffic reaches them.
    public static let ready = "Ready"
    /// A rollout is running.
    public static let progressing = "Progressing"
    /// The traffic-split objects were written.
    public static let trafficReady = "TrafficReady"
}

/// The rollout state machine, a pure function of observed state (the status is the state).
///
/// - No stable version, or a stable version that never became ready: serve the desired version
///   directly (nothing is lost by replacing something that serves nothing).
/// - A desired version different from the stable one starts a rollout (unless rollouts are
///   paused by the abort annotation): Canary and BlueGreen start it beside the stable version
///   with no traffic; Recreate replaces the stable version.
/// - While it runs: an abort, a desired version back to stable, a vanished version, a crash
///   loop or a missed progress deadline roll back (the stable version gets 100%); a newer
///   desired version replaces the canary. Once the canary is ready, Canary walks the steps, each
///   lasting `stepInterval` and judged by the analysis verdict; BlueGreen switches at once;
///   passing the last step promotes (with `autoPromote`, or when the promote annotation is set).
public enum RolloutPlanner {
    /// Setting this annotation to `true` promotes a canary that waits at its last step.
    public static let promoteAnnotation = "ml.sextant.dev/promote-rollout"

    public static func plan(_ observed: RolloutObservation) -> RolloutPlan {
        var planner = Run(observed: observed)
        planner.step()
        return planner.finish()
    }

    private struct Run {
        let observed: RolloutObservation
        var status: InferenceServiceStatus
        var events: [RolloutEvent] = []
        var requeueAfter: Duration?
        let rollout: RolloutSpec
        let now: KubeTime

        init(observed: RolloutObservation) {
            self.observed = observed
            status = observed.service.status ?? InferenceServiceStatus()
            rollout = observed.service.spec.rollout ?? RolloutSpec()
            now = observed.now
        }

        var annotations: [String: String] { observed.service.metadata.annotations ?? [:] }
        var abortRequested: Bool { annotations[InferenceService.abortAnnotation] == "true" }
        var desiredVersion: Int64? { observed.desired?.spec.version }
        var steps: [Int32] { rollout.steps ?? InferenceService.defaultSteps }
        var stepInterval: Double { DurationString.seconds(rollout.stepInterval ?? "1m") ?? 60 }
        var progressDeadline: Double { DurationString.seconds(rollout.progressDeadline ?? "10m") ?? 600 }

        func health(_ version: Int64?) -> VariantHealth? { version.flatMap { observed.health[$0] } }

        mutating func event(_ reason: String, _ message: String, warning: Bool = false) {
            events.append(RolloutEvent(warning: warning, reason: reason, message: message))
        }

        mutating func wake(after seconds: Double) {
            let delay = Duration.milliseconds(Int64(max(0.05, seconds) * 1000))
            if requeueAfter == nil || delay < requeueAfter! { requeueAfter = delay }
        }

        func elapsed(since time: KubeTime?) -> Double { time.map { now.date.timeIntervalSince($0.date) } ?? 0 }

        mutating func step() {
            guard let stable = status.stable else {
                if let desired = desiredVersion {
                    status.stable = VariantStatus(version: desired, weight: 100)
                    event("Deploying", "serving version \(desired)")
                }
                return
            }
            guard let canary = status.canary else {
                guard let desired = desiredVersion, desired != stable.version else { return }
                if health(stable.version).map({ $0.readyReplicas == 0 }) ?? true, status.rollout == nil, !everReady {
                    // The stable version never served: replace it outright.
                    status.stable = VariantStatus(version: desired, weight: 100)
                    event("Deploying", "version \(stable.version) never became ready; serving version \(desired) instead")
                    return
                }
                if status.rollout != nil {
                    // Recreate in progress: the stable version is the new one.
                    return
                }
                guard !abortRequested else { return }
                start(desired, replacing: stable.version)
                return
            }
            if abortRequested {
                rollBack(canary.version, outcome: .aborted, reason: "AbortRequested", message: "annotation \(InferenceService.abortAnnotation)=true")
                return
            }
            guard let desired = desiredVersion else {
                rollBack(canary.version, outcome: .aborted, reason: "VersionUnavailable", message: "version \(canary.version) is no longer available to serve")
                return
            }
            if desired == stable.version {
                rollBack(
                    canary.version, outcome: .aborted, reason: "VersionNoLongerRequested", message: "the service should serve version \(stable.version) again")
                return
            }
            if desired != canary.version {
                status.lastRollout = RolloutResult(
                    version: canary.version, result: .aborted, reason: "Superseded", message: "version \(desired) replaces it", time: now,
                    modelVersionGeneration: nil)
                event("RolloutSuperseded", "version \(desired) replaces canary version \(canary.version)")
                start(desired, replacing: stable.version)
                return
            }
            advance(canary: canary.version, stable: stable.version)
        }

        /// Whether the stable version ever served (a rollout once completed, or it was ready).
        var everReady: Bool {
            status.conditions?[type: InferenceServiceConditions.ready] != nil && status.conditions?.isTrue(InferenceServiceConditions.ready) == true
                || status.lastRollout != nil
        }

        mutating func start(_ version: Int64, replacing stable: Int64) {
            switch rollout.strategy ?? .canary {
            case .recreate:
                status.stable = VariantStatus(version: version, weight: 100)
                status.canary = nil
                status.rollout = RolloutProgress(currentStep: nil, stepStartedAt: now, failures: 0, analysis: nil)
                event("RolloutStarted", "recreating: version \(stable) stops, version \(version) starts")
            case .canary, .blueGreen:
                status.canary = VariantStatus(version: version, weight: 0)
                status.stable?.weight = 100
                status.rollout = RolloutProgress(currentStep: nil, stepStartedAt: now, failures: 0, analysis: nil)
                event("RolloutStarted", "version \(version) starts beside version \(stable) with no traffic")
            }
            wake(after: progressDeadline)
        }

        mutating func advance(canary: Int64, stable: Int64) {
            var progress = status.rollout ?? RolloutProgress(currentStep: nil, stepStartedAt: now, failures: 0)
            let health = self.health(canary)
            if let crash = health?.crashLoop {
                rollBack(canary, outcome: .rolledBack, reason: "CrashLoop", message: crash)
                return
            }
            let ready = health?.isReady ?? false
            guard let index = progress.currentStep.map(Int.init) else {
                // Waiting for the canary to become ready.
                if ready {
                    switch observed.smokeTest {
                    case .failed(let message):
                        rollBack(canary, outcome: .rolledBack, reason: "SmokeTestFailed", message: message)
                        return
                    case .pending(let message):
                        if elapsed(since: progress.stepStartedAt) >= progressDeadline {
                            rollBack(canary, outcome: .rolledBack, reason: "SmokeTestFailed", message: "could not run the smoke test: \(message)")
                        } else {
                            wake(after: 1)
                        }
                        return
                    case .passed(let message):
                        progress.analysis = [
                            AnalysisResult(
                                metric: "smoke-test", value: nil, threshold: "every example answered as expected", passed: true, time: now, message: message)
                        ]
                        event("SmokeTestPassed", "version \(canary): \(message)")
                    case .notConfigured:
                        break
                    }
                    if (rollout.strategy ?? .canary) == .blueGreen {
                        promote(canary, reason: "BlueGreenSwitch", message: "version \(canary) is ready; all traffic switched")
                        return
                    }
                    progress.currentStep = 0
                    progress.stepStartedAt = now
                    status.rollout = progress
                    setWeights(canary: steps[0])
                    event("CanaryStep", "version \(canary) is ready; step 1 of \(steps.count): \(steps[0])% of traffic")
                    wake(after: stepInterval)
                } else if elapsed(since: progress.stepStartedAt) >= progressDeadline {
                    rollBack(canary, outcome: .rolledBack, reason: "ProgressDeadlineExceeded", message: notReadyMessage(canary, health))
                } else {
                    wake(after: progressDeadline - elapsed(since: progress.stepStartedAt))
                }
                return
            }
            let inStep = elapsed(since: progress.stepStartedAt)
            if !ready {
                if inStep >= stepInterval + progressDeadline {
                    rollBack(canary, outcome: .rolledBack, reason: "ProgressDeadlineExceeded", message: notReadyMessage(canary, health))
                } else {
                    wake(after: stepInterval + progressDeadline - inStep)
                }
                return
            }
            guard inStep >= stepInterval else {
                wake(after: stepInterval - inStep)
                return
            }
            if let results = observed.analysisResults {
                progress.analysis = results
                status.rollout = progress
            }
            switch observed.verdict ?? .advance {
            case .hold:
                wake(after: min(stepInterval, 10))
                return
            case .fail(let reason, let message):
                let failures = (progress.failures ?? 0) + 1
                progress.failures = failures
                status.rollout = progress
                // failureLimit is how many failed checks are tolerated: the one after them rolls back.
                let limit = rollout.analysis?.failureLimit ?? 2
                if failures > max(0, limit) {
                    rollBack(canary, outcome: .rolledBack, reason: reason, message: message)
                } else {
                    progress.stepStartedAt = now
                    status.rollout = progress
                    event("AnalysisFailed", "step \(index + 1): \(message) (failure \(failures) of \(limit) allowed)", warning: true)
                    wake(after: stepInterval)
                }
                return
            case .advance:
                if let results = observed.analysisResults, !results.isEmpty {
                    event(
                        "AnalysisPassed",
                        "version \(canary), step \(index + 1): "
                            + results.map { "\($0.metric) \($0.value.map(AnalysisJudge.format) ?? "-") (\($0.threshold))" }.joined(separator: ", "))
                }
            }
            if index + 1 < steps.count {
                let next = index + 1
                progress.currentStep = Int32(next)
                progress.stepStartedAt = now
                status.rollout = progress
                setWeights(canary: steps[next])
                event("CanaryStep", "version \(canary): step \(next + 1) of \(steps.count): \(steps[next])% of traffic")
                wake(after: stepInterval)
            } else if rollout.autoPromote ?? true || annotations[RolloutPlanner.promoteAnnotation] == "true" {
                promote(canary, reason: "StepsPassed", message: "version \(canary) passed \(steps.count) steps")
            }
        }

        mutating func setWeights(canary weight: Int32) {
            status.canary?.weight = weight
            status.stable?.weight = 100 - weight
        }

        func notReadyMessage(_ version: Int64, _ health: VariantHealth?) -> String {
            let ready = health?.readyReplicas ?? 0
            let desired = max(1, health?.desiredReplicas ?? 1)
            var message = "version \(version) has \(ready)/\(desired) ready replicas after \(Durations.describe(seconds: progressDeadline))"
            if let reason = health?.notReadyReason { message += ": \(reason)" }
            return message
        }

        mutating func promote(_ version: Int64, reason: String, message: String) {
            let previous = status.stable?.version
            status.stable = VariantStatus(version: version, weight: 100)
            status.canary = nil
            status.rollout = nil
            status.lastRollout = RolloutResult(
                version: version, result: .promoted, reason: reason, message: message, time: now,
                modelVersionGeneration: observed.desired?.metadata.generation)
            event("Promoted", "version \(version) now serves all traffic" + (previous.map { "; version \($0) retired" } ?? ""))
        }

        mutating func rollBack(_ version: Int64, outcome: RolloutOutcome, reason: String, message: String) {
            status.canary = nil
            status.stable?.weight = 100
            status.rollout = nil
            let generation = observed.desired?.spec.version == version ? observed.desired?.metadata.generation : nil
            status.lastRollout = RolloutResult(
                version: version, result: outcome, reason: reason, message: message, time: now, modelVersionGeneration: generation)
            event(outcome == .aborted ? "RolloutAborted" : "RolledBack", "version \(version): \(reason): \(message)", warning: true)
        }

        mutating func finish() -> RolloutPlan {
            var conditions = status.conditions ?? []
            let generation = observed.service.metadata.generation ?? 0
            func set(_ type: String, _ value: Bool, _ reason: String, _ message: String) {
                conditions.set(
                    Condition(
                        type: type, status: value ? .true : .false, reason: reason, message: message, observedGeneration: generation, lastTransitionTime: now))
            }
            if let stable = status.stable {
                let health = self.health(stable.version)
                status.stable?.replicas = health?.desiredReplicas
                status.stable?.readyReplicas = health?.readyReplicas
                if (health?.readyReplicas ?? 0) > 0 {
                    set(InferenceServiceConditions.ready, true, "Serving", "version \(stable.version) serves with \(health?.readyReplicas ?? 0) ready replicas")
                } else if let crash = health?.crashLoop {
                    set(InferenceServiceConditions.ready, false, "CrashLoop", "version \(stable.version): \(crash)")
                } else {
                    set(
                        InferenceServiceConditions.ready, false, "Deploying",
                        "version \(stable.version) has no ready replicas yet" + (health?.notReadyReason.map { ": \($0)" } ?? ""))
                }
            } else {
                let model = observed.service.spec.modelName
                let what =
                    observed.service.spec.pinnedVersion.map { "version \($0) of model \(model) is not available" }
                    ?? "no version of model \(model) is in \((Candidates.tracksStage(observed.service) ?? .production).rawValue) or requests it with its gates passed"
                set(InferenceServiceConditions.ready, false, "NoVersion", what)
            }
            if let canary = status.canary {
                let health = self.health(canary.version)
                status.canary?.replicas = health?.desiredReplicas
                status.canary?.readyReplicas = health?.readyReplicas
                if let step = status.rollout?.currentStep {
                    set(
                        InferenceServiceConditions.progressing, true, "CanaryStep",
                        "version \(canary.version) at step \(step + 1) of \(steps.count) (\(canary.weight)%)")
                } else {
                    set(InferenceServiceConditions.progressing, true, "WaitingForCanary", "version \(canary.version) is starting")
                }
            } else if status.rollout != nil {
                set(InferenceServiceConditions.progressing, true, "Recreating", "version \(status.stable?.version ?? 0) is starting")
                if self.health(status.stable?.version)?.isReady == true {
                    let version = status.stable?.version ?? 0
                    status.rollout = nil
                    status.lastRollout = RolloutResult(
                        version: version, result: .promoted, reason: "Recreated", message: "version \(version) is ready", time: now,
                        modelVersionGeneration: observed.desired?.metadata.generation)
                    events.append(RolloutEvent(warning: false, reason: "Promoted", message: "version \(version) now serves all traffic"))
                    set(InferenceServiceConditions.progressing, false, "RolloutComplete", "version \(version) is ready")
                }
            } else if let last = status.lastRollout {
                set(
                    InferenceServiceConditions.progressing, false,
                    last.result == .promoted ? "RolloutComplete" : (last.result == .aborted ? "RolloutAborted" : "RolledBack"),
                    "version \(last.version): \(last.reason)" + (last.message.map { ": \($0)" } ?? ""))
            } else {
                set(InferenceServiceConditions.progressing, false, "NoRollout", "no rollout has run")
            }
            if abortRequested, status.canary == nil, let desired = desiredVersion, desired != status.stable?.version {
                set(
                    InferenceServiceConditions.progressing, false, "Paused",
                    "rollouts are paused by \(InferenceService.abortAnnotation)=true; remove it to roll out version \(desired)")
            }
            status.phase =
                status.canary != nil || status.rollout != nil ? .progressing : (conditions.isTrue(InferenceServiceConditions.ready) ? .serving : .pending)
            status.conditions = conditions
            status.observedGeneration = generation
            return RolloutPlan(status: status, events: events, requeueAfter: requeueAfter)
        }
    }
}
