import AsyncHTTPClient
import Foundation
import KubeCore
import NIOCore
import SextantAPI
import SextantServer

/// What the smoke test of a new version found.
public enum SmokeTestOutcome: Sendable, Equatable {
    /// The version has no example requests.
    case notConfigured
    /// It could not run yet (e.g. the version's Service is not reachable); try again.
    case pending(String)
    case passed(String)
    case failed(String)
}

/// Sends a version's example requests to its Service before it takes traffic and checks that
/// every answer is a well-formed V2 response and, where expected outputs are given, matches them
/// within the tolerance.
public struct SmokeTester: Sendable {
    let fetcher = ModelFetcher(settings: .fromEnvironment())

    public init() {}

    public func run(_ version: ModelVersion, model: String, baseURL: String) async -> SmokeTestOutcome {
        guard let smokeTest = version.spec.smokeTest else { return .notConfigured }
        var requests = smokeTest.requests ?? []
        if let uri = smokeTest.uri {
            do {
                let data = try await fetcher.fetch(try ModelSource(uri: uri))
                let document = try JSONValue(parsing: data)
                let more = try (document["requests"] ?? .array([])).decode(as: [SmokeRequest].self)
                requests += more
            } catch {
                return .failed("cannot read smoke-test requests from \(uri): \(error)")
            }
        }
        guard !requests.isEmpty else { return .notConfigured }
        for request in requests {
            var http = HTTPClientRequest(url: "\(baseURL)/v2/models/\(model)/infer")
            http.method = .POST
            http.headers.add(name: "content-type", value: "application/json")
            let body: JSONValue = ["id": .string("smoke-\(request.name)"), "inputs": .array(request.inputs)]
            http.body = .bytes(ByteBuffer(string: body.jsonString()))
            let status: UInt
            let answer: JSONValue?
            let text: String
            do {
                let response = try await HTTPClient.shared.execute(http, timeout: .seconds(10))
                let bytes = try await response.body.collect(upTo: 4 << 20)
                status = response.status.code
                text = String(buffer: bytes)
                answer = try? JSONValue(parsing: Data(bytes.readableBytesView))
            } catch {
                return .pending("example \(request.name): \(error)")
            }
            guard status == 200 else { return .failed("example \(request.name): HTTP \(status): \(text.prefix(300))") }
            if let problem = Self.check(answer, against: request) { return .failed("example \(request.name): \(problem)") }
        }
        return .passed("\(requests.count) example request\(requests.count == 1 ? "" : "s") answered as expected")
    }

    /// Why an answer is not acceptable, or nil.
    static func check(_ answer: JSONValue?, against request: SmokeRequest) -> String? {
        guard let outputs = answer?["outputs"]?.arrayValue, !outputs.isEmpty else { return "the answer has no outputs" }
        for output in outputs {
            let name = output["name"]?.stringValue ?? "?"
            guard let shape = output["shape"]?.arrayValue?.compactMap(\.integerValue), let data = output["data"]?.arrayValue,
                output["datatype"]?.stringValue != nil
            else {
                return "output \(name) lacks datatype, shape or data"
            }
            let count = shape.reduce(1, *)
            guard count == Int64(data.count) else { return "output \(name) has shape \(shape) but \(data.count) values" }
        }
        let tolerance = request.tolerance ?? 1e-4
        for (name, expected) in (request.expected ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let output = outputs.first(where: { $0["name"]?.stringValue == name }) else { return "output \(name) is missing" }
            let actual = output["data"]?.arrayValue ?? []
            let wanted = expected.arrayValue ?? [expected]
            guard actual.count == wanted.count else { return "output \(name) has \(actual.count) values, expected \(wanted.count)" }
            for (index, (got, want)) in zip(actual, wanted).enumerated() {
                if let a = got.doubleValue, let b = want.doubleValue {
                    let allowed = tolerance * max(1, abs(b))
                    if abs(a - b) > allowed {
                        let exact = a == a.rounded() && b == b.rounded()
                        return "output \(name)[\(index)] is \(AnalysisJudge.format(a)), expected \(AnalysisJudge.format(b))"
                            + (exact ? "" : " (tolerance \(tolerance))")
                    }
                } else if got != want {
                    return "output \(name)[\(index)] is \(got.jsonString()), expected \(want.jsonString())"
                }
            }
        }
        return nil
    }
}
