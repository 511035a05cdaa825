import KubeCore

/// A named model owned by a team: what it does, what it takes and returns, and the gates a
/// version must pass to enter Staging and Production.
public struct Model: SextantResource {
    public static let kind = "Model"

    public var apiVersion: String = Model.apiVersion
    public var kind: String = Model.kind
    public var metadata: ObjectMeta
    public var spec: ModelSpec
    public var status: ModelStatus?

    public init(metadata: ObjectMeta, spec: ModelSpec, status: ModelStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

/// The desired state of a Model.
public struct ModelSpec: Codable, Sendable, Hashable {
    /// What the model is for, in a sentence or two.
    public var description: String?
    /// The team or person responsible, e.g. `fraud-team@example.com`.
    public var owner: String
    /// The kind of prediction the model makes.
    public var task: ModelTask
    /// Named, typed inputs and outputs every version must accept and produce.
    public var signature: ModelSignature?
    /// Gates a version must pass to enter Staging and Production.
    public var promotion: PromotionPolicy?
    /// How many archived versions are kept.
    public var retention: RetentionPolicy?

    public init(
        description: String? = nil, owner: String, task: ModelTask, signature: ModelSignature? = nil,
        promotion: PromotionPolicy? = nil, retention: RetentionPolicy? = nil
    ) {
        self.description = description
        self.owner = owner
        self.task = task
        self.signature = signature
        self.promotion = promotion
        self.retention = retention
    }
}

/// The kind of prediction a model makes.
public enum ModelTask: String, Codable, Sendable, CaseIterable, Hashable {
    case classification = "Classification"
    case regression = "Regression"
    case ranking = "Ranking"
    case clustering = "Clustering"
    case anomalyDetection = "AnomalyDetection"
    case other = "Other"
}

/// The inputs and outputs of a model, in Open Inference Protocol terms.
public struct ModelSignature: Codable, Sendable, Hashable {
    /// Input tensors, by name.
    public var inputs: [TensorSpec]
    /// Output tensors, by name.
    public var outputs: [TensorSpec]

    public init(inputs: [TensorSpec], outputs: [TensorSpec]) {
        self.inputs = inputs
        self.outputs = outputs
    }
}

/// One named tensor: element type and shape, `-1` marking a variable dimension (the batch).
public struct TensorSpec: Codable, Sendable, Hashable {
    public var name: String
    public var datatype: TensorDatatype
    public var shape: [Int64]

    public init(name: String, datatype: TensorDatatype, shape: [Int64]) {
        self.name = name
        self.datatype = datatype
        self.shape = shape
    }
}

/// Tensor element types, named as the Open Inference Protocol (V2) names them.
public enum TensorDatatype: String, Codable, Sendable, CaseIterable, Hashable {
    case bool = "BOOL"
    case uint8 = "UINT8", uint16 = "UINT16", uint32 = "UINT32", uint64 = "UINT64"
    case int8 = "INT8", int16 = "INT16", int32 = "INT32", int64 = "INT64"
    case fp16 = "FP16", fp32 = "FP32", fp64 = "FP64"
    case bytes = "BYTES"
}

/// Gates per stage.
public struct PromotionPolicy: Codable, Sendable, Hashable {
    /// What a version needs to enter Staging.
    public var staging: StageGate?
    /// What a version needs to enter Production.
    public var production: StageGate?

    public init(staging: StageGate? = nil, production: StageGate? = nil) {
        self.staging = staging
        self.production = production
    }
}

/// The conditions for entering one stage; all must hold.
public struct StageGate: Codable, Sendable, Hashable {
    /// Training metrics that must lie within bounds.
    public var metrics: [MetricGate]?
    /// Metrics that must not be worse than the current Production version's by more than a margin.
    public var noRegression: [RegressionGate]?
    /// Whether the version also needs the `ml.sextant.dev/approved-by` annotation.
    public var requireApproval: Bool?

    public init(metrics: [MetricGate]? = nil, noRegression: [RegressionGate]? = nil, requireApproval: Bool? = nil) {
        self.metrics = metrics
        self.noRegression = noRegression
        self.requireApproval = requireApproval
    }
}

/// A training metric bound: `min ≤ metrics[metric] ≤ max`. A missing metric fails the gate.
public struct MetricGate: Codable, Sendable, Hashable {
    public var metric: String
    public var min: Double?
    public var max: Double?

    public init(metric: String, min: Double? = nil, max: Double? = nil) {
        self.metric = metric
        self.min = min
        self.max = max
    }
}

/// "Must not regress against Production on `metric` by more than `maxRegression`."
public struct RegressionGate: Codable, Sendable, Hashable {
    public var metric: String
    /// Whether larger values of the metric are better (accuracy) or worse (error).
    public var direction: MetricDirection?
    /// The largest allowed worsening, in the metric's own units; 0 means "at least as good".
    public var maxRegression: Double

    public init(metric: String, direction: MetricDirection? = nil, maxRegression: Double) {
        self.metric = metric
        self.direction = direction
        self.maxRegression = maxRegression
    }
}

/// Which way a metric improves.
public enum MetricDirection: String, Codable, Sendable, CaseIterable, Hashable {
    case higherIsBetter = "HigherIsBetter"
    case lowerIsBetter = "LowerIsBetter"
}

/// How many archived ModelVersion objects are kept; older ones are deleted (their artifacts never are).
public struct RetentionPolicy: Codable, Sendable, Hashable {
    public var archivedVersionsToKeep: Int32?

    public init(archivedVersionsToKeep: Int32? = nil) {
        self.archivedVersionsToKeep = archivedVersionsToKeep
    }
}

/// The observed state of a Model, aggregated from its versions.
public struct ModelStatus: Codable, Sendable, Hashable {
    public var observedGeneration: Int64?
    /// Highest registered version number.
    public var latestVersion: Int64?
    /// The version effectively in Staging, if any.
    public var stagingVersion: Int64?
    /// The version effectively in Production, if any.
    public var productionVersion: Int64?
    /// Number of ModelVersion objects of this model.
    public var versionCount: Int32?
    /// Number of those that are effectively Archived.
    public var archivedVersionCount: Int32?
    public var conditions: [Condition]?

    public init(
        observedGeneration: Int64? = nil, latestVersion: Int64? = nil, stagingVersion: Int64? = nil,
        productionVersion: Int64? = nil, versionCount: Int32? = nil, archivedVersionCount: Int32? = nil,
        conditions: [Condition]? = nil
    ) {
        self.observedGeneration = observedGeneration
        self.latestVersion = latestVersion
        self.stagingVersion = stagingVersion
        self.productionVersion = productionVersion
        self.versionCount = versionCount
        self.archivedVersionCount = archivedVersionCount
        self.conditions = conditions
    }
}
