import Foundation
import KubeClient
import KubeCore
import SextantAPI
import SextantOperator
import SextantTestSupport
import Synchronization
import Testing

/// The operator against the project's API server in local-runtime mode: real server processes,
/// real predictions through the Services' cluster IPs, real rollouts.
@Suite("Operator end to end", .serialized, .timeLimit(.minutes(3)))
struct OperatorEndToEndTests {
    @Test("v1 serves; requesting Production for v2 walks the canary steps, ends with v2 stable and v1 archived")
    func canaryPromotion() async throws {
        try await OperatorTestEnvironment.with(namespace: "e2e-canary") { env in
            try await env.apply(Fixtures.model())
            try await env.apply(Fixtures.version(1, stage: "Production"))
            try await env.apply(Fixtures.version(2, stage: "Staging"))
            try await env.apply(Fixtures.inferenceService(steps: [50, 100], stepInterval: "1s"))

            try await env.eventually(within: 60, "v1 serving and effective Production") {
                let service = try await env.get(InferenceService.self, "flower-classifier")
                let v1 = try await env.get(ModelVersion.self, "flower-classifier-v1")
                return service.status?.stable?.version == 1 && service.status?.conditions?.isTrue("Ready") == true && v1.status?.stage == .production
            }
            let url = try await env.serviceURL("flower-classifier")
            try await env.eventually(within: 60, "a prediction through the stable Service") {
                await OperatorTestEnvironment.predict(url).code == 200
            }
            try await env.eventually(within: 60, "v2 effective Staging") {
                try await env.get(ModelVersion.self, "flower-classifier-v2").status?.stage == .staging
            }

            // Keep asking the stable URL while the rollout runs: it must keep answering.
            let served = Mutex<(failures: Int, versions: Set<String>, total: Int, details: [String])>((0, [], 0, []))
            let traffic = Task {
                while !Task.isCancelled {
                    let answer = await OperatorTestEnvironment.predict(url)
                    if Task.isCancelled { break }  // the test stopped asking; this answer was cut short
                    served.withLock { state in
                        state.total += 1
                        if answer.code != 200 {
                            state.failures += 1
                            state.details.append(
                                "request \(state.total): HTTP \(answer.code) \(answer.version ?? "") after versions \(state.versions.sorted())")
                        }
                        if answer.code == 200, let version = answer.version { state.versions.insert(version) }
                    }
                }
            }
            try await env.patch(ModelVersion.self, "flower-classifier-v2", ["spec": ["stage": "Production"]])

            var sawCanaryStep = false
            try await env.eventually(within: 90, "v2 promoted, v1 archived") {
                let service = try await env.get(InferenceService.self, "flower-classifier")
                if service.status?.canary?.version == 2, (service.status?.canary?.weight ?? 0) > 0 { sawCanaryStep = true }
                let v1 = try await env.get(ModelVersion.self, "flower-classifier-v1")
                let v2 = try await env.get(ModelVersion.self, "flower-classifier-v2")
                return service.status?.stable?.version == 2 && service.status?.canary == nil && v2.status?.stage == .production && v1.status?.stage == .archived
            }
            try await env.eventually(within: 60, "version 1's Deployment retired") {
                do {
                    _ = try await env.get(Deployment.self, "flower-classifier-v1")
                    return false
                } catch KubernetesError.notFound {
                    return true
                }
            }
            try await env.eventually(within: 60, "predictions answered by version 2") {
                await OperatorTestEnvironment.predict(url).version == "2"
            }
            traffic.cancel()
            _ = await traffic.result
            let result = served.withLock { $0 }
            #expect(sawCanaryStep, "the status never showed the canary taking traffic")
            #expect(result.failures == 0, "the stable URL failed \(result.failures) of \(result.total) requests during the rollout: \(result.details)")
            #expect(result.versions.contains("1") && result.versions.contains("2"))
            let service = try await env.get(InferenceService.self, "flower-classifier")
            #expect(service.status?.lastRollout?.result == .promoted)
            let v1 = try await env.get(ModelVersion.self, "flower-classifier-v1")
            #expect(v1.status?.stageHistory?.map(\.stage).suffix(2) == [.production, .archived])
        }
    }

