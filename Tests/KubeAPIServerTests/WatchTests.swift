import Foundation
import KubeCore
import SextantTestSupport
import Testing

@testable import KubeAPIServer

@Suite("Watch: events, resume, 410, bookmarks, timeouts")
struct WatchTests {
    static func configMap(_ name: String, _ value: String = "1", labels: [String: JSONValue] = [:]) -> JSONValue {
        ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "labels": .object(labels)], "data": ["v": .string(value)]]
    }

    @Test("ADDED, MODIFIED, DELETED in order, over a chunked stream")
    func eventSequence() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("watch-seq")
        let path = "/api/v1/namespaces/\(namespace)/configmaps"
        let list = try await cluster.http.request("GET", path)
        let revision = try #require(list.body["metadata"]?["resourceVersion"]?.stringValue)
        let recorder = WatchRecorder(cluster.http.watch("\(path)?watch=true&resourceVersion=\(revision)"))
        try await eventually("the watch to register") { await cluster.api.watchCount == 1 }
        let created = try await cluster.http.request("POST", path, body: Self.configMap("a"))
        var changed = created.body
        changed["data"] = ["v": "2"]
        _ = try await cluster.http.request("PUT", "\(path)/a", body: changed)
        _ = try await cluster.http.request("DELETE", "\(path)/a")
        let added = try await recorder.event(0)
        let modified = try await recorder.event(1)
        let deleted = try await recorder.event(2)
        #expect(added["type"] == "ADDED")
        #expect(modified["type"] == "MODIFIED")
        #expect(modified["object"]?["data"]?["v"] == "2")
        #expect(deleted["type"] == "DELETED")
        let versions = [added, modified, deleted].compactMap { Int64($0["object"]?["metadata"]?["resourceVersion"]?.stringValue ?? "") }
        #expect(versions == versions.sorted() && Set(versions).count == 3)
        await recorder.stop()
        // Generous: the whole suite in parallel on two cores has delayed this by over 10 s.
        try await eventually(within: 60, "the server to drop the closed watch") { await cluster.api.watchCount == 0 }
    }

    @Test("without a resourceVersion a watch starts with the current objects")
    func initialState() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("watch-initial")
        let path = "/api/v1/namespaces/\(namespace)/configmaps"
        _ = try await cluster.http.request("POST", path, body: Self.configMap("one"))
        _ = try await cluster.http.request("POST", path, body: Self.configMap("two"))
        let recorder = WatchRecorder(cluster.http.watch("\(path)?watch=1&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"))
        #expect(try await recorder.event(0)["object"]?["metadata"]?["name"] == "one")
        #expect(try await recorder.event(1)["object"]?["metadata"]?["name"] == "two")
        let bookmark = try await recorder.event(2)
        #expect(bookmark["type"] == "BOOKMARK")
        #expect(bookmark["object"]?["metadata"]?["annotations"]?["k8s.io/initial-events-end"] == "true")
        await recorder.stop()
    }

    @Test("resuming from a resourceVersion replays exactly the later changes")
    func resume() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("watch-resume")
        let path = "/api/v1/namespaces/\(namespace)/configmaps"
        let first = try await cluster.http.request("POST", path, body: Self.configMap("first"))
        let after = try #require(first.body["metadata"]?["resourceVersion"]?.stringValue)
        _ = try await cluster.http.request("POST", path, body: Self.configMap("second"))
        _ = try await cluster.http.request("POST", path, body: Self.configMap("third"))
        let recorder = WatchRecorder(cluster.http.watch("\(path)?watch=true&resourceVersion=\(after)"))
        #expect(try await recorder.event(0)["object"]?["metadata"]?["name"] == "second")
        #expect(try await recorder.event(1)["object"]?["metadata"]?["name"] == "third")
        _ = try await cluster.http.request("POST", path, body: Self.configMap("fourth"))
        #expect(try await recorder.event(2)["object"]?["metadata"]?["name"] == "fourth")
        let events = await recorder.events
        #expect(events.count == 3)
        await recorder.stop()
    }

    @Test("a compacted resourceVersion gets an ERROR event with 410 Expired")
    func gone() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("watch-gone")
        let path = "/api/v1/namespaces/\(namespace)/configmaps"
        let old = try await cluster.http.request("POST", path, body: Self.configMap("old"))
        let revision = try #require(old.body["metadata"]?["resourceVersion"]?.stringValue)
        _ = try await cluster.http.request("POST", path, body: Self.configMap("newer"))
        await cluster.api.compactHistory()
        let recorder = WatchRecorder(cluster.http.watch("\(path)?watch=true&resourceVersion=\(revision)"))
        let error = try await recorder.event(0)
        #expect(error["type"] == "ERROR")
        #expect(error["object"]?["code"] == 410)
        #expect(error["object"]?["reason"] == "Expired")
        try await recorder.waitUntilFinished()
    }

    @Test("history beyond its limit is compacted on its own")
    func boundedHistory() async throws {
        let cluster = try await TestCluster.start(historyLimit: 5)
        let namespace = try await cluster.namespace("watch-bounded")
        let path = "/api/v1/namespaces/\(namespace)/configmaps"
        let start = try await cluster.http.request("POST", path, body: Self.configMap("start"))
        let revision = try #require(start.body["metadata"]?["resourceVersion"]?.stringValue)
        for index in 0..<10 { _ = try await cluster.http.request("POST", path, body: Self.configMap("n\(index)")) }
        let recorder = WatchRecorder(cluster.http.watch("\(path)?watch=true&resourceVersion=\(revision)"))
        #expect(try await recorder.event(0)["object"]?["code"] == 410)
    }

    @Test("bookmarks carry the current resourceVersion to watches that asked for them")
    func bookmarks() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("watch-bookmarks")
        let path = "/api/v1/namespaces/\(namespace)/configmaps"
        let list = try await cluster.http.request("GET", path)
        let revision = try #require(list.body["metadata"]?["resourceVersion"]?.stringValue)
        let withBookmarks = WatchRecorder(cluster.http.watch("\(path)?watch=true&resourceVersion=\(revision)&allowWatchBookmarks=true"))
        let without = WatchRecorder(cluster.http.watch("\(path)?watch=true&resourceVersion=\(revision)"))
        try await eventually("both watches to register") { await cluster.api.watchCount == 2 }
        let created = try await cluster.http.request("POST", path, body: Self.configMap("x"))
        await cluster.api.emitBookmarks()
        _ = try await withBookmarks.event(0)
        let bookmark = try await withBookmarks.event(1)
        #expect(bookmark["type"] == "BOOKMARK")
        #expect(bookmark["object"]?["kind"] == "ConfigMap")
        let bookmarkVersion = Int64(bookmark["object"]?["metadata"]?["resourceVersion"]?.stringValue ?? "") ?? 0
        #expect(bookmarkVersion >= Int64(created.body["metadata"]?["resourceVersion"]?.stringValue ?? "") ?? .max)
        _ = try await cluster.http.request("POST", path, body: Self.configMap("y"))
        _ = try await without.event(1)
        let plain = await without.events.map { $0["type"] }
        #expect(plain == ["ADDED", "ADDED"])
        await withBookmarks.stop()
        await without.stop()
    }

    @Test("timeoutSeconds ends the stream")
    func timeout() async throws {
        let cluster = try await TestCluster.start()
        let recorder = WatchRecorder(cluster.http.watch("/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1&resourceVersion=1"))
        // A 1 s watch; the full suite on two cores has delayed its end by more than 10 s.
        try await recorder.waitUntilFinished(within: 60)
        #expect(await recorder.failure == nil)
    }

    @Test("a label-filtered watch sees an object leave its selection as DELETED")
    func selectorTransitions() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("watch-selector")
        let path = "/api/v1/namespaces/\(namespace)/configmaps"
        let list = try await cluster.http.request("GET", path)
        let revision = try #require(list.body["metadata"]?["resourceVersion"]?.stringValue)
        let recorder = WatchRecorder(cluster.http.watch("\(path)?watch=true&resourceVersion=\(revision)&labelSelector=app%3Dweb"))
        try await eventually("the watch to register") { await cluster.api.watchCount == 1 }
        _ = try await cluster.http.request("POST", path, body: Self.configMap("other", labels: ["app": "db"]))
        let created = try await cluster.http.request("POST", path, body: Self.configMap("mine", labels: ["app": "web"]))
        var moved = created.body
        moved["metadata"]?["labels"] = ["app": "db"]
        _ = try await cluster.http.request("PUT", "\(path)/mine", body: moved)
        #expect(try await recorder.event(0)["type"] == "ADDED")
        let left = try await recorder.event(1)
        #expect(left["type"] == "DELETED")
        #expect(left["object"]?["metadata"]?["name"] == "mine")
        await recorder.stop()
    }

    @Test("a hundred concurrent watchers all see every change")
    func manyWatchers() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("watch-many")
        let path = "/api/v1/namespaces/\(namespace)/configmaps"
        let revision = try #require(try await cluster.http.request("GET", path).body["metadata"]?["resourceVersion"]?.stringValue)
        let recorders = (0..<100).map { _ in WatchRecorder(cluster.http.watch("\(path)?watch=true&resourceVersion=\(revision)")) }
        try await eventually("100 watches to register") { await cluster.api.watchCount == 100 }
        for index in 0..<20 { _ = try await cluster.http.request("POST", path, body: Self.configMap("c\(index)")) }
        for recorder in recorders {
            let last = try await recorder.event(19)
            #expect(last["object"]?["metadata"]?["name"] == "c19")
            await recorder.stop()
        }
    }
}
