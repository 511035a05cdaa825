import Foundation
import KubeClient
import KubeCore
import SextantAPI
import SextantOperator
import SextantTestSupport
import Synchronization
import Testing

/// Canary analysis end to end: real servers (one version made faulty on purpose with the
/// server's fault-injection flags), real traffic through the router, verdicts from the router's
/// windowed statistics.
@Suite("Rollout analysis end to end", .serialized, .timeLimit(.minutes(3)))
struct RolloutAnalysisTests {
    static let analysis: JSONValue = [
        "minRequestCount": 20,
        "failureLimit": 0,
        "metrics": [
            ["name": "success-rate", "type": "SuccessRate", "min": 95],
            // Relative to stable, so a busy machine (slow for both versions) cannot fail a healthy canary.
            ["name": "latency-p99", "type": "LatencyP99", "relativeToStable": true, "max": 250],
            ["name": "errors-vs-stable", "type": "SuccessRate", "relativeToStable": true, "min": -2],
        ],
    ]

    /// Serves v1, then requests Production for v2 while traffic flows; returns the final service.
    func rollOut(
        _ env: OperatorTestEnvironment, v2: JSONValue? = nil, analysis: JSONValue = RolloutAnalysisTests.analysis,
        until done: @escaping (InferenceService) -> Bool
    ) async throws -> (InferenceService, [[AnalysisResult]]) {
        try await env.apply(Fixtures.model())
        try await env.apply(Fixtures.version(1, stage: "Production"))
        try await env.apply(Fixtures.inferenceService(steps: [50, 100], stepInterval: "2s", progressDeadline: "30s", analysis: analysis))
        try await env.eventually(within: 60, "v1 serving") {
            try await env.get(InferenceService.self, "flower-classifier").status?.conditions?.isTrue("Ready") == true
        }
        let url = try await env.serviceURL("flower-classifier")
        try await env.eventually(within: 60, "the stable Service answering") { await OperatorTestEnvironment.predict(url).code == 200 }
        // Eight clients at once, so even a slow version serves enough requests in a step.
        let traffic = Task {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask { while !Task.isCancelled { _ = await OperatorTestEnvironment.predict(url) } }
                }
            }
        }
        defer { traffic.cancel() }
        try await env.apply(v2 ?? Fixtures.version(2, stage: "Production"))
        var seen: [[AnalysisResult]] = []
        try await env.eventually(within: 90, "the rollout of version 2 to end") {
            let service = try await env.get(InferenceService.self, "flower-classifier")
            if let analysis = service.status?.rollout?.analysis, seen.last != analysis { seen.append(analysis) }
            return done(service)
        }
        return (try await env.get(InferenceService.self, "flower-classifier"), seen)
    }

    @Test("a version answering errors is rolled back for its success rate, with the numbers in status")
    func errorsRollBack() async throws {
        try await OperatorTestEnvironment.with(namespace: "analysis-errors", faults: [2: ["--fault-error-rate", "0.5"]]) { env in
            let (service, _) = try await rollOut(env) { $0.status?.lastRollout?.version == 2 }
            let last = try #require(service.status?.lastRollout)
            #expect(last.result == .rolledBack)
            #expect(last.reason == "AnalysisFailed")
            #expect(last.message?.contains("success-rate") == true, "\(last.message ?? "")")
            #expect(last.message?.contains("below 95") == true, "\(last.message ?? "")")
            #expect(service.status?.stable?.version == 1 && service.status?.stable?.weight == 100)
            // The version's own reconcile follows the service's status a moment later.
            try await env.eventually(within: 60, "v2 says its rollout failed") {
                try await env.get(ModelVersion.self, "flower-classifier-v2").status?.conditions?[type: "Ready"]?.reason == "RolloutFailed"
            }
        }
    }

    @Test("a slow version is rolled back for its p99 latency against stable")
    func slowRollsBack() async throws {
        try await OperatorTestEnvironment.with(namespace: "analysis-slow", faults: [2: ["--fault-latency", "0.6"]]) { env in
            let (service, _) = try await rollOut(env) { $0.status?.lastRollout?.version == 2 }
            let last = try #require(service.status?.lastRollout)
            #expect(last.result == .rolledBack)
            #expect(last.message?.contains("latency-p99") == true, "\(last.message ?? "")")
            #expect(last.message?.contains("above 250") == true, "\(last.message ?? "")")
        }
    }

    @Test("a healthy version passes every step's analysis and is promoted")
    func healthyPromoted() async throws {
        try await OperatorTestEnvironment.with(namespace: "analysis-healthy") { env in
            let (service, seen) = try await rollOut(env) { $0.status?.stable?.version == 2 && $0.status?.canary == nil }
            #expect(service.status?.lastRollout?.result == .promoted)
            let judged = seen.flatMap { $0 }.filter { $0.metric == "success-rate" }
            #expect(!judged.isEmpty, "no analysis results were recorded during the rollout: \(seen)")
            #expect(judged.allSatisfy { $0.passed && ($0.value ?? 0) >= 95 && $0.threshold == ">= 95" && $0.window == "2s" })
            #expect(seen.flatMap { $0 }.contains { $0.metric == "errors-vs-stable" && $0.threshold == ">= stable - 2" })
            let v2 = try await env.get(ModelVersion.self, "flower-classifier-v2")
            try await env.eventually(within: 60, "v2 effective Production") {
                try await env.get(ModelVersion.self, "flower-classifier-v2").status?.stage == .production
            }
            _ = v2
        }
    }

    @Test("a version whose predictions are shifted is rolled back for its prediction shift against stable")
    func shiftedPredictionsRollBack() async throws {
        try await OperatorTestEnvironment.with(namespace: "analysis-shift") { env in
            var v2 = Fixtures.version(2, stage: "Production")
            v2["spec"]?["artifact"] = [
                "uri": .string("file://" + Repository.url("Tests/Fixtures/onnx/rotated_flower_classifier.onnx").path), "format": "ONNX",
                "digest": "sha256:dea06ec80b755226a373e654f6927411ec76d4eee0791c93ac798df37fcf449b",
            ]
            var analysis = Self.analysis
            analysis["metrics"] = [["name": "prediction-shift", "type": "PredictionShift", "max": 0.1]]
            let (service, _) = try await rollOut(env, v2: v2, analysis: analysis) { $0.status?.lastRollout?.version == 2 }
            let last = try #require(service.status?.lastRollout)
            #expect(last.result == .rolledBack)
            #expect(last.message?.contains("prediction-shift") == true && last.message?.contains("above 0.1") == true, "\(last.message ?? "")")
        }
    }

    @Test("a version whose example answer is wrong never gets traffic: smoke test fails, rolled back")
    func smokeTestFails() async throws {
        try await OperatorTestEnvironment.with(namespace: "analysis-smoke") { env in
            var v2 = Fixtures.version(2, stage: "Production")
            v2["spec"]?["smokeTest"] = [
                "requests": [
                    [
                        "name": "setosa",
                        "inputs": [["name": "input", "datatype": "FP32", "shape": [1, 4], "data": [5.1, 3.5, 1.4, 0.2]]],
                        "expected": ["label": [2]],
                    ]
                ]
            ]
            var sawTraffic = false
            let (service, _) = try await rollOut(env, v2: v2) { service in
                if (service.status?.canary?.weight ?? 0) > 0 { sawTraffic = true }
                return service.status?.lastRollout?.version == 2
            }
            let last = try #require(service.status?.lastRollout)
            #expect(last.reason == "SmokeTestFailed")
            #expect(last.message == "example setosa: output label[0] is 0, expected 2", "\(last.message ?? "")")
            #expect(!sawTraffic)
        }
    }
}
