import KubeCore

/// Retrains a Model: when (schedule, drift, falling accuracy, on demand), with which Job,
/// where its output goes, and what stage the new version requests.
public struct RetrainPolicy: SextantResource {
    public static let kind = "RetrainPolicy"

    public var apiVersion: String = RetrainPolicy.apiVersion
    public var kind: String = RetrainPolicy.kind
    public var metadata: ObjectMeta
    public var spec: RetrainPolicySpec
    public var status: RetrainPolicyStatus?

    public init(metadata: ObjectMeta, spec: RetrainPolicySpec, status: RetrainPolicyStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// Setting this annotation to a new value (e.g. a timestamp) requests one run now.
    public static let runRequestAnnotation = "ml.sextant.dev/retrain-requested"
}

/// The desired state of a RetrainPolicy.
public struct RetrainPolicySpec: Codable, Sendable, Hashable {
    /// The Model retrained, in this namespace.
    public var modelName: String
    /// What starts a run. A run can always be requested with the `ml.sextant.dev/retrain-requested` annotation.
    public var triggers: RetrainTriggers?
    /// The training Job (a batch/v1 JobTemplateSpec).
    public var jobTemplate: JobTemplate
    /// Where the trainer writes the artifact.
    public var output: RetrainOutput
    /// The stage new versions request: Development or Staging. Default Development.
    public var newVersionStage: ModelStage?
    /// Forbid (skip a run while one is active) or Replace (stop it and start anew). Default Forbid.
    public var concurrencyPolicy: RetrainConcurrencyPolicy?
    /// Least time between the start of two triggered runs. Default 1h.
    public var cooldown: String?
    /// Finished successful Jobs kept. Default 3.
    public var successfulJobsHistoryLimit: Int32?
    /// Finished failed Jobs kept. Default 1.
    public var failedJobsHistoryLimit: Int32?
    /// Stop starting runs (a running one finishes). Default false.
    public var suspend: Bool?

    public init(
        modelName: String, triggers: RetrainTriggers? = nil, jobTemplate: JobTemplate, output: RetrainOutput,
        newVersionStage: ModelStage? = nil, concurrencyPolicy: RetrainConcurrencyPolicy? = nil, cooldown: String? = nil,
        successfulJobsHistoryLimit: Int32? = nil, failedJobsHistoryLimit: Int32? = nil, suspend: Bool? = nil
    ) {
        self.modelName = modelName
        self.triggers = triggers
        self.jobTemplate = jobTemplate
        self.output = output
        self.newVersionStage = newVersionStage
        self.concurrencyPolicy = concurrencyPolicy
        self.cooldown = cooldown
        self.successfulJobsHistoryLimit = successfulJobsHistoryLimit
        self.failedJobsHistoryLimit = failedJobsHistoryLimit
        self.suspend = suspend
    }
}

/// What starts a retraining run.
public struct RetrainTriggers: Codable, Sendable, Hashable {
    public var schedule: ScheduleTrigger?
    public var drift: DriftTrigger?
    public var accuracy: AccuracyTrigger?

    public init(schedule: ScheduleTrigger? = nil, drift: DriftTrigger? = nil, accuracy: AccuracyTrigger? = nil) {
        self.schedule = schedule
        self.drift = drift
        self.accuracy = accuracy
    }
}

/// A cron schedule.
public struct ScheduleTrigger: Codable, Sendable, Hashable {
    /// Five-field cron syntax or a macro such as `@daily`.
    public var cron: String
    /// IANA time zone of the schedule, e.g. `Europe/Berlin`. Default UTC.
    public var timeZone: String?

    public init(cron: String, timeZone: String? = nil) {
        self.cron = cron
        self.timeZone = timeZone
    }
}

/// Input drift of a served model above a threshold for a while.
public struct DriftTrigger: Codable, Sendable, Hashable {
    /// The InferenceService whose inputs are watched.
    public var inferenceService: String
    /// Largest per-feature population-stability index tolerated, e.g. 0.2.
    public var threshold: Double
    /// How long drift must stay above the threshold. Default 10m.
    public var `for`: String?

    public init(inferenceService: String, threshold: Double, for duration: String? = nil) {
        self.inferenceService = inferenceService
        self.threshold = threshold
        self.for = duration
    }
}

/// Online accuracy (or error) from feedback past a threshold for a while.
public struct AccuracyTrigger: Codable, Sendable, Hashable {
    /// The InferenceService whose feedback is watched.
    public var inferenceService: String
    /// Accuracy (run when below threshold) or MeanAbsoluteError (run when above). Default Accuracy.
    public var metric: AccuracyMetric?
    public var threshold: Double
    /// How long the metric must stay past the threshold. Default 10m.
    public var `for`: String?

