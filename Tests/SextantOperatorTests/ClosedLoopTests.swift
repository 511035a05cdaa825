import Foundation
import KubeClient
import KubeCore
import SextantAPI
import SextantOperator
import SextantTestSupport
import Testing

/// The whole loop in local mode: inputs drift → the RetrainPolicy's drift trigger fires → the
/// trainer Job registers a new version requesting Staging (a RetrainPolicy never requests
/// Production by itself) → the InferenceService tracking Staging canaries it with analysis → it is
/// promoted and serves, and becomes the effective Staging version.
@Suite("Closed loop end to end", .serialized, .timeLimit(.minutes(4)))
struct ClosedLoopTests {
    @Test("drifting inputs retrain, register, canary and promote version 2 on the Staging service")
    func driftRetrainsAndPromotes() async throws {
        try await OperatorTestEnvironment.with(namespace: "closed-loop") { env in
            let baseline = Fixtures.modelsDirectory.appendingPathComponent("v1/baseline.json").path
            var v1 = Fixtures.version(1, stage: "Staging")
            v1["spec"]?["driftBaseline"] = ["uri": .string("file://\(baseline)")]
            try await env.apply(Fixtures.model())
            try await env.apply(v1)
            var service = Fixtures.inferenceService(
                steps: [50, 100], stepInterval: "2s", progressDeadline: "60s",
                analysis: ["minRequestCount": 10, "failureLimit": 0, "metrics": [["name": "success-rate", "type": "SuccessRate", "min": 95]]])
            service["spec"]?["trackStage"] = "Staging"
            try await env.apply(service)
            let output = env.directory.appendingPathComponent("models").path
            try await env.apply([
                "apiVersion": "ml.sextant.dev/v1alpha1", "kind": "RetrainPolicy", "metadata": ["name": "flower-classifier"],
                "spec": [
                    "modelName": "flower-classifier",
                    "triggers": ["drift": ["inferenceService": "flower-classifier", "threshold": 0.2, "for": "1s"]],
                    "jobTemplate": [
                        "spec": [
                            "backoffLimit": 0,
                            "template": [
                                "spec": [
                                    "restartPolicy": "Never",
                                    "containers": [
                                        [
                                            "name": "trainer", "image": "python:3.11",
                                            "command": ["python3", .string(Repository.url("hack/fixtures/train_tiny.py").path)],
                                        ]
                                    ],
                                ]
                            ],
                        ]
                    ],
                    "output": ["artifactURITemplate": .string("file://\(output)/{model}/v{version}/model.onnx")],
                    "newVersionStage": "Staging",
                    "cooldown": "1h",
                ],
            ])
            try await env.eventually(within: 60, "v1 serving") {
                try await env.get(InferenceService.self, "flower-classifier").status?.conditions?.isTrue("Ready") == true
            }
            let url = try await env.serviceURL("flower-classifier")
            // Flowers far larger than any in the training data: every feature drifts.
            let traffic = Task {
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<4 {
                        group.addTask { while !Task.isCancelled { _ = await OperatorTestEnvironment.predict(url, row: [9.5, 5.5, 9.0, 4.0]) } }
                    }
                }
            }
            defer { traffic.cancel() }

            try await env.eventually(within: 60, "the drift trigger starting a run") {
                try await env.get(RetrainPolicy.self, "flower-classifier").status?.lastTrigger?.type == .drift
            }
            let policy = try await env.get(RetrainPolicy.self, "flower-classifier")
            #expect(policy.status?.lastTrigger?.message?.contains("max PSI") == true, "\(policy.status?.lastTrigger?.message ?? "")")
            try await env.eventually(within: 120, "version 2 registered, rolled out and promoted") {
                let service = try await env.get(InferenceService.self, "flower-classifier")
                return service.status?.stable?.version == 2 && service.status?.canary == nil && service.status?.lastRollout?.result == .promoted
            }
            let v2 = try await env.get(ModelVersion.self, "flower-classifier-v2")
            #expect(v2.spec.lineage?.trainingJob?.hasPrefix("flower-classifier-v2-") == true)
            try await env.eventually(within: 60, "v2 effective Staging, v1 archived") {
                let v1 = try await env.get(ModelVersion.self, "flower-classifier-v1")
                let v2 = try await env.get(ModelVersion.self, "flower-classifier-v2")
                return v2.status?.stage == .staging && v1.status?.stage == .archived
            }
            try await env.eventually(within: 60, "predictions from the retrained version") {
                await OperatorTestEnvironment.predict(url).version == "2"
            }
        }
    }
}
