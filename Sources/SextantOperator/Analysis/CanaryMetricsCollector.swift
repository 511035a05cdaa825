import AsyncHTTPClient
import Foundation
import KubeClient
import KubeCore
import NIOCore
import SextantAPI

/// Gathers what a canary step is judged on. Two sources:
///
/// - **direct**: the Sextant router's `GET /stats?window=<step>` gives each version's requests,
///   errors and latency percentiles over the step (through the InferenceService's stable
///   Service); each version's server (`GET /v2/models/<model>/stats`, through the version's
///   Service) gives the prediction distribution, input drift and online accuracy/MAE. Without
///   the router (other providers), requests, errors and latency also come from the servers
///   (since their start — a canary's pods are new, so that is its rollout so far).
/// - **Prometheus**: metrics of type Prometheus run their PromQL (`{{service}}`, `{{namespace}}`,
///   `{{version}}`, `{{window}}` substituted) against `analysis.prometheusURL`, once with the
///   canary's version and once with the stable one.
public struct CanaryMetricsCollector: Sendable {
    public init() {}

    public struct Target: Sendable {
        public var service: InferenceService
        public var canaryVersion: Int64
        public var stableVersion: Int64
        /// Base URLs (`http://ip:port`) of the stable Service and each version's Service.
        public var stableServiceURL: String?
        public var versionURLs: [Int64: String]
        public var windowSeconds: Double

        public init(
            service: InferenceService, canaryVersion: Int64, stableVersion: Int64, stableServiceURL: String?, versionURLs: [Int64: String],
            windowSeconds: Double
        ) {
            self.service = service
            self.canaryVersion = canaryVersion
            self.stableVersion = stableVersion
            self.stableServiceURL = stableServiceURL
            self.versionURLs = versionURLs
            self.windowSeconds = windowSeconds
        }
    }

    public func measure(_ target: Target) async -> CanaryMeasurements {
        var measured = CanaryMeasurements()
        let analysis = target.service.spec.rollout?.analysis ?? AnalysisSpec()
        let model = target.service.spec.modelName
        let provider = target.service.spec.traffic?.provider ?? .router

        // Service health per version.
        if provider == .router, let url = target.stableServiceURL,
            let stats = await get("\(url)/stats?window=\(Int(target.windowSeconds.rounded(.up)))")
        {
            for variant in stats["variants"]?.arrayValue ?? [] {
                guard let name = variant["name"]?.stringValue, let version = Int64(name.dropFirst()) else { continue }
                let health = Self.health(requests: variant["requests"]?.integerValue, errors: variant["errors"]?.integerValue, latency: variant["latency"])
                if version == target.canaryVersion {
                    measured.canaryRequests = Int(variant["requests"]?.integerValue ?? 0)
                    measured.canary.merge(health) { $1 }
                } else if version == target.stableVersion {
                    measured.stableRequests = Int(variant["requests"]?.integerValue ?? 0)
                    measured.stable.merge(health) { $1 }
                }
            }
            if measured.canaryRequests == nil { measured.canaryRequests = 0 }
            if measured.stableRequests == nil { measured.stableRequests = 0 }
        }
        // Model quality per version (and health without the router).
        var classCounts: [Int64: [String: Int]] = [:]
        for version in [target.canaryVersion, target.stableVersion] {
            guard let url = target.versionURLs[version], let stats = await get("\(url)/v2/models/\(model)/stats") else { continue }
            var values: [AnalysisMetricType: Double] = [:]
            if provider != .router {
                values.merge(Self.health(requests: stats["requests"]?.integerValue, errors: stats["errors"]?.integerValue, latency: stats["latency"])) { $1 }
                if version == target.canaryVersion {
                    measured.canaryRequests = Int(stats["requests"]?.integerValue ?? 0)
                } else {
                    measured.stableRequests = Int(stats["requests"]?.integerValue ?? 0)
                }
            }
            if let drift = stats["drift"]?["maxPSI"]?.doubleValue { values[.inputDrift] = drift }
            if let accuracy = stats["accuracy"]?["value"]?.doubleValue {
                values[stats["accuracy"]?["metric"]?.stringValue == "mae" ? .meanAbsoluteError : .accuracy] = accuracy
            }
            if let counts = stats["predictionDistribution"]?["classCounts"]?.objectValue {
                classCounts[version] = counts.compactMapValues { $0.integerValue.map(Int.init) }
            }
            if version == target.canaryVersion { measured.canary.merge(values) { $1 } } else { measured.stable.merge(values) { $1 } }
        }
        if let canary = classCounts[target.canaryVersion], let stable = classCounts[target.stableVersion],
            let psi = AnalysisJudge.populationStabilityIndex(canary, stable)
        {
            measured.canary[.predictionShift] = psi
            measured.stable[.predictionShift] = 0
        }
        // Prometheus.
        for metric in analysis.metrics ?? [] where metric.type == .prometheus {
            guard let base = analysis.prometheusURL, let query = metric.query else {
                measured.problems[metric.name] = "type Prometheus needs analysis.prometheusURL and a query"
                continue
            }
            let window = "\(Int(target.windowSeconds.rounded(.up)))s"
            func render(_ version: Int64) -> String {
                query.replacingOccurrences(of: "{{service}}", with: target.service.metadata.name ?? "")
                    .replacingOccurrences(of: "{{namespace}}", with: target.service.metadata.namespace ?? "default")
                    .replacingOccurrences(of: "{{version}}", with: String(version))
                    .replacingOccurrences(of: "{{window}}", with: window)
            }
            switch await prometheus(base, render(target.canaryVersion)) {
            case .success(let value): measured.prometheusCanary[metric.name] = value
            case .failure(let problem): measured.problems[metric.name] = problem.description
            }
            if metric.relativeToStable == true, case .success(let value) = await prometheus(base, render(target.stableVersion)) {
                measured.prometheusStable[metric.name] = value
            }
        }
        return measured
    }

