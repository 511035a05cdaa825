import Foundation
import KubeClient
import KubeCore
import KubeRuntime
import Logging
import SextantAPI

/// Reconciles a RetrainPolicy: tracks its running Job and registers the version a successful
/// run produced, evaluates the triggers (on demand, schedule, drift, accuracy) under suspend,
/// cooldown and the concurrency policy, starts Jobs, and prunes finished Jobs past the history
/// limits.
public struct RetrainPolicyReconciler: Sendable {
    /// Condition types.
    public static let driftCondition = "DriftAboveThreshold"
    public static let accuracyCondition = "AccuracyPastThreshold"
    /// How often serving signals are read while a drift or accuracy trigger is set.
    let signalInterval: Duration

    let caches: OperatorCaches
    let events: EventRecorder
    let stats: ServingStatsReader
    let logger: Logger

    public init(caches: OperatorCaches, events: EventRecorder, signalInterval: Duration = .seconds(30), logger: Logger) {
        self.caches = caches
        self.events = events
        self.signalInterval = signalInterval
        self.stats = ServingStatsReader()
        self.logger = logger
    }

    public func reconcile(_ object: RetrainPolicy, _ context: Controller<RetrainPolicy>.Context) async throws -> Action {
        guard object.metadata.deletionTimestamp == nil else { return .done }
        let policy = object.withDefaults()
        let namespace = policy.metadata.namespace
        let name = policy.metadata.name ?? ""
        let now = KubeTime.now()
        let jobs = caches.jobs.store.byIndex(OperatorCaches.byRetrainPolicy, "\(namespace ?? "")/\(name)")
        var status = object.status ?? RetrainPolicyStatus()
        var conditions = status.conditions ?? []
        let generation = policy.metadata.generation ?? 0
        func set(_ type: String, _ value: Bool, _ reason: String, _ message: String) {
            conditions.set(
                Condition(type: type, status: value ? .true : .false, reason: reason, message: message, observedGeneration: generation, lastTransitionTime: now)
            )
        }
        let jobsApi = Api<KubeClient.Job>(client: context.client, namespace: namespace)

        // 1. The running Job: finished → record, register.
        if let activeName = status.activeJob {
            let active = jobs.first { $0.metadata.name == activeName }
            if let active, let outcome = Self.outcome(of: active) {
                status.activeJob = nil
                let completion = active.status?["completionTime"]?.stringValue.flatMap(KubeTime.init(rfc3339:)) ?? now
                if outcome.succeeded {
                    do {
                        let version = try await register(active, policy: policy, client: context.client)
                        status.lastRegisteredVersion = version
                        status.lastJob = JobRecord(name: activeName, result: .succeeded, completionTime: completion, message: "registered version \(version)")
                        set("Ready", true, "VersionRegistered", "run \(activeName) registered version \(version)")
                        await events.record(
                            object, type: .normal, reason: "VersionRegistered",
                            message: "run \(activeName) registered version \(version) of \(policy.spec.modelName)")
                    } catch {
                        status.lastJob = JobRecord(name: activeName, result: .failed, completionTime: completion, message: "\(error)")
                        set("Ready", false, "RegistrationFailed", "run \(activeName) succeeded but its result could not be registered: \(error)")
                        await events.record(object, type: .warning, reason: "RegistrationFailed", message: "\(error)")
                    }
                } else {
                    status.lastJob = JobRecord(name: activeName, result: .failed, completionTime: completion, message: outcome.message)
                    set("Ready", false, "RunFailed", "run \(activeName) failed: \(outcome.message)")
                    await events.record(object, type: .warning, reason: "RunFailed", message: "run \(activeName) failed: \(outcome.message)")
                }
            } else if active == nil, caches.jobs.store.isSynced {
                status.activeJob = nil
                set("Ready", false, "RunLost", "Job \(activeName) disappeared before it finished")
            }
        }

        // 2. Serving signals for the drift and accuracy triggers.
        var requeue: Duration?
        var drift: SignalReading?
        var accuracy: SignalReading?
        if let trigger = policy.spec.triggers?.drift {
            let value = await signal(trigger.inferenceService, namespace: namespace) { $0["drift"]?["maxPSI"]?.doubleValue }
            let breaching = value.map { $0 > trigger.threshold } ?? false
            set(
                Self.driftCondition, breaching, breaching ? "AboveThreshold" : (value == nil ? "NoMeasurement" : "BelowThreshold"),
                value.map { "max PSI \(RetrainTriggerEvaluation.format($0)) against threshold \(RetrainTriggerEvaluation.format(trigger.threshold))" }
                    ?? "no drift measurement from InferenceService \(trigger.inferenceService)")
            drift = SignalReading(value: value, breaching: breaching, since: conditions[type: Self.driftCondition]?.lastTransitionTime)
            requeue = signalInterval
        }
        if let trigger = policy.spec.triggers?.accuracy {
            let value = await signal(trigger.inferenceService, namespace: namespace) { $0["accuracy"]?["value"]?.doubleValue }
            let metric = trigger.metric ?? .accuracy
            let breaching = value.map { metric == .accuracy ? $0 < trigger.threshold : $0 > trigger.threshold } ?? false
            set(
                Self.accuracyCondition, breaching, breaching ? "PastThreshold" : (value == nil ? "NoMeasurement" : "WithinThreshold"),
                value.map {
                    "online \(metric.rawValue) \(RetrainTriggerEvaluation.format($0)) against threshold \(RetrainTriggerEvaluation.format(trigger.threshold))"
                } ?? "no feedback measurement from InferenceService \(trigger.inferenceService)")
            accuracy = SignalReading(value: value, breaching: breaching, since: conditions[type: Self.accuracyCondition]?.lastTransitionTime)
            requeue = signalInterval
        }

        // 3. Triggers.
        if status.nextScheduleTime == nil {
            let after = status.lastRunTime?.date ?? policy.metadata.creationTimestamp?.date ?? now.date
            status.nextScheduleTime = RetrainTriggerEvaluation.nextScheduleTime(policy, after: after).map(KubeTime.init)
        }
        var evaluated = policy
        evaluated.status = status
        if let decision = RetrainTriggerEvaluation.decide(evaluated, now: now, drift: drift, accuracy: accuracy) {
            if let request = decision.request { status.lastHandledRequest = request }
            if let activeName = status.activeJob {
                switch policy.spec.concurrencyPolicy ?? .forbid {
                case .forbid:
                    set(
                        "RunSkipped", true, "RunActive",
                        "\(decision.trigger.rawValue) trigger skipped: run \(activeName) is still active (concurrencyPolicy Forbid)")
                    if decision.trigger == .schedule {
                        status.nextScheduleTime = RetrainTriggerEvaluation.nextScheduleTime(policy, after: now.date).map(KubeTime.init)
                    }
                    await events.record(object, type: .normal, reason: "RunSkipped", message: "\(decision.message); run \(activeName) is still active")
                    return try await finish(object, status, conditions, requeue: requeue, context)
                case .replace:
                    try? await ChildWriter(client: context.client).delete(KubeClient.Job.self, namespace: namespace, name: activeName)
                    await events.record(
                        object, type: .normal, reason: "RunReplaced", message: "stopped run \(activeName) for a new \(decision.trigger.rawValue) run")
                    status.activeJob = nil
                }
            }
            let versions = caches.versions(ofModel: policy.spec.modelName, namespace: namespace)
            let activeVersions = jobs.compactMap { $0.metadata.annotations?[OperatorLabels.versionAnnotation].flatMap { Int64($0) } }
            let next = (versions.map(\.spec.version) + activeVersions + [status.lastRegisteredVersion ?? 0]).max().map { $0 + 1 } ?? 1
            let job = RetrainJobBuilder.job(
                for: policy, version: next, trigger: decision.trigger, dataset: versions.max { $0.spec.version < $1.spec.version }?.spec.lineage?.dataset?.uri,
                now: now)
            let created = try await jobsApi.create(job, fieldManager: OperatorLabels.fieldManager)
            let jobName = created.metadata.name ?? ""
            status.activeJob = jobName
            status.lastRunTime = now
            status.lastTrigger = TriggerRecord(type: decision.trigger, time: now, message: decision.message)
            status.nextScheduleTime = RetrainTriggerEvaluation.nextScheduleTime(policy, after: now.date).map(KubeTime.init)
            conditions.removeAll { $0.type == "RunSkipped" }
            set("Running", true, decision.trigger.rawValue, "run \(jobName) started for version \(next): \(decision.message)")
            await events.record(object, type: .normal, reason: "RunStarted", message: "run \(jobName) for version \(next): \(decision.message)")
        }
        if let next = status.nextScheduleTime, now >= next {
            // Due but not run (suspended, cooling down, or skipped): wait for the next firing.
            status.nextScheduleTime = RetrainTriggerEvaluation.nextScheduleTime(policy, after: now.date).map(KubeTime.init)
        }
        if status.activeJob == nil { set("Running", false, "Idle", "no run is active") }

        // 4. History limits.
        let finished = jobs.filter { $0.metadata.name != status.activeJob && Self.outcome(of: $0) != nil }
            .sorted { ($0.metadata.creationTimestamp?.date ?? .distantPast) > ($1.metadata.creationTimestamp?.date ?? .distantPast) }
        let succeeded = finished.filter { Self.outcome(of: $0)?.succeeded == true }
        let failed = finished.filter { Self.outcome(of: $0)?.succeeded == false }
        for job in succeeded.dropFirst(Int(policy.spec.successfulJobsHistoryLimit ?? 3)) + failed.dropFirst(Int(policy.spec.failedJobsHistoryLimit ?? 1)) {
            try await ChildWriter(client: context.client).delete(KubeClient.Job.self, namespace: namespace, name: job.metadata.name ?? "")
        }

        if let next = status.nextScheduleTime {
            let wait = Duration.milliseconds(Int64(max(0.1, next.date.timeIntervalSince(now.date) + 0.5) * 1000))
            requeue = min(requeue, wait)
        }
        return try await finish(object, status, conditions, requeue: requeue, context)
    }