    public init(inferenceService: String, metric: AccuracyMetric? = nil, threshold: Double, for duration: String? = nil) {
        self.inferenceService = inferenceService
        self.metric = metric
        self.threshold = threshold
        self.for = duration
    }
}

/// Online quality metrics a trigger can watch.
public enum AccuracyMetric: String, Codable, Sendable, CaseIterable, Hashable {
    case accuracy = "Accuracy"
    case meanAbsoluteError = "MeanAbsoluteError"
}

/// A batch/v1 JobTemplateSpec. The Job spec is kept as written and passed to the Job.
public struct JobTemplate: Codable, Sendable, Hashable {
    /// Labels and annotations of the Job.
    public var metadata: TemplateMetadata?
    /// A batch/v1 JobSpec; `template.spec.containers` must name at least one container with an image.
    public var spec: JSONValue

    public init(metadata: TemplateMetadata? = nil, spec: JSONValue) {
        self.metadata = metadata
        self.spec = spec
    }
}

/// Labels and annotations of a templated object.
public struct TemplateMetadata: Codable, Sendable, Hashable {
    public var labels: [String: String]?
    public var annotations: [String: String]?

    public init(labels: [String: String]? = nil, annotations: [String: String]? = nil) {
        self.labels = labels
        self.annotations = annotations
    }
}

/// Where a run writes its artifact.
public struct RetrainOutput: Codable, Sendable, Hashable {
    /// An artifact URI with placeholders: `{model}`, `{version}` (required), `{namespace}`, `{run}`.
    public var artifactURITemplate: String

    public init(artifactURITemplate: String) { self.artifactURITemplate = artifactURITemplate }

    /// Placeholders the template may use.
    public static let placeholders = ["{model}", "{version}", "{namespace}", "{run}"]
}

/// Concurrency policies.
public enum RetrainConcurrencyPolicy: String, Codable, Sendable, CaseIterable, Hashable {
    case forbid = "Forbid"
    case replace = "Replace"
}

/// The observed state of a RetrainPolicy.
public struct RetrainPolicyStatus: Codable, Sendable, Hashable {
    public var observedGeneration: Int64?
    /// When the last run started.
    public var lastRunTime: KubeTime?
    /// When the schedule fires next.
    public var nextScheduleTime: KubeTime?
    /// What started the last run.
    public var lastTrigger: TriggerRecord?
    /// The Job running now.
    public var activeJob: String?
    /// How the last finished Job ended.
    public var lastJob: JobRecord?
    /// The version the last successful run registered.
    public var lastRegisteredVersion: Int64?
    /// The last value of the run-request annotation acted on.
    public var lastHandledRequest: String?
    public var conditions: [Condition]?

    public init(
        observedGeneration: Int64? = nil, lastRunTime: KubeTime? = nil, nextScheduleTime: KubeTime? = nil,
        lastTrigger: TriggerRecord? = nil, activeJob: String? = nil, lastJob: JobRecord? = nil,
        lastRegisteredVersion: Int64? = nil, lastHandledRequest: String? = nil, conditions: [Condition]? = nil
    ) {
        self.observedGeneration = observedGeneration
        self.lastRunTime = lastRunTime
        self.nextScheduleTime = nextScheduleTime
        self.lastTrigger = lastTrigger
        self.activeJob = activeJob
        self.lastJob = lastJob
        self.lastRegisteredVersion = lastRegisteredVersion
        self.lastHandledRequest = lastHandledRequest
        self.conditions = conditions
    }
}

/// What started a run.
public struct TriggerRecord: Codable, Sendable, Hashable {
    public var type: TriggerType
    public var time: KubeTime
    public var message: String?

    public init(type: TriggerType, time: KubeTime, message: String? = nil) {
        self.type = type
        self.time = time
        self.message = message
    }
}

/// Kinds of trigger.
public enum TriggerType: String, Codable, Sendable, CaseIterable, Hashable {
    case schedule = "Schedule"
    case drift = "Drift"
    case accuracy = "Accuracy"
    case onDemand = "OnDemand"
}

/// How a finished Job ended.
public struct JobRecord: Codable, Sendable, Hashable {
    public var name: String
    public var result: JobResult
    public var completionTime: KubeTime?
    public var message: String?

    public init(name: String, result: JobResult, completionTime: KubeTime? = nil, message: String? = nil) {
        self.name = name
        self.result = result
        self.completionTime = completionTime
        self.message = message
    }
}

/// Job outcomes.
public enum JobResult: String, Codable, Sendable, CaseIterable, Hashable {
    case succeeded = "Succeeded"
    case failed = "Failed"
}