    /// Success rate (%), and latency percentiles (ms), from request counts and a latency object in seconds.
    static func health(requests: Int64?, errors: Int64?, latency: JSONValue?) -> [AnalysisMetricType: Double] {
        var values: [AnalysisMetricType: Double] = [:]
        if let requests, requests > 0 { values[.successRate] = 100 * Double(requests - (errors ?? 0)) / Double(requests) }
        if let p50 = latency?["p50"]?.doubleValue { values[.latencyP50] = p50 * 1000 }
        if let p95 = latency?["p95"]?.doubleValue { values[.latencyP95] = p95 * 1000 }
        if let p99 = latency?["p99"]?.doubleValue { values[.latencyP99] = p99 * 1000 }
        return values
    }

    struct Problem: Error, CustomStringConvertible { var description: String }

    /// The single value of an instant PromQL query.
    func prometheus(_ base: String, _ query: String) async -> Result<Double, Problem> {
        var components = URLComponents(string: base.hasSuffix("/") ? base + "api/v1/query" : base + "/api/v1/query")
        components?.queryItems = [URLQueryItem(name: "query", value: query)]
        guard let url = components?.url?.absoluteString else { return .failure(Problem(description: "bad Prometheus URL \(base)")) }
        guard let answer = await get(url) else { return .failure(Problem(description: "Prometheus at \(base) did not answer \(query)")) }
        guard answer["status"]?.stringValue == "success" else {
            return .failure(Problem(description: "Prometheus: \(answer["error"]?.stringValue ?? "query failed"): \(query)"))
        }
        guard let first = answer["data"]?["result"]?.arrayValue?.first, let text = first["value"]?.arrayValue?.last?.stringValue, let value = Double(text)
        else {
            return .failure(Problem(description: "Prometheus returned no sample for \(query)"))
        }
        guard value.isFinite else { return .failure(Problem(description: "Prometheus returned \(text) for \(query)")) }
        return .success(value)
    }

    func get(_ url: String) async -> JSONValue? {
        do {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(5))
            let body = try await response.body.collect(upTo: 4 << 20)
            guard response.status.code == 200 else { return nil }
            return try JSONValue(parsing: Data(body.readableBytesView))
        } catch {
            return nil
        }
    }
}
