import Foundation
import KubeCore
import SextantAPI

@testable import SextantOperator

// Fixture builders for the unit tests of the operator's pure decision functions, in the spirit
// of kube-rs's `Document::test()`: each builds a Sextant object in memory with sensible
// defaults, and a test sets only what it is about.

/// The instant every unit test counts from, so timers are deterministic.
let epoch = KubeTime(Date(timeIntervalSince1970: 1_800_000_000))

/// `seconds` after `epoch`.
func at(_ seconds: Double) -> KubeTime { KubeTime(epoch.date.addingTimeInterval(seconds)) }

/// A valid artifact digest.
let testDigest = "sha256:" + String(repeating: "ab", count: 32)

/// A condition as a planner writes it.
func condition(_ type: String, _ value: Bool, reason: String = "Test", generation: Int64? = 1) -> Condition {
    Condition(type: type, status: value ? .true : .false, reason: reason, message: "", observedGeneration: generation, lastTransitionTime: epoch)
}

/// The conditions of a version whose artifact was found and whose gates passed at `generation`.
func passedConditions(generation: Int64 = 1) -> [Condition] {
    [
        condition(ModelVersionConditions.artifactVerified, true, reason: "Reachable", generation: generation),
        condition(ModelVersionConditions.gatesPassed, true, reason: "GatesPassed", generation: generation),
    ]
}

/// A Model named `fraud` in namespace `ml`, with optional gates and retention.
func model(
    _ name: String = "fraud", staging: StageGate? = nil, production: StageGate? = nil, keepArchived: Int32? = nil, generation: Int64 = 1
) -> Model {
    var metadata = ObjectMeta(name: name, namespace: "ml")
    metadata.uid = "uid-model-\(name)"
    metadata.generation = generation
    let promotion = staging == nil && production == nil ? nil : PromotionPolicy(staging: staging, production: production)
    return Model(
        metadata: metadata,
        spec: ModelSpec(
            owner: "fraud-team@example.com", task: .classification, promotion: promotion,
            retention: keepArchived.map { RetentionPolicy(archivedVersionsToKeep: $0) }))
}

/// Version `n` of model `fraud` (`fraud-v<n>`). `stage` is the requested stage; `effective` and
/// `conditions` build a status (a status exists when either is given).
func version(
    _ n: Int64, model modelName: String = "fraud", stage: ModelStage? = nil, effective: ModelStage? = nil,
    metrics: [String: Double]? = nil, conditions: [Condition]? = nil, generation: Int64 = 1,
    annotations: [String: String]? = nil, name: String? = nil, created: Double = 0, deleting: Bool = false
) -> ModelVersion {
    var metadata = ObjectMeta(name: name ?? "\(modelName)-v\(n)", namespace: "ml", annotations: annotations)
    metadata.uid = "uid-\(name ?? "\(modelName)-v\(n)")"
    metadata.generation = generation
    metadata.creationTimestamp = at(created)
    if deleting { metadata.deletionTimestamp = at(created) }
    let status = effective == nil && conditions == nil ? nil : ModelVersionStatus(stage: effective, conditions: conditions)
    return ModelVersion(
        metadata: metadata,
        spec: ModelVersionSpec(
            modelName: modelName, version: n,
            artifact: Artifact(uri: "s3://models/\(modelName)/v\(n)/model.onnx", format: .onnx, digest: testDigest),
            metrics: metrics, stage: stage),
        status: status)
}

/// An InferenceService `fraud-api` serving model `fraud`.
func service(
    _ name: String = "fraud-api", model modelName: String = "fraud", track: ModelStage? = nil, pinned: Int64? = nil,
    rollout: RolloutSpec? = nil, traffic: TrafficSpec? = nil, replicas: Int32? = nil, autoscaling: AutoscalingSpec? = nil,
    server: ServerSpec? = nil, annotations: [String: String]? = nil, status: InferenceServiceStatus? = nil,
    generation: Int64 = 1, deleting: Bool = false
) -> InferenceService {
    var metadata = ObjectMeta(name: name, namespace: "ml", annotations: annotations)
    metadata.uid = "uid-\(name)"
    metadata.generation = generation
    if deleting { metadata.deletionTimestamp = epoch }
    return InferenceService(
        metadata: metadata,
        spec: InferenceServiceSpec(
            modelName: modelName, trackStage: track, pinnedVersion: pinned, rollout: rollout, traffic: traffic,
            replicas: replicas, autoscaling: autoscaling, server: server),
        status: status)
}

/// The status of a service that serves `stable` alone (Ready as given), optionally with a canary.
func serving(
    _ stable: Int64, ready: Bool = true, canary: VariantStatus? = nil, rollout: RolloutProgress? = nil, lastRollout: RolloutResult? = nil
) -> InferenceServiceStatus {
    InferenceServiceStatus(
        stable: VariantStatus(version: stable, weight: 100 - (canary?.weight ?? 0)), canary: canary, rollout: rollout, lastRollout: lastRollout,
        conditions: [condition(InferenceServiceConditions.ready, ready, reason: ready ? "Serving" : "Deploying")])
}

/// Pods of a version: all `replicas` ready.
func healthy(_ replicas: Int32 = 1) -> VariantHealth { VariantHealth(desiredReplicas: replicas, readyReplicas: replicas) }

/// Pods of a version: none ready yet.
func starting(_ replicas: Int32 = 1, reason: String? = nil) -> VariantHealth {
    VariantHealth(desiredReplicas: replicas, readyReplicas: 0, notReadyReason: reason)
}

/// A RetrainPolicy `fraud-retrain` for model `fraud` with a one-container Job template.
func policy(
    triggers: RetrainTriggers? = nil, cooldown: String? = nil, suspend: Bool? = nil, annotations: [String: String]? = nil,
    status: RetrainPolicyStatus? = nil, jobSpec: JSONValue? = nil, jobMetadata: TemplateMetadata? = nil,
    outputTemplate: String = "s3://models/{model}/v{version}/model.onnx"
) -> RetrainPolicy {
    var metadata = ObjectMeta(name: "fraud-retrain", namespace: "ml", annotations: annotations)
    metadata.uid = "uid-fraud-retrain"
    metadata.generation = 1
    let spec =
        jobSpec ?? [
            "backoffLimit": 0,
            "template": ["spec": ["restartPolicy": "Never", "containers": [["name": "train", "image": "trainer:1"]]]],
        ]
    return RetrainPolicy(
        metadata: metadata,
        spec: RetrainPolicySpec(
            modelName: "fraud", triggers: triggers, jobTemplate: JobTemplate(metadata: jobMetadata, spec: spec),
            output: RetrainOutput(artifactURITemplate: outputTemplate), cooldown: cooldown, suspend: suspend),
        status: status)
}
