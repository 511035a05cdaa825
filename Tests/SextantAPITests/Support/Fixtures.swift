import KubeCore

@testable import SextantAPI

/// Fixture builders: `minimal()` objects with only required fields, `full()` objects with
/// every field of spec and status set (used to check the schema covers the Swift types).
enum Fixtures {
    static let digest = "sha256:" + String(repeating: "ab", count: 32)
    static let time = KubeTime(rfc3339: "2026-11-23T12:00:00Z")!

    static func condition(_ type: String = "Ready") -> Condition {
        Condition(type: type, status: .true, reason: "AllGood", message: "fine", observedGeneration: 1, lastTransitionTime: time)
    }

    static func meta(_ name: String) -> ObjectMeta { ObjectMeta(name: name, namespace: "team-a") }
}

extension Model {
    static func minimal() -> Model {
        Model(metadata: Fixtures.meta("churn"), spec: ModelSpec(owner: "team", task: .classification))
    }

    static func full() -> Model {
        let gate = StageGate(
            metrics: [MetricGate(metric: "accuracy", min: 0.8, max: 1)],
            noRegression: [RegressionGate(metric: "auc", direction: .higherIsBetter, maxRegression: 0.01)],
            requireApproval: true)
        return Model(
            metadata: Fixtures.meta("churn"),
            spec: ModelSpec(
                description: "Predicts churn.", owner: "team", task: .classification,
                signature: ModelSignature(
                    inputs: [TensorSpec(name: "input", datatype: .fp32, shape: [-1, 4])],
                    outputs: [TensorSpec(name: "label", datatype: .int64, shape: [-1])]),
                promotion: PromotionPolicy(staging: gate, production: gate),
                retention: RetentionPolicy(archivedVersionsToKeep: 3)),
            status: ModelStatus(
                observedGeneration: 2, latestVersion: 3, stagingVersion: 3, productionVersion: 2, versionCount: 3,
                archivedVersionCount: 1, conditions: [Fixtures.condition()]))
    }
}

extension ModelVersion {
    static func minimal(version: Int64 = 1) -> ModelVersion {
        ModelVersion(
            metadata: Fixtures.meta("churn-v\(version)"),
            spec: ModelVersionSpec(
                modelName: "churn", version: version,
                artifact: Artifact(uri: "s3://models/churn/v\(version)/model.onnx", digest: Fixtures.digest)))
    }

    static func full() -> ModelVersion {
        ModelVersion(
            metadata: Fixtures.meta("churn-v2"),
            spec: ModelVersionSpec(
                modelName: "churn", version: 2,
                artifact: Artifact(uri: "https://models.example.com/churn/2.onnx", format: .onnx, digest: Fixtures.digest),
                metrics: ["accuracy": 0.91, "auc": 0.95],
                lineage: Lineage(
                    dataset: DatasetReference(uri: "s3://data/churn/train.parquet", digest: Fixtures.digest),
                    source: SourceReference(repository: "https://git.example.com/churn", revision: "abc123"),
                    trainingJob: "churn-train-1", hyperparameters: ["C": "1.0"]),
                driftBaseline: DriftBaseline(uri: "pvc://models/churn/baseline.json", digest: Fixtures.digest),
                stage: .production,
                smokeTest: SmokeTest(
                    requests: [
                        SmokeRequest(
                            name: "typical", inputs: [["name": "input", "datatype": "FP32", "shape": [1, 2], "data": [0.5, 1.5]]],
                            expected: ["label": [1]], tolerance: 0.001)
                    ],
                    uri: "s3://models/churn/v2/examples.json")),
            status: ModelVersionStatus(
                observedGeneration: 1, stage: .staging,
                stageHistory: [StageTransition(stage: .staging, time: Fixtures.time, reason: "GatesPassed", message: "accuracy 0.91 >= 0.8")],
                artifact: ArtifactVerification(verified: true, checkedAt: Fixtures.time, message: "HTTP 200"),
                approval: Approval(approvedBy: "alice", time: Fixtures.time),
                servedBy: [ServingReference(inferenceService: "churn", role: .canary, weight: 10)],
                conditions: [Fixtures.condition()]))
    }
}

extension InferenceService {
    static func minimal() -> InferenceService {
        InferenceService(metadata: Fixtures.meta("churn"), spec: InferenceServiceSpec(modelName: "churn"))
    }

