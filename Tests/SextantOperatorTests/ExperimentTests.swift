import Foundation
import KubeClient
import KubeCore
import SextantAPI
import SextantOperator
import Testing

/// A/B experiments end to end: two versions at fixed shares, real traffic, the router's
/// measurements, a statistical verdict in status, and the winner promoted.
@Suite("Experiments end to end", .serialized, .timeLimit(.minutes(3)))
struct ExperimentTests {
    @Test("a latency experiment finds the slower version worse with Welch's t-test and serves the winner alone")
    func latencyExperiment() async throws {
        try await OperatorTestEnvironment.with(namespace: "experiment-latency", faults: [2: ["--fault-latency", "0.04"]]) { env in
            try await env.apply(Fixtures.model())
            try await env.apply(Fixtures.version(1, stage: "Production"))
            try await env.apply(Fixtures.version(2, stage: "Staging"))
            var service = Fixtures.inferenceService()
            service["spec"]?["experiment"] = [
                "variants": [["version": 1, "weight": 50], ["version": 2, "weight": 50]],
                "metric": "Latency", "minSamples": 40, "significance": 0.01, "promoteWinner": true,
            ]
            try await env.apply(service)
            try await env.eventually(within: 60, "both variants serving") {
                let status = try await env.get(InferenceService.self, "flower-classifier").status
                return status?.conditions?.isTrue("Ready") == true && status?.experiment?.phase == .running
            }
            let url = try await env.serviceURL("flower-classifier")
            let traffic = Task {
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<4 { group.addTask { while !Task.isCancelled { _ = await OperatorTestEnvironment.predict(url) } } }
                }
            }
            defer { traffic.cancel() }
            try await env.eventually(within: 90, "the experiment's verdict") {
                try await env.get(InferenceService.self, "flower-classifier").status?.experiment?.phase != .running
            }
            let experiment = try #require(try await env.get(InferenceService.self, "flower-classifier").status?.experiment)
            #expect(experiment.phase == .concluded)
            #expect(experiment.winner == 1)
            #expect(experiment.test == "WelchTTest")
            #expect((experiment.pValue ?? 1) < 0.01)
            #expect((experiment.statistic ?? 0) > 0, "v2 − v1 latency should be positive")
            #expect(experiment.variants.map(\.version) == [1, 2])
            #expect(experiment.variants.allSatisfy { $0.samples >= 40 })
            #expect(experiment.message?.hasPrefix("version 1 wins on Latency") == true, "\(experiment.message ?? "")")
            try await env.eventually(within: 30, "the winner served alone") {
                let table = try await env.get(ConfigMap.self, "flower-classifier-router").data?["routes.json"] ?? ""
                let answer = await OperatorTestEnvironment.predict(url)
                return answer.version == "1" && !table.contains("\"v2\"")
            }
        }
    }
}
