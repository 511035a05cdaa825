import KubeCore

/// Serves a Model: the version it tracks (a stage, or a pinned version), how a new version
/// rolls out, how traffic is split, and the pods that run the Sextant server.
public struct InferenceService: SextantResource {
    public static let kind = "InferenceService"

    public var apiVersion: String = InferenceService.apiVersion
    public var kind: String = InferenceService.kind
    public var metadata: ObjectMeta
    public var spec: InferenceServiceSpec
    public var status: InferenceServiceStatus?

    public init(metadata: ObjectMeta, spec: InferenceServiceSpec, status: InferenceServiceStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// Setting this annotation to `true` aborts a running rollout and restores the stable version.
    public static let abortAnnotation = "ml.sextant.dev/abort-rollout"
}

/// The desired state of an InferenceService.
public struct InferenceServiceSpec: Codable, Sendable, Hashable {
    /// The Model served, in this namespace.
    public var modelName: String
    /// The stage whose effective version is served (Staging or Production). Used when
    /// `pinnedVersion` is absent; Production when both are absent.
    public var trackStage: ModelStage?
    /// Serve exactly this version instead of tracking a stage.
    public var pinnedVersion: Int64?
    /// How a new version replaces the current one.
    public var rollout: RolloutSpec?
    /// How traffic is split between versions.
    public var traffic: TrafficSpec?
    /// Pods per version when autoscaling is off. Default 1.
    public var replicas: Int32?
    /// Horizontal autoscaling of each version's Deployment.
    public var autoscaling: AutoscalingSpec?
    /// Settings of the server pods.
    public var server: ServerSpec?
    /// An A/B experiment between versions; while set, it decides what is served instead of the
    /// tracked stage.
    public var experiment: ExperimentSpec?

    public init(
        modelName: String, trackStage: ModelStage? = nil, pinnedVersion: Int64? = nil, rollout: RolloutSpec? = nil,
        traffic: TrafficSpec? = nil, replicas: Int32? = nil, autoscaling: AutoscalingSpec? = nil, server: ServerSpec? = nil,
        experiment: ExperimentSpec? = nil
    ) {
        self.experiment = experiment
        self.modelName = modelName
        self.trackStage = trackStage
        self.pinnedVersion = pinnedVersion
        self.rollout = rollout
        self.traffic = traffic
        self.replicas = replicas
        self.autoscaling = autoscaling
        self.server = server
    }
}

/// How a new version replaces the current one.
public struct RolloutSpec: Codable, Sendable, Hashable {
    /// Canary (stepwise weights), BlueGreen (switch when ready) or Recreate (replace). Default Canary.
    public var strategy: RolloutStrategy?
    /// Canary traffic percentages, strictly increasing, each 0–100. Default 10, 25, 50, 100.
    public var steps: [Int32]?
    /// How long each step lasts before it is judged. Default 1m.
    public var stepInterval: String?
    /// What is measured at each step.
    public var analysis: AnalysisSpec?
    /// Whether a canary that passes its last step is promoted without a person. Default true.
    public var autoPromote: Bool?
    /// Mirror a share of stable traffic to the new version before it takes live traffic.
    public var shadow: ShadowSpec?
    /// How long a new version may take to become ready (and a step to become healthy again)
    /// before the rollout is rolled back. Default 10m.
    public var progressDeadline: String?

    public init(
        strategy: RolloutStrategy? = nil, steps: [Int32]? = nil, stepInterval: String? = nil,
        analysis: AnalysisSpec? = nil, autoPromote: Bool? = nil, shadow: ShadowSpec? = nil, progressDeadline: String? = nil
    ) {
        self.progressDeadline = progressDeadline
        self.strategy = strategy
        self.steps = steps
        self.stepInterval = stepInterval
        self.analysis = analysis
        self.autoPromote = autoPromote
        self.shadow = shadow
    }
}

/// Rollout strategies.
public enum RolloutStrategy: String, Codable, Sendable, CaseIterable, Hashable {
    case canary = "Canary"
    case blueGreen = "BlueGreen"
    case recreate = "Recreate"
}

/// What is measured at each canary step, and when the canary fails.
public struct AnalysisSpec: Codable, Sendable, Hashable {
    /// Metrics with thresholds; all must pass for a step to pass.
    public var metrics: [AnalysisMetric]?
    /// Requests the canary must have served in a step before a verdict. Default 50.
    public var minRequestCount: Int32?
    /// Failed checks tolerated before rolling back. Default 2.
    public var failureLimit: Int32?
    /// Prometheus base URL for metrics of type Prometheus.
    public var prometheusURL: String?

    public init(metrics: [AnalysisMetric]? = nil, minRequestCount: Int32? = nil, failureLimit: Int32? = nil, prometheusURL: String? = nil) {
        self.metrics = metrics
        self.minRequestCount = minRequestCount
        self.failureLimit = failureLimit
        self.prometheusURL = prometheusURL
    }
}

/// One measured quantity and its allowed range.
public struct AnalysisMetric: Codable, Sendable, Hashable {
    /// A name for reports, e.g. `error-rate`.
    public var name: String
    /// What is measured.
    public var type: AnalysisMetricType
    /// Smallest passing value.
    public var min: Double?
    /// Largest passing value.
    public var max: Double?
    /// When true, `min`/`max` bound the difference canary − stable instead of the canary's value.
    public var relativeToStable: Bool?
    /// PromQL for type Prometheus; `{{service}}`, `{{namespace}}`, `{{version}}` and `{{window}}` are substituted.
    public var query: String?

