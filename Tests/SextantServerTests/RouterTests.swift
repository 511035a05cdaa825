import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import Testing

@testable import SextantServer

/// A tiny upstream that answers its name and counts requests.
final class Upstream: Sendable {
    let name: String
    let hits = NIOLockedValueBox(0)
    let port = NIOLockedValueBox(0)

    init(_ name: String) { self.name = name }

    func application(onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let router = Router()
        let name = self.name
        let hits = self.hits
        router.post("/v2/models/m/infer") { _, _ in
            hits.withLockedValue { $0 += 1 }
            return jsonResponse(200, "{\"variant\":\"\(name)\"}")
        }
        return Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { await onRunning($0.localAddress?.port ?? 0) }, logger: testLogger)
    }
}

/// Starts upstreams and a router reading `table(ports)` from a temp file; runs `body`.
func withRouter(
    upstreams: [Upstream], table: @escaping @Sendable ([Int]) -> String,
    _ body: @Sendable (_ port: Int, _ tablePath: String, _ ports: [Int]) async throws -> Void
) async throws {
    let (stream, continuation) = AsyncStream.makeStream(of: (Int, Int).self)
    var services: [any Service] = []
    for (index, upstream) in upstreams.enumerated() {
        services.append(upstream.application { continuation.yield((index, $0)) })
    }
    let group = ServiceGroup(configuration: .init(services: services, logger: testLogger))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var ports = Array(repeating: 0, count: upstreams.count)
        var iterator = stream.makeAsyncIterator()
        for _ in upstreams { if let (index, port) = await iterator.next() { ports[index] = port } }
        let directory = try makeTempDirectory()
        let tablePath = directory.appendingPathComponent("table.json").path
        try table(ports).write(toFile: tablePath, atomically: true, encoding: .utf8)

        var configuration = RouterConfiguration(port: 0, tablePath: tablePath)
        configuration.pollInterval = .milliseconds(100)
        let state = RouterState(table: try RoutingTable.decode(try Data(contentsOf: URL(fileURLWithPath: tablePath))))
        let (shadowStream, shadowQueue) = AsyncStream.makeStream(of: ShadowRequest.self, bufferingPolicy: .bufferingOldest(1000))
        let (routerPorts, routerPort) = AsyncStream.makeStream(of: Int.self)
        let app = buildRouterApplication(configuration: configuration, state: state, shadowQueue: shadowQueue, logger: testLogger) { routerPort.yield($0) }
        let routerGroup = ServiceGroup(
            configuration: .init(
                services: [
                    app, TableWatcher(path: tablePath, state: state, interval: configuration.pollInterval, logger: testLogger),
                    ShadowSender(stream: shadowStream, state: state, client: .shared),
                ], logger: testLogger))
        tasks.addTask { try await routerGroup.run() }
        var routerIterator = routerPorts.makeAsyncIterator()
        let port = await routerIterator.next() ?? 0
        do {
            try await body(port, tablePath, ports)
        } catch {
            await routerGroup.triggerGracefulShutdown()
            await group.triggerGracefulShutdown()
            throw error
        }
        await routerGroup.triggerGracefulShutdown()
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}

func table(_ routes: [(String, Int, Int)], sticky: String? = nil, shadow: Int? = nil) -> String {
    var json = "{\"routes\":[" + routes.map { "{\"name\":\"\($0.0)\",\"url\":\"http://127.0.0.1:\($0.1)\",\"weight\":\($0.2)}" }.joined(separator: ",") + "]"
    if let sticky { json += ",\"stickyHeader\":\"\(sticky)\"" }
    if let shadow { json += ",\"shadow\":{\"url\":\"http://127.0.0.1:\(shadow)\",\"percent\":100}" }
    return json + "}"
}

@Suite("Router")
struct RouterTests {
    @Test("smooth weighted round robin is exact and interleaved")
    func balancer() {
        var balancer = SmoothWeightedRoundRobin(weights: [90, 10])
        var picks = [0, 0]
        var longestCanaryRun = 0
        var run = 0
        for _ in 0..<100 {
            let pick = balancer.next()
            picks[pick] += 1
            run = pick == 1 ? run + 1 : 0
            longestCanaryRun = max(longestCanaryRun, run)
        }
        #expect(picks == [90, 10])
        #expect(longestCanaryRun == 1)
    }