    private func finish(
        _ object: RetrainPolicy, _ status: RetrainPolicyStatus, _ conditions: [Condition], requeue: Duration?, _ context: Controller<RetrainPolicy>.Context
    ) async throws -> Action {
        var status = status
        status.conditions = conditions
        status.observedGeneration = object.metadata.generation
        if status != object.status {
            var updated = object
            updated.status = status
            _ = try await Api<RetrainPolicy>(client: context.client, namespace: object.metadata.namespace).updateStatus(updated)
        }
        return requeue.map { .requeue(after: $0) } ?? .done
    }

    private func signal(_ serviceName: String, namespace: String?, _ extract: (JSONValue) -> Double?) async -> Double? {
        guard let service = caches.inferenceServices.store.get(ObjectKey(namespace: namespace, name: serviceName)),
            let stable = service.status?.stable?.version
        else { return nil }
        let versionService = caches.services.store.get(ObjectKey(namespace: namespace, name: ServingNames.version(serviceName, stable)))
        return await stats.stats(of: service, versionService: versionService).flatMap(extract)
    }

    /// Whether a Job finished, and how.
    static func outcome(of job: KubeClient.Job) -> (succeeded: Bool, message: String)? {
        for condition in job.status?["conditions"]?.arrayValue ?? [] where condition["status"]?.stringValue == "True" {
            switch condition["type"]?.stringValue {
            case "Complete": return (true, "completed")
            case "Failed":
                return (false, [condition["reason"]?.stringValue, condition["message"]?.stringValue].compactMap { $0 }.joined(separator: ": "))
            default: continue
            }
        }
        return nil
    }