    public init(
        name: String, type: AnalysisMetricType, min: Double? = nil, max: Double? = nil,
        relativeToStable: Bool? = nil, query: String? = nil
    ) {
        self.name = name
        self.type = type
        self.min = min
        self.max = max
        self.relativeToStable = relativeToStable
        self.query = query
    }
}

/// Built-in analysis metrics and their units.
public enum AnalysisMetricType: String, Codable, Sendable, CaseIterable, Hashable {
    /// Percentage (0–100) of requests answered without a server error.
    case successRate = "SuccessRate"
    /// Median latency in milliseconds.
    case latencyP50 = "LatencyP50"
    /// 95th percentile latency in milliseconds.
    case latencyP95 = "LatencyP95"
    /// 99th percentile latency in milliseconds.
    case latencyP99 = "LatencyP99"
    /// Population-stability index between canary and stable prediction distributions.
    case predictionShift = "PredictionShift"
    /// Largest per-feature population-stability index of inputs against the drift baseline.
    case inputDrift = "InputDrift"
    /// Online accuracy (0–1) from feedback labels.
    case accuracy = "Accuracy"
    /// Online mean absolute error from feedback labels, in target units.
    case meanAbsoluteError = "MeanAbsoluteError"
    /// The value of a PromQL query.
    case prometheus = "Prometheus"
}

/// Mirroring of live traffic to a new version whose answers are discarded.
public struct ShadowSpec: Codable, Sendable, Hashable {
    /// Percentage of stable requests copied to the new version. Default 100.
    public var percent: Int32?

    public init(percent: Int32? = nil) { self.percent = percent }
}

/// How traffic is split between versions.
public struct TrafficSpec: Codable, Sendable, Hashable {
    /// Router (the Sextant router, exact weights), GatewayAPI (an HTTPRoute) or ReplicaRatio. Default Router.
    public var provider: TrafficProvider?
    /// HTTPRoute settings, required for provider GatewayAPI.
    public var gatewayAPI: GatewayAPITraffic?
    /// Keep a client on one version by this request header, or the cookie of that name (Router only).
    public var stickyHeader: String?

    public init(provider: TrafficProvider? = nil, gatewayAPI: GatewayAPITraffic? = nil, stickyHeader: String? = nil) {
        self.provider = provider
        self.gatewayAPI = gatewayAPI
        self.stickyHeader = stickyHeader
    }
}

/// Traffic providers.
public enum TrafficProvider: String, Codable, Sendable, CaseIterable, Hashable {
    case router = "Router"
    case gatewayAPI = "GatewayAPI"
    case replicaRatio = "ReplicaRatio"
}

/// Where the HTTPRoute attaches.
public struct GatewayAPITraffic: Codable, Sendable, Hashable {
    /// Gateways the route attaches to.
    public var parentRefs: [GatewayParentReference]
    /// Host names the route answers.
    public var hostnames: [String]?

    public init(parentRefs: [GatewayParentReference], hostnames: [String]? = nil) {
        self.parentRefs = parentRefs
        self.hostnames = hostnames
    }
}

/// A Gateway reference.
public struct GatewayParentReference: Codable, Sendable, Hashable {
    public var name: String
    public var namespace: String?
    public var sectionName: String?

    public init(name: String, namespace: String? = nil, sectionName: String? = nil) {
        self.name = name
        self.namespace = namespace
        self.sectionName = sectionName
    }
}

/// Horizontal autoscaling of each version's Deployment.
public struct AutoscalingSpec: Codable, Sendable, Hashable {
    /// Default 1.
    public var minReplicas: Int32?
    public var maxReplicas: Int32
    /// Target in-flight requests per pod.
    public var targetConcurrency: Int32?
    /// Target CPU utilisation percentage.
    public var targetCPUUtilizationPercentage: Int32?

    public init(minReplicas: Int32? = nil, maxReplicas: Int32, targetConcurrency: Int32? = nil, targetCPUUtilizationPercentage: Int32? = nil) {
        self.minReplicas = minReplicas
        self.maxReplicas = maxReplicas
        self.targetConcurrency = targetConcurrency
        self.targetCPUUtilizationPercentage = targetCPUUtilizationPercentage
    }
}

/// Settings of the server pods.
public struct ServerSpec: Codable, Sendable, Hashable {
    /// Server image; the operator's default when absent.
    public var image: String?
    public var imagePullPolicy: PullPolicy?
    public var resources: ResourceRequirements?
    public var env: [EnvVar]?
    public var nodeSelector: [String: String]?
    public var tolerations: [Toleration]?
    public var serviceAccountName: String?
    /// HTTP port of the server. Default 8080.
    public var port: Int32?