    @Test("a v2 whose digest does not match never becomes ready: rolled back, v1 keeps serving, conditions say why")
    func brokenCanaryRollsBack() async throws {
        try await OperatorTestEnvironment.with(namespace: "e2e-rollback") { env in
            try await env.apply(Fixtures.model())
            try await env.apply(Fixtures.version(1, stage: "Production"))
            try await env.apply(Fixtures.inferenceService(steps: [50, 100], stepInterval: "1s", progressDeadline: "4s"))
            try await env.eventually(within: 60, "v1 serving") {
                let service = try await env.get(InferenceService.self, "flower-classifier")
                return service.status?.stable?.version == 1 && service.status?.conditions?.isTrue("Ready") == true
            }
            // The artifact exists (so the registry accepts it) but is not the file the digest names.
            try await env.apply(Fixtures.version(2, stage: "Production", digest: Fixtures.v1Digest, file: 2))

            try await env.eventually(within: 60, "v2 rolled back") {
                let service = try await env.get(InferenceService.self, "flower-classifier")
                return service.status?.lastRollout?.version == 2 && service.status?.lastRollout?.result == .rolledBack
            }
            let service = try await env.get(InferenceService.self, "flower-classifier")
            #expect(service.status?.stable?.version == 1)
            #expect(service.status?.stable?.weight == 100)
            #expect(service.status?.canary == nil)
            #expect(service.status?.lastRollout?.reason == "ProgressDeadlineExceeded")
            #expect(service.status?.lastRollout?.message?.contains("0/1 ready replicas") == true, "\(service.status?.lastRollout?.message ?? "")")
            let url = try await env.serviceURL("flower-classifier")
            try await env.eventually(within: 60, "v1 still answering") { await OperatorTestEnvironment.predict(url).version == "1" }

            try await env.eventually(within: 60, "v2 says its rollout failed") {
                let v2 = try await env.get(ModelVersion.self, "flower-classifier-v2")
                let ready = v2.status?.conditions?[type: "Ready"]
                return ready?.status == .false && ready?.reason == "RolloutFailed" && v2.status?.stage != .production
            }
            let v1 = try await env.get(ModelVersion.self, "flower-classifier-v1")
            #expect(v1.status?.stage == .production)
            // The failed Deployment stays, scaled to zero, for inspection.
            try await env.eventually(within: 60, "failed Deployment scaled to zero") {
                let deployment = try await env.get(Deployment.self, "flower-classifier-v2")
                return deployment.spec?["replicas"]?.integerValue == 0
            }
        }
    }

    @Test("a RetrainPolicy run requested on demand runs the trainer Job and registers version 3")
    func retrainOnDemand() async throws {
        try await OperatorTestEnvironment.with(namespace: "e2e-retrain") { env in
            try await env.apply(Fixtures.model())
            try await env.apply(Fixtures.version(1, stage: "Production"))
            try await env.apply(Fixtures.version(2, stage: "Staging"))
            let output = env.directory.appendingPathComponent("models").path
            let policy: JSONValue = [
                "apiVersion": "ml.sextant.dev/v1alpha1", "kind": "RetrainPolicy", "metadata": ["name": "flower-classifier"],
                "spec": [
                    "modelName": "flower-classifier",
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
                ],
            ]
            try await env.apply(policy)
            try await env.eventually(within: 60, "the policy observed") {
                try await env.get(RetrainPolicy.self, "flower-classifier").status?.observedGeneration != nil
            }
            try await env.patch(RetrainPolicy.self, "flower-classifier", ["metadata": ["annotations": [RetrainPolicy.runRequestAnnotation: "run-1"]]])

            try await env.eventually(within: 120, "version 3 registered") {
                let policy = try await env.get(RetrainPolicy.self, "flower-classifier")
                return policy.status?.lastRegisteredVersion == 3
            }
            let v3 = try await env.get(ModelVersion.self, "flower-classifier-v3")
            #expect(v3.spec.version == 3)
            #expect(v3.spec.stage == .staging)
            #expect(v3.spec.artifact.uri == "file://\(output)/flower-classifier/v3/model.onnx")
            #expect(v3.spec.artifact.digest.hasPrefix("sha256:"))
            #expect(v3.spec.metrics?["accuracy"] != nil)
            #expect(v3.spec.lineage?.trainingJob?.hasPrefix("flower-classifier-v3-") == true)
            #expect(FileManager.default.fileExists(atPath: "\(output)/flower-classifier/v3/model.onnx"))
            let finished = try await env.get(RetrainPolicy.self, "flower-classifier")
            #expect(finished.status?.lastTrigger?.type == .onDemand)
            #expect(finished.status?.lastJob?.result == .succeeded)
            #expect(finished.status?.lastHandledRequest == "run-1")
            #expect(finished.status?.activeJob == nil)
            try await env.eventually(within: 60, "version 3 verified and in Staging") {
                try await env.get(ModelVersion.self, "flower-classifier-v3").status?.stage == .staging
            }
        }
    }
}
