import AsyncHTTPClient
import Foundation
import KubeClient
import KubeCore
import NIOCore
import SextantAPI
import SextantOperator
import SextantTestSupport
import Testing

/// A/B experiments end to end: two versions at fixed shares, real traffic, the router's
/// measurements, a statistical verdict in status, and the winner promoted.
@Suite("Experiments end to end", .serialized, .timeLimit(.minutes(3)))
struct ExperimentTests {
    @Test("a latency experiment finds the slower version worse with Welch's t-test and serves the winner alone")
    func latencyExperiment() async throws {
        try await OperatorTestEnvironment.with(namespace: "experiment-latency", faults: [2: ["--fault-latency", "0.15"]]) { env in
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
            try await env.eventually(within: 60, "the winner served alone") {
                let table = try await env.get(ConfigMap.self, "flower-classifier-router").data?["routes.json"] ?? ""
                let answer = await OperatorTestEnvironment.predict(url)
                return answer.version == "1" && !table.contains("\"v2\"")
            }
        }
    }

    @Test("a business-metric experiment: revenue posted with feedback decides, by Welch's t-test")
    func businessExperiment() async throws {
        try await OperatorTestEnvironment.with(namespace: "experiment-business") { env in
            try await env.apply(Fixtures.model())
            try await env.apply(Fixtures.version(1, stage: "Production"))
            try await env.apply(Fixtures.version(2, stage: "Staging"))
            var service = Fixtures.inferenceService()
            service["spec"]?["experiment"] = [
                "variants": [["version": 1, "weight": 50], ["version": 2, "weight": 50]],
                "metric": "Business", "businessMetric": "revenue", "minSamples": 30,
            ]
            try await env.apply(service)
            try await env.eventually(within: 60, "both variants serving") {
                try await env.get(InferenceService.self, "flower-classifier").status?.conditions?.isTrue("Ready") == true
            }
            let url = try await env.serviceURL("flower-classifier")
            let versionURLs = ["1": try await env.serviceURL("flower-classifier-v1"), "2": try await env.serviceURL("flower-classifier-v2")]
            // Each answer's id goes back as feedback to the version that answered, with the
            // revenue that prediction earned: version 2's recommendations earn more.
            var posted = 0
            try await env.eventually(within: 90, "the experiment's verdict") {
                for _ in 0..<10 {
                    let id = UUID().uuidString
                    var request = HTTPClientRequest(url: "\(url)/v2/models/flower-classifier/infer")
                    request.method = .POST
                    request.body = .bytes(
                        ByteBuffer(string: #"{"id":""# + id + #"","inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[5.1,3.5,1.4,0.2]}]}"#))
                    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                    let answer = try JSONValue(parsing: Data(try await response.body.collect(upTo: 1 << 20).readableBytesView))
                    guard let version = answer["model_version"]?.stringValue, let base = versionURLs[version] else { continue }
                    let revenue = (version == "2" ? 12.0 : 8.0) + Double.random(in: -2...2)
                    var feedback = HTTPClientRequest(url: "\(base)/v2/models/flower-classifier/feedback")
                    feedback.method = .POST
                    feedback.body = .bytes(ByteBuffer(string: #"{"id":""# + id + #"","label":0,"metrics":{"revenue":"# + String(revenue) + "}}"))
                    _ = try await HTTPClient.shared.execute(feedback, timeout: .seconds(30))
                    posted += 1
                }
                return try await env.get(InferenceService.self, "flower-classifier").status?.experiment?.phase != .running
            }
            let experiment = try #require(try await env.get(InferenceService.self, "flower-classifier").status?.experiment)
            #expect(experiment.phase == .concluded, "\(experiment.message ?? "") after \(posted) feedbacks")
            #expect(experiment.winner == 2)
            #expect(experiment.test == "WelchTTest")
            #expect(experiment.message?.hasPrefix("version 2 wins on revenue") == true, "\(experiment.message ?? "")")
            #expect(abs((experiment.variants.last?.value ?? 0) - 12) < 1.5)
        }
    }
}
