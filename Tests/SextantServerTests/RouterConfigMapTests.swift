import Foundation
import KubeClient
import KubeCore
import KubeRuntime
import SextantTestSupport
import Testing

@testable import SextantServer

@Suite("Router following a ConfigMap")
struct RouterConfigMapTests {
    @Test("before the ConfigMap exists the router is not ready and answers 503; then traffic follows the table as it changes")
    func followsTheConfigMap() async throws {
        let stable = Upstream("stable"), canary = Upstream("canary")
        try await withConfigMapRouter(upstreams: [stable, canary]) { router in
            try await eventually("the first list to find no ConfigMap") {
                try await http("GET", router.url("/ready")).text.contains("does not exist")
            }
            let notReady = try await http("GET", router.url("/ready"))
            #expect(notReady.status == 503)
            #expect(try notReady.json()["reason"] as? String == "ConfigMap \(router.reference) does not exist")
            let refused = try await router.infer()
            #expect(refused.status == 503)
            #expect(refused.headers["retry-after"] == "1")
            #expect(refused.text.contains("no routing table yet"), "\(refused.text)")
            #expect(stable.hits.withLockedValue { $0 } + canary.hits.withLockedValue { $0 } == 0)

            try await router.create(["routes.json": router.table(["stable", "canary"], [100, 0])])
            try await eventually("the router to become ready") { try await http("GET", router.url("/ready")).status == 200 }
            for _ in 0..<10 { #expect(try await router.infer().headers["x-sextant-variant"] == "stable") }

            // Change the weights while requests are in flight: none fails, and the split follows exactly.
            try await withThrowingTaskGroup(of: Int.self) { group in
                group.addTask {
                    var failures = 0
                    for _ in 0..<100 {
                        if try await router.infer().status != 200 { failures += 1 }
                    }
                    return failures
                }
                try await router.update(["routes.json": router.table(["stable", "canary"], [50, 50])])
                #expect(try await group.next() == 0)
            }
            try await router.waitForWeights([50, 50])
            let before = (stable.hits.withLockedValue { $0 }, canary.hits.withLockedValue { $0 })
            for _ in 0..<100 { #expect(try await router.infer().status == 200) }
            #expect(stable.hits.withLockedValue { $0 } - before.0 == 50)
            #expect(canary.hits.withLockedValue { $0 } - before.1 == 50)

            try await router.update(["routes.json": router.table(["stable", "canary"], [0, 100])])
            try await router.waitForWeights([0, 100])
            for _ in 0..<10 { #expect(try await router.infer().headers["x-sextant-variant"] == "canary") }
            #expect(router.logs.messages(.error).isEmpty, "\(router.logs.messages(.error))")
        }
    }

    @Test("bad JSON or a missing key keeps the previous table and logs one error line naming the ConfigMap")
    func badTableKeepsThePreviousOne() async throws {
        let stable = Upstream("stable"), canary = Upstream("canary")
        try await withConfigMapRouter(upstreams: [stable, canary]) { router in
            try await router.create(["routes.json": router.table(["stable", "canary"], [100, 0])])
            try await eventually("the router to become ready") { try await http("GET", router.url("/ready")).status == 200 }

            try await router.update(["routes.json": "{\"routes\": [not json"])
            try await eventually("the bad JSON to be reported") { router.logs.messages(.error).count == 1 }
            let badJSON = try #require(router.logs.messages(.error).first)
            #expect(badJSON.contains("ConfigMap \(router.reference)") && badJSON.contains("not a valid routing table"), "\(badJSON)")
            #expect(badJSON.contains("keeping the previous routing table"), "\(badJSON)")
            for _ in 0..<10 { #expect(try await router.infer().headers["x-sextant-variant"] == "stable") }
            #expect(try await http("GET", router.url("/ready")).status == 200)

            try await router.update(["other.json": router.table(["stable", "canary"], [0, 100])])
            try await eventually("the missing key to be reported") { router.logs.messages(.error).count == 2 }
            let missing = router.logs.messages(.error)[1]
            #expect(missing.contains("ConfigMap \(router.reference)") && missing.contains("no key 'routes.json'"), "\(missing)")
            for _ in 0..<10 { #expect(try await router.infer().headers["x-sextant-variant"] == "stable") }

            // A valid table (negative weights are not) is also checked before use.
            try await router.update(["routes.json": router.table(["stable", "canary"], [-1, 100])])
            try await eventually("the invalid table to be reported") { router.logs.messages(.error).count == 3 }
            #expect(router.logs.messages(.error)[2].contains("negative weight"))

            try await router.update(["routes.json": router.table(["stable", "canary"], [0, 100])])
            try await router.waitForWeights([0, 100])
            for _ in 0..<10 { #expect(try await router.infer().headers["x-sextant-variant"] == "canary") }
            #expect(router.logs.messages(.error).count == 3, "one line per bad revision")
        }
    }

    @Test("a bad first table leaves the router not ready with the problem as the reason")
    func badFirstTable() async throws {
        let stable = Upstream("stable")
        try await withConfigMapRouter(upstreams: [stable]) { router in
            try await router.create(["routes.json": "[]"])
            try await eventually("the bad table to be reported") { router.logs.messages(.error).count == 1 }
            let ready = try await http("GET", router.url("/ready"))
            #expect(ready.status == 503)
            let reason = try #require(try ready.json()["reason"] as? String)
            #expect(reason.hasPrefix("ConfigMap \(router.reference): key 'routes.json' is not a valid routing table"), "\(reason)")
            let refused = try await router.infer()
            #expect(refused.status == 503 && refused.text.contains("not a valid routing table"), "\(refused.text)")
            #expect(router.logs.messages(.error)[0].contains("still no routing table"))

            try await router.update(["routes.json": router.table(["stable"], [1])])
            try await eventually("the router to become ready") { try await http("GET", router.url("/ready")).status == 200 }
            #expect(try await router.infer().status == 200)
        }
    }

    @Test("deleting the ConfigMap keeps the last table, with a warning")
    func deletionKeepsTheLastTable() async throws {
        let stable = Upstream("stable"), canary = Upstream("canary")
        try await withConfigMapRouter(upstreams: [stable, canary]) { router in
            try await router.create(["routes.json": router.table(["stable", "canary"], [0, 100])])
            try await eventually("the router to become ready") { try await http("GET", router.url("/ready")).status == 200 }
            _ = try await router.maps.delete(router.reference.name)
            try await eventually("the deletion to be noticed") {
                router.logs.messages(.warning).contains { $0.contains("ConfigMap \(router.reference) was deleted") }
            }
            #expect(try await http("GET", router.url("/ready")).status == 200)
            for _ in 0..<10 { #expect(try await router.infer().headers["x-sextant-variant"] == "canary") }

            // Created again: followed again.
            try await router.create(["routes.json": router.table(["stable", "canary"], [100, 0])])
            try await router.waitForWeights([100, 0])
            #expect(try await router.infer().headers["x-sextant-variant"] == "stable")
        }
    }
}

@Suite("Routing table sources")
struct RoutingTableSourceTests {
    @Test("exactly one of --table and --table-configmap; NAMESPACE/NAME is checked")
    func options() throws {
        #expect(try RoutingTableSource.fromOptions(file: "t.json", configMap: nil, key: "routes.json") == .file(path: "t.json"))
        #expect(
            try RoutingTableSource.fromOptions(file: nil, configMap: "ml/routes", key: "k")
                == .configMap(ConfigMapTableReference(namespace: "ml", name: "routes", key: "k")))
        for (file, configMap) in [(nil, nil), ("t.json", "ml/routes")] as [(String?, String?)] {
            #expect(throws: RouterError.self) { try RoutingTableSource.fromOptions(file: file, configMap: configMap, key: "routes.json") }
        }
        for text in ["routes", "/routes", "ml/", "a/b/c", ""] {
            #expect(throws: RouterError.self) { try ConfigMapTableReference(parsing: text) }
        }
    }

    @Test("the tracker uses new revisions only, reports absence once, and deletion after a re-list")
    func tracker() throws {
        let good = #"{"routes":[{"name":"a","url":"http://a","weight":1}]}"#
        func map(_ version: String, _ data: [String: String]) -> ConfigMap {
            var map = ConfigMap(metadata: ObjectMeta(name: "routes", namespace: "ml"), data: data)
            map.metadata.resourceVersion = version
            return map
        }
        let table = try RoutingTable.decode(Data(good.utf8))
        var tracker = ConfigMapTableTracker(key: "routes.json")
        #expect(tracker.handle(.initStarted) == .none)
        #expect(tracker.handle(.initDone) == .absent)
        #expect(tracker.handle(.initStarted) == .none)
        #expect(tracker.handle(.initDone) == .none, "absence is reported once")
        #expect(tracker.handle(.apply(map("5", ["routes.json": good]))) == .use(table))
        #expect(tracker.handle(.initStarted) == .none)
        #expect(tracker.handle(.initApply(map("5", ["routes.json": good]))) == .none, "a re-list repeats no revision")
        #expect(tracker.handle(.initDone) == .none)
        guard case .reject(let problem) = tracker.handle(.apply(map("6", ["other": good]))) else { Issue.record("expected a rejection"); return }
        #expect(problem == "no key 'routes.json' (keys: other)")
        #expect(tracker.handle(.apply(map("6", ["other": good]))) == .none)
        #expect(tracker.handle(.initStarted) == .none)
        #expect(tracker.handle(.initDone) == .deleted, "gone from a re-list")
        #expect(tracker.handle(.apply(map("8", ["routes.json": good]))) == .use(table))
        #expect(tracker.handle(.delete(map("9", ["routes.json": good]))) == .deleted)
    }

    @Test("binaryData is read too; decoding problems are one line")
    func tableInConfigMap() {
        var map = ConfigMap(metadata: ObjectMeta(name: "routes"))
        map.binaryData = ["routes.json": Data(#"{"routes":[{"name":"a","url":"http://a","weight":1}]}"#.utf8).base64EncodedString()]
        #expect((try? ConfigMapTableTracker.table(in: map, key: "routes.json").get())?.routes.map(\.name) == ["a"])
        map.binaryData = nil
        guard case .failure(let noData) = ConfigMapTableTracker.table(in: map, key: "routes.json") else { Issue.record("expected a failure"); return }
        #expect(noData.description == "no key 'routes.json' (the ConfigMap has no data)")
        map.data = ["routes.json": #"{"routes":[{"name":"a","weight":1}]}"#]
        guard case .failure(let error) = ConfigMapTableTracker.table(in: map, key: "routes.json") else { Issue.record("expected a failure"); return }
        #expect(error.description == "key 'routes.json' is not a valid routing table: missing routes[0].url", "\(error)")
        #expect(!error.description.contains("\n"))
        map.data = ["routes.json": "{bad"]
        guard case .failure(let notJSON) = ConfigMapTableTracker.table(in: map, key: "routes.json") else { Issue.record("expected a failure"); return }
        #expect(notJSON.description.hasPrefix("key 'routes.json' is not a valid routing table: The given data was not valid JSON"), "\(notJSON)")
        #expect(!notJSON.description.hasSuffix("."), "\(notJSON)")
    }
}
