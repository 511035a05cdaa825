import KubeCore

/// One immutable trained artifact of a Model. Its spec *requests* a stage; its status says
/// which stage it has *effectively* reached through the Model's gates.
public struct ModelVersion: SextantResource {
    public static let kind = "ModelVersion"

    public var apiVersion: String = ModelVersion.apiVersion
    public var kind: String = ModelVersion.kind
    public var metadata: ObjectMeta
    public var spec: ModelVersionSpec
    public var status: ModelVersionStatus?

    public init(metadata: ObjectMeta, spec: ModelVersionSpec, status: ModelVersionStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// The annotation that records an explicit approval, e.g. `ml.sextant.dev/approved-by: alice`.
    public static let approvedByAnnotation = "ml.sextant.dev/approved-by"
}

/// The desired state of a ModelVersion. `modelName`, `version` and `artifact` are immutable.
public struct ModelVersionSpec: Codable, Sendable, Hashable {
    /// The Model (in the same namespace) this is a version of.
    public var modelName: String
    /// The version number, unique per Model, starting at 1.
    public var version: Int64
    /// The trained artifact.
    public var artifact: Artifact
    /// Training/evaluation metrics, e.g. `accuracy: 0.93`.
    public var metrics: [String: Double]?
    /// Where the artifact came from.
    public var lineage: Lineage?
    /// Feature statistics of the training data, the reference for drift detection.
    public var driftBaseline: DriftBaseline?
    /// The stage this version is requested to be in. Default Development.
    public var stage: ModelStage?
    /// Example requests sent to the version before it takes any traffic.
    public var smokeTest: SmokeTest?

    public init(
        modelName: String, version: Int64, artifact: Artifact, metrics: [String: Double]? = nil,
        lineage: Lineage? = nil, driftBaseline: DriftBaseline? = nil, stage: ModelStage? = nil, smokeTest: SmokeTest? = nil
    ) {
        self.smokeTest = smokeTest
        self.modelName = modelName
        self.version = version
        self.artifact = artifact
        self.metrics = metrics
        self.lineage = lineage
        self.driftBaseline = driftBaseline
        self.stage = stage
    }
}

/// Example requests a new version must answer before it takes traffic: well-formed answers,
/// and — where given — the expected outputs within a tolerance.
public struct SmokeTest: Codable, Sendable, Hashable {
    /// Requests written inline.
    public var requests: [SmokeRequest]?
    /// A JSON file `{"requests": [...]}` with more requests (file, http(s), s3 or pvc URI).
    public var uri: String?

    public init(requests: [SmokeRequest]? = nil, uri: String? = nil) {
        self.requests = requests
        self.uri = uri
    }
}

/// One example request, in Open Inference Protocol V2 terms.
public struct SmokeRequest: Codable, Sendable, Hashable {
    /// A name for reports.
    public var name: String
    /// Input tensors: `{"name", "datatype", "shape", "data"}` each.
    public var inputs: [JSONValue]
    /// Expected `data` of outputs, by output name; outputs not named are checked for form only.
    public var expected: [String: JSONValue]?
    /// Relative tolerance for floating-point outputs. Default 1e-4.
    public var tolerance: Double?

    public init(name: String, inputs: [JSONValue], expected: [String: JSONValue]? = nil, tolerance: Double? = nil) {
        self.name = name
        self.inputs = inputs
        self.expected = expected
        self.tolerance = tolerance
    }
}

/// A model file and how to check it.
public struct Artifact: Codable, Sendable, Hashable {
    /// `s3://bucket/key`, `https://host/path`, `pvc://claim/path` or `file:///path`.
    public var uri: String
    /// The serialisation format.
    public var format: ArtifactFormat?
    /// `sha256:` and 64 lower-case hex digits of the file's content.
    public var digest: String