    public init(
        image: String? = nil, imagePullPolicy: PullPolicy? = nil, resources: ResourceRequirements? = nil,
        env: [EnvVar]? = nil, nodeSelector: [String: String]? = nil, tolerations: [Toleration]? = nil,
        serviceAccountName: String? = nil, port: Int32? = nil
    ) {
        self.image = image
        self.imagePullPolicy = imagePullPolicy
        self.resources = resources
        self.env = env
        self.nodeSelector = nodeSelector
        self.tolerations = tolerations
        self.serviceAccountName = serviceAccountName
        self.port = port
    }
}

/// The observed state of an InferenceService.
public struct InferenceServiceStatus: Codable, Sendable, Hashable {
    public var observedGeneration: Int64?
    /// Where clients send requests.
    public var url: String?
    public var phase: InferenceServicePhase?
    /// The version serving most traffic.
    public var stable: VariantStatus?
    /// The version being rolled out, while a rollout runs.
    public var canary: VariantStatus?
    /// Progress of the running rollout.
    public var rollout: RolloutProgress?
    /// How the last rollout ended.
    public var lastRollout: RolloutResult?
    /// The running or finished experiment.
    public var experiment: ExperimentStatus?
    public var conditions: [Condition]?

    public init(
        observedGeneration: Int64? = nil, url: String? = nil, phase: InferenceServicePhase? = nil,
        stable: VariantStatus? = nil, canary: VariantStatus? = nil, rollout: RolloutProgress? = nil,
        lastRollout: RolloutResult? = nil, conditions: [Condition]? = nil
    ) {
        self.observedGeneration = observedGeneration
        self.url = url
        self.phase = phase
        self.stable = stable
        self.canary = canary
        self.rollout = rollout
        self.lastRollout = lastRollout
        self.conditions = conditions
    }
}

/// Phases of an InferenceService.
public enum InferenceServicePhase: String, Codable, Sendable, CaseIterable, Hashable {
    /// Nothing serves yet (no version, or pods not ready).
    case pending = "Pending"
    /// One version serves all traffic.
    case serving = "Serving"
    /// A rollout is running.
    case progressing = "Progressing"
    /// A rollout is being undone.
    case rollingBack = "RollingBack"
    /// Serving is impossible until the spec or the model changes.
    case failed = "Failed"
}

/// One served version.
public struct VariantStatus: Codable, Sendable, Hashable {
    public var version: Int64
    /// Percentage of traffic.
    public var weight: Int32
    public var replicas: Int32?
    public var readyReplicas: Int32?

    public init(version: Int64, weight: Int32, replicas: Int32? = nil, readyReplicas: Int32? = nil) {
        self.version = version
        self.weight = weight
        self.replicas = replicas
        self.readyReplicas = readyReplicas
    }
}

/// Progress of a running rollout.
public struct RolloutProgress: Codable, Sendable, Hashable {
    /// Index into `spec.rollout.steps`.
    public var currentStep: Int32?
    public var stepStartedAt: KubeTime?
    /// Failed checks so far.
    public var failures: Int32?
    /// The latest verdict per metric.
    public var analysis: [AnalysisResult]?

    public init(currentStep: Int32? = nil, stepStartedAt: KubeTime? = nil, failures: Int32? = nil, analysis: [AnalysisResult]? = nil) {
        self.currentStep = currentStep
        self.stepStartedAt = stepStartedAt
        self.failures = failures
        self.analysis = analysis
    }
}

/// One metric verdict.
public struct AnalysisResult: Codable, Sendable, Hashable {
    public var metric: String
    public var value: Double?
    /// The threshold as written, e.g. `<= 50` or `>= stable - 0.5`.
    public var threshold: String
    public var passed: Bool
    /// The measurement window, e.g. `1m`.
    public var window: String?
    public var time: KubeTime
    public var message: String?

    public init(metric: String, value: Double?, threshold: String, passed: Bool, window: String? = nil, time: KubeTime, message: String? = nil) {
        self.metric = metric
        self.value = value
        self.threshold = threshold
        self.passed = passed
        self.window = window
        self.time = time
        self.message = message
    }
}

/// How a rollout ended.
public struct RolloutResult: Codable, Sendable, Hashable {
    public var version: Int64
    public var result: RolloutOutcome
    public var reason: String
    public var message: String?
    public var time: KubeTime
    /// The ModelVersion's `metadata.generation` when the rollout ended; a version that failed
    /// is not tried again until its spec changes.
    public var modelVersionGeneration: Int64?

    public init(version: Int64, result: RolloutOutcome, reason: String, message: String? = nil, time: KubeTime, modelVersionGeneration: Int64? = nil) {
        self.modelVersionGeneration = modelVersionGeneration
        self.version = version
        self.result = result
        self.reason = reason
        self.message = message
        self.time = time
    }
}

/// Outcomes of a rollout.
public enum RolloutOutcome: String, Codable, Sendable, CaseIterable, Hashable {
    case promoted = "Promoted"
    case rolledBack = "RolledBack"
    case aborted = "Aborted"
}