    @Test("exact 90/10 split over 100 requests, per-variant stats and metrics")
    func split() async throws {
        let stable = Upstream("stable"), canary = Upstream("canary")
        try await withRouter(upstreams: [stable, canary], table: { table([("stable", $0[0], 90), ("canary", $0[1], 10)]) }) { port, _, _ in
            for _ in 0..<100 {
                let response = try await http("POST", "http://127.0.0.1:\(port)/v2/models/m/infer", body: Data("{}".utf8))
                #expect(response.status == 200)
                #expect(response.headers["x-sextant-variant"] == (response.text.contains("stable") ? "stable" : "canary"))
            }
            #expect(stable.hits.withLockedValue { $0 } == 90)
            #expect(canary.hits.withLockedValue { $0 } == 10)
            let stats = try await http("GET", "http://127.0.0.1:\(port)/stats").json()
            let variants = try #require(stats["variants"] as? [[String: Any]])
            #expect(variants.map { $0["requests"] as? Int } == [90, 10])
            let metrics = try await http("GET", "http://127.0.0.1:\(port)/metrics").text
            #expect(metrics.contains("sextant_router_requests_total{variant=\"stable\",code=\"200\"} 90"), "\(metrics)")
            #expect(metrics.contains("sextant_router_request_duration_seconds_bucket{variant=\"canary\""))
        }
    }

    @Test("a sticky header keeps a client on one variant; the shadow gets a copy")
    func stickyAndShadow() async throws {
        let a = Upstream("a"), b = Upstream("b"), shadow = Upstream("shadow")
        try await withRouter(upstreams: [a, b, shadow], table: { table([("a", $0[0], 50), ("b", $0[1], 50)], sticky: "x-user", shadow: $0[2]) }) { port, _, _ in
            for user in ["alice", "bob", "carol", "dave"] {
                var seen = Set<String>()
                for _ in 0..<10 {
                    let response = try await http("POST", "http://127.0.0.1:\(port)/v2/models/m/infer", body: Data("{}".utf8), headers: ["x-user": user])
                    #expect(response.status == 200)
                    seen.insert(response.headers["x-sextant-variant"] ?? "?")
                }
                #expect(seen.count == 1, "\(user) moved between \(seen)")
            }
            // Cookie of the same name also pins.
            var cookieSeen = Set<String>()
            for _ in 0..<5 {
                let response = try await http("POST", "http://127.0.0.1:\(port)/v2/models/m/infer", body: Data("{}".utf8), headers: ["cookie": "x-user=erin"])
                cookieSeen.insert(response.headers["x-sextant-variant"] ?? "?")
            }
            #expect(cookieSeen.count == 1)
            for _ in 0..<50 where shadow.hits.withLockedValue({ $0 }) < 45 { try await Task.sleep(for: .milliseconds(50)) }
            #expect(shadow.hits.withLockedValue { $0 } == 45)
            #expect(a.hits.withLockedValue { $0 } + b.hits.withLockedValue { $0 } == 45)
        }
    }

    @Test("reloading the table switches weights without failed requests")
    func reload() async throws {
        let stable = Upstream("stable"), canary = Upstream("canary")
        try await withRouter(upstreams: [stable, canary], table: { table([("stable", $0[0], 100), ("canary", $0[1], 0)]) }) { port, path, ports in
            try await withThrowingTaskGroup(of: Int.self) { group in
                group.addTask {
                    var failures = 0
                    for _ in 0..<200 {
                        let response = try await http("POST", "http://127.0.0.1:\(port)/v2/models/m/infer", body: Data("{}".utf8))
                        if response.status != 200 { failures += 1 }
                    }
                    return failures
                }
                try await Task.sleep(for: .milliseconds(50))
                try table([("stable", ports[0], 50), ("canary", ports[1], 50)]).write(toFile: path, atomically: true, encoding: .utf8)
                #expect(try await group.next() == 0)
            }
            for _ in 0..<50 {
                if try await http("GET", "http://127.0.0.1:\(port)/stats").json()["reloads"] as? Int == 1 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let before = (stable.hits.withLockedValue { $0 }, canary.hits.withLockedValue { $0 })
            for _ in 0..<100 { _ = try await http("POST", "http://127.0.0.1:\(port)/v2/models/m/infer", body: Data("{}".utf8)) }
            #expect(stable.hits.withLockedValue { $0 } - before.0 == 50)
            #expect(canary.hits.withLockedValue { $0 } - before.1 == 50)
        }
    }
}