    public init(uri: String, format: ArtifactFormat? = nil, digest: String) {
        self.uri = uri
        self.format = format
        self.digest = digest
    }
}

/// Artifact formats the Sextant server can load.
public enum ArtifactFormat: String, Codable, Sendable, CaseIterable, Hashable {
    case onnx = "ONNX"
}

/// The provenance of a trained artifact.
public struct Lineage: Codable, Sendable, Hashable {
    /// The training data.
    public var dataset: DatasetReference?
    /// The code that trained it.
    public var source: SourceReference?
    /// The training Job (in this namespace) that produced it.
    public var trainingJob: String?
    /// Hyper-parameters, as strings.
    public var hyperparameters: [String: String]?

    public init(
        dataset: DatasetReference? = nil, source: SourceReference? = nil, trainingJob: String? = nil,
        hyperparameters: [String: String]? = nil
    ) {
        self.dataset = dataset
        self.source = source
        self.trainingJob = trainingJob
        self.hyperparameters = hyperparameters
    }
}

/// A data set by location and content digest.
public struct DatasetReference: Codable, Sendable, Hashable {
    public var uri: String
    public var digest: String?

    public init(uri: String, digest: String? = nil) {
        self.uri = uri
        self.digest = digest
    }
}

/// A source repository and revision.
public struct SourceReference: Codable, Sendable, Hashable {
    public var repository: String
    public var revision: String?

    public init(repository: String, revision: String? = nil) {
        self.repository = repository
        self.revision = revision
    }
}

/// Where the training data's feature statistics are (the drift baseline JSON).
public struct DriftBaseline: Codable, Sendable, Hashable {
    public var uri: String
    public var digest: String?

    public init(uri: String, digest: String? = nil) {
        self.uri = uri
        self.digest = digest
    }
}

/// The observed state of a ModelVersion.
public struct ModelVersionStatus: Codable, Sendable, Hashable {
    public var observedGeneration: Int64?
    /// The stage this version has effectively reached.
    public var stage: ModelStage?
    /// Every stage entered, oldest first; appended, never rewritten.
    public var stageHistory: [StageTransition]?
    /// The result of checking the artifact.
    public var artifact: ArtifactVerification?
    /// The recorded approval, when one was given.
    public var approval: Approval?
    /// InferenceServices currently serving this version.
    public var servedBy: [ServingReference]?
    public var conditions: [Condition]?

    public init(
        observedGeneration: Int64? = nil, stage: ModelStage? = nil, stageHistory: [StageTransition]? = nil,
        artifact: ArtifactVerification? = nil, approval: Approval? = nil, servedBy: [ServingReference]? = nil,
        conditions: [Condition]? = nil
    ) {
        self.observedGeneration = observedGeneration
        self.stage = stage
        self.stageHistory = stageHistory
        self.artifact = artifact
        self.approval = approval
        self.servedBy = servedBy
        self.conditions = conditions
    }
}

/// What the operator found when it checked the artifact.
public struct ArtifactVerification: Codable, Sendable, Hashable {
    /// Whether the artifact was reachable (and, where the content was read, matched the digest).
    public var verified: Bool
    /// When it was checked.
    public var checkedAt: KubeTime?
    /// What was found, e.g. the HTTP status or the missing path.
    public var message: String?

    public init(verified: Bool, checkedAt: KubeTime? = nil, message: String? = nil) {
        self.verified = verified
        self.checkedAt = checkedAt
        self.message = message
    }
}

/// Who approved a version, and when.
public struct Approval: Codable, Sendable, Hashable {
    public var approvedBy: String
    public var time: KubeTime

    public init(approvedBy: String, time: KubeTime) {
        self.approvedBy = approvedBy
        self.time = time
    }
}

/// One InferenceService serving a version.
public struct ServingReference: Codable, Sendable, Hashable {
    public var inferenceService: String
    public var role: ServingRole
    /// Percentage of the service's traffic.
    public var weight: Int32

    public init(inferenceService: String, role: ServingRole, weight: Int32) {
        self.inferenceService = inferenceService
        self.role = role
        self.weight = weight
    }
}

/// How a version takes part in a service.
public enum ServingRole: String, Codable, Sendable, CaseIterable, Hashable {
    case stable = "Stable"
    case canary = "Canary"
}
