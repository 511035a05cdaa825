import AsyncHTTPClient
import Foundation
import KubeClient
import KubeCore
import SextantAPI
import SextantOperator
import SextantTestSupport
import Testing

/// Canary analysis with a real Prometheus as the metric source: Prometheus scrapes the Sextant
/// router's /metrics, and the InferenceService's analysis judges the canary with PromQL.
@Suite("Rollout analysis with Prometheus", .serialized, .timeLimit(.minutes(3)))
struct PrometheusAnalysisTests {
    @Test("a PromQL success rate below its bound rolls the canary back, naming the metric")
    func prometheusRollsBack() async throws {
        try await OperatorTestEnvironment.with(namespace: "analysis-prometheus", faults: [2: ["--fault-error-rate", "0.5"]]) { env in
            let port = try freePort()
            let successRate =
                #"100 * sum(rate(sextant_router_requests_total{variant="v{{version}}",code="200"}[{{window}}])) / sum(rate(sextant_router_requests_total{variant="v{{version}}"}[{{window}}]))"#
            let analysis: JSONValue = [
                "minRequestCount": 10, "failureLimit": 0, "prometheusURL": .string("http://127.0.0.1:\(port)"),
                "metrics": [["name": "promql-success-rate", "type": "Prometheus", "min": 95, "query": .string(successRate)]],
            ]
            try await env.apply(Fixtures.model())
            try await env.apply(Fixtures.version(1, stage: "Production"))
            try await env.apply(Fixtures.inferenceService(steps: [50, 100], stepInterval: "6s", progressDeadline: "30s", analysis: analysis))
            try await env.eventually(within: 60, "v1 serving") {
                try await env.get(InferenceService.self, "flower-classifier").status?.conditions?.isTrue("Ready") == true
            }
            let url = try await env.serviceURL("flower-classifier")
            let prometheus = try PrometheusServer(port: port, targets: [String(url.dropFirst("http://".count))])
            defer { prometheus.stop() }
            var scrape = ""
            do {
                try await eventually(within: 60, "Prometheus scraping the router") {
                    let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "\(prometheus.url)/api/v1/targets"), timeout: .seconds(2))
                    scrape = String(buffer: try await response.body.collect(upTo: 1 << 20))
                    return scrape.contains(#""health":"up""#)
                }
            } catch {
                throw TestError("\(error): \(scrape)")
            }
            let traffic = Task {
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<4 { group.addTask { while !Task.isCancelled { _ = await OperatorTestEnvironment.predict(url) } } }
                }
            }
            defer { traffic.cancel() }
            try await env.apply(Fixtures.version(2, stage: "Production"))
            try await env.eventually(within: 90, "the canary rolled back by the PromQL verdict") {
                try await env.get(InferenceService.self, "flower-classifier").status?.lastRollout?.version == 2
            }
            let last = try #require(try await env.get(InferenceService.self, "flower-classifier").status?.lastRollout)
            #expect(last.result == .rolledBack)
            #expect(last.reason == "AnalysisFailed")
            #expect(last.message?.contains("promql-success-rate") == true && last.message?.contains("below 95") == true, "\(last.message ?? "")")
        }
    }
}