    static func full() -> InferenceService {
        InferenceService(
            metadata: Fixtures.meta("churn"),
            spec: InferenceServiceSpec(
                modelName: "churn", trackStage: .production,
                rollout: RolloutSpec(
                    strategy: .canary, steps: [5, 50, 100], stepInterval: "30s",
                    analysis: AnalysisSpec(
                        metrics: [
                            AnalysisMetric(name: "p99", type: .latencyP99, min: 0, max: 50, relativeToStable: false),
                            AnalysisMetric(name: "errors", type: .prometheus, max: 1, query: "sum(rate(x[{{window}}]))"),
                        ],
                        minRequestCount: 10, failureLimit: 1, prometheusURL: "http://prometheus:9090"),
                    autoPromote: false, shadow: ShadowSpec(percent: 20), progressDeadline: "5m"),
                traffic: TrafficSpec(
                    provider: .gatewayAPI,
                    gatewayAPI: GatewayAPITraffic(
                        parentRefs: [GatewayParentReference(name: "web", namespace: "gateways", sectionName: "https")],
                        hostnames: ["churn.example.com"]),
                    stickyHeader: "X-User"),
                replicas: 2,
                autoscaling: AutoscalingSpec(minReplicas: 2, maxReplicas: 5, targetConcurrency: 8),
                server: ServerSpec(
                    image: "ghcr.io/sextant/server:1.0", imagePullPolicy: .ifNotPresent,
                    resources: ResourceRequirements(limits: ["cpu": "1"], requests: ["memory": "64Mi"]),
                    env: [EnvVar(name: "A", value: "1"), EnvVar(name: "B", valueFrom: ["secretKeyRef": ["name": "s", "key": "k"]])],
                    nodeSelector: ["pool": "inference"],
                    tolerations: [Toleration(key: "gpu", operator: .exists, value: "x", effect: .noSchedule, tolerationSeconds: 60)],
                    serviceAccountName: "inference", port: 9000),
                experiment: ExperimentSpec(
                    variants: [ExperimentVariant(version: 1, weight: 50), ExperimentVariant(version: 2, weight: 50)],
                    metric: .accuracy, significance: 0.05, minSamples: 500, duration: "24h", promoteWinner: true,
                    businessMetric: "revenue", direction: .higherIsBetter)),
            status: InferenceServiceStatus(
                observedGeneration: 3, url: "http://churn.team-a.svc", phase: .progressing,
                stable: VariantStatus(version: 1, weight: 95, replicas: 2, readyReplicas: 2),
                canary: VariantStatus(version: 2, weight: 5, replicas: 1, readyReplicas: 1),
                rollout: RolloutProgress(
                    currentStep: 0, stepStartedAt: Fixtures.time, failures: 0,
                    analysis: [AnalysisResult(metric: "p99", value: 12.5, threshold: "<= 50", passed: true, window: "30s", time: Fixtures.time, message: "ok")]),
                lastRollout: RolloutResult(
                    version: 1, result: .promoted, reason: "AnalysisPassed", message: "all steps passed", time: Fixtures.time, modelVersionGeneration: 2),
                conditions: [Fixtures.condition()]
            ).withExperiment(
                ExperimentStatus(
                    phase: .concluded, startedAt: Fixtures.time,
                    variants: [
                        ExperimentVariantResult(version: 1, weight: 50, samples: 500, value: 0.91),
                        ExperimentVariantResult(version: 2, weight: 50, samples: 510, value: 0.94),
                    ],
                    test: "TwoProportionZTest", statistic: 1.8, pValue: 0.04, effectSize: 0.1, winner: 2, concludedAt: Fixtures.time, message: "version 2 wins")
            ))
    }
}

extension InferenceServiceStatus {
    func withExperiment(_ experiment: ExperimentStatus) -> InferenceServiceStatus {
        var copy = self
        copy.experiment = experiment
        return copy
    }
}

extension InferenceService {
    /// The fields `full()` cannot set at the same time as its own choices.
    static func fullAlternative() -> InferenceService {
        var service = full()
        service.spec.trackStage = nil
        service.spec.pinnedVersion = 4
        service.spec.autoscaling = AutoscalingSpec(minReplicas: 1, maxReplicas: 2, targetCPUUtilizationPercentage: 70)
        return service
    }
}

extension RetrainPolicy {
    static let jobSpec: JSONValue = [
        "backoffLimit": 1,
        "template": ["spec": ["restartPolicy": "Never", "containers": [["name": "trainer", "image": "trainer:1", "args": ["--fast"]]]]],
    ]

    static func minimal() -> RetrainPolicy {
        RetrainPolicy(
            metadata: Fixtures.meta("churn"),
            spec: RetrainPolicySpec(
                modelName: "churn", jobTemplate: JobTemplate(spec: jobSpec),
                output: RetrainOutput(artifactURITemplate: "s3://models/{model}/v{version}/model.onnx")))
    }

    static func full() -> RetrainPolicy {
        RetrainPolicy(
            metadata: Fixtures.meta("churn"),
            spec: RetrainPolicySpec(
                modelName: "churn",
                triggers: RetrainTriggers(
                    schedule: ScheduleTrigger(cron: "0 3 * * MON", timeZone: "Europe/Berlin"),
                    drift: DriftTrigger(inferenceService: "churn", threshold: 0.2, for: "30m"),
                    accuracy: AccuracyTrigger(inferenceService: "churn", metric: .accuracy, threshold: 0.8, for: "1h")),
                jobTemplate: JobTemplate(metadata: TemplateMetadata(labels: ["a": "b"], annotations: ["c": "d"]), spec: jobSpec),
                output: RetrainOutput(artifactURITemplate: "file:///models/{namespace}/{model}/{version}-{run}.onnx"),
                newVersionStage: .staging, concurrencyPolicy: .replace, cooldown: "6h",
                successfulJobsHistoryLimit: 5, failedJobsHistoryLimit: 2, suspend: true),
            status: RetrainPolicyStatus(
                observedGeneration: 1, lastRunTime: Fixtures.time, nextScheduleTime: Fixtures.time,
                lastTrigger: TriggerRecord(type: .drift, time: Fixtures.time, message: "psi 0.31 > 0.2"),
                activeJob: "churn-retrain-1", lastJob: JobRecord(name: "churn-retrain-0", result: .succeeded, completionTime: Fixtures.time, message: "ok"),
                lastRegisteredVersion: 4, lastHandledRequest: "1700000000", conditions: [Fixtures.condition()]))
    }
}