    /// Creates the ModelVersion a successful run produced (idempotent: a version this Job
    /// already registered is found, not duplicated).
    private func register(_ job: KubeClient.Job, policy: RetrainPolicy, client: KubernetesClient) async throws -> Int64 {
        guard let version = job.metadata.annotations?[OperatorLabels.versionAnnotation].flatMap({ Int64($0) }) else {
            throw TrainerResult.Invalid(description: "Job has no \(OperatorLabels.versionAnnotation) annotation")
        }
        let jobName = job.metadata.name ?? ""
        let pods = try await Api<Pod>(client: client, namespace: job.metadata.namespace).list(ListParams(labelSelector: "job-name=\(jobName)"))
        let message =
            pods.items
            .filter { $0.status?["phase"]?.stringValue == "Succeeded" }
            .compactMap { pod in pod.status?["containerStatuses"]?.arrayValue?.compactMap { $0["state"]?["terminated"]?["message"]?.stringValue }.first }
            .first ?? ""
        let result = try TrainerResult.parse(message)
        var lineage = result.lineage ?? Lineage()
        lineage.trainingJob = jobName
        let name = "\(policy.spec.modelName)-v\(version)"
        let modelVersion = ModelVersion(
            metadata: ObjectMeta(
                name: name, namespace: job.metadata.namespace,
                labels: [OperatorLabels.model: policy.spec.modelName, OperatorLabels.retrainPolicy: policy.metadata.name ?? ""],
                annotations: ["ml.sextant.dev/trained-by": jobName]),
            spec: ModelVersionSpec(
                modelName: policy.spec.modelName, version: version, artifact: result.artifact, metrics: result.metrics,
                lineage: lineage, driftBaseline: result.driftBaseline, stage: policy.spec.newVersionStage ?? .development))
        let api = Api<ModelVersion>(client: client, namespace: job.metadata.namespace)
        do {
            _ = try await api.create(modelVersion, fieldManager: OperatorLabels.fieldManager)
        } catch KubernetesError.alreadyExists {
            let existing = try await api.get(name)
            guard existing.metadata.annotations?["ml.sextant.dev/trained-by"] == jobName else {
                throw TrainerResult.Invalid(description: "ModelVersion \(name) already exists and was not registered by run \(jobName)")
            }
        }
        return version
    }
}
