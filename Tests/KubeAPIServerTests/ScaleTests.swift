import Foundation
import KubeCore
import SextantTestSupport
import Testing

@testable import KubeAPIServer

/// The scale the operator's tests and benchmarks need: 20,000 objects written by concurrent
/// writers while 100 watchers follow over real sockets (99 selective, one seeing everything),
/// every watcher seeing exactly its changes in order, and paginated lists over all of them.
/// The writes go through the API in-process, so the test measures the server, not 20,000 TCP
/// handshakes; every other suite covers the HTTP path. Speed is not asserted here.
@Suite("Scale: 20,000 objects and 100 watchers")
struct ScaleTests {
    @Test("100 watchers see exactly their share of 20,000 creations; lists page through all of them")
    func twentyThousandObjects() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("scale")
        let path = "/api/v1/namespaces/\(namespace)/configmaps"
        let total = Int(ProcessInfo.processInfo.environment["SEXTANT_SCALE_OBJECTS"] ?? "") ?? 20_000
        let shards = 99
        let revision = try #require(try await cluster.http.request("GET", path).body["metadata"]?["resourceVersion"]?.stringValue)
        let everything = WatchCounter(cluster.http.watchLines("\(path)?watch=true&resourceVersion=\(revision)"))
        let selective = (0..<shards).map { shard in
            WatchCounter(cluster.http.watchLines("\(path)?watch=true&resourceVersion=\(revision)&labelSelector=shard%3D\(shard)"))
        }
        try await eventually("100 watches to register") { await cluster.api.watchCount == shards + 1 }
        let api = cluster.api
        let writers = 8
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    for index in stride(from: writer, to: total, by: writers) {
                        let body: JSONValue = [
                            "metadata": ["name": .string(String(format: "cm-%05d", index)), "labels": ["shard": .string(String(index % shards))]],
                            "data": ["value": .string(String(index))],
                        ]
                        let response = await api.handle(
                            APIRequest(method: "POST", target: path, headers: ["content-type": "application/json"], body: Data(body.jsonBytes())))
                        guard response.status == 201 else { throw TestError("create \(index) answered \(response.status)") }
                    }
                }
            }
            try await group.waitForAll()
        }
        try await eventually(within: 300, "the all-seeing watcher to see \(total) creations") { await everything.count >= total }
        #expect(await everything.count == total)
        #expect(await everything.inOrder, "resourceVersions arrive in increasing order")
        for (shard, watcher) in selective.enumerated() {
            let expected = (0..<total).filter { $0 % shards == shard }.count
            try await eventually(within: 60, "watcher \(shard) to see its \(expected) creations") { await watcher.count >= expected }
            #expect(await watcher.count == expected)
            #expect(await watcher.inOrder)
        }
        for watcher in selective + [everything] { await watcher.stop() }
        var names = Set<String>()
        var token: String?
        repeat {
            let page = try await cluster.http.request("GET", "\(path)?limit=1000" + (token.map { "&continue=\($0)" } ?? ""))
            for item in page.body["items"]?.arrayValue ?? [] { names.insert(item["metadata"]?["name"]?.stringValue ?? "") }
            token = page.body["metadata"]?["continue"]?.stringValue
        } while token != nil
        #expect(names.count == total)
        await cluster.stop()
    }
}

/// Counts ADDED events of a watch and checks resourceVersions increase, without keeping them.
actor WatchCounter {
    private(set) var count = 0
    private(set) var inOrder = true
    private var last: Int64 = 0
    private var consumer: Task<Void, Never>?

    init(_ stream: AsyncThrowingStream<String, Error>) {
        Task { await self.start(stream) }
    }

    private func start(_ stream: AsyncThrowingStream<String, Error>) {
        consumer = Task {
            do {
                for try await event in stream { self.observe(event) }
            } catch {}
        }
    }

    /// Reads the type and resourceVersion straight from the line: parsing two million events
    /// would measure the test's JSON decoder, not the server.
    private func observe(_ line: String) {
        guard line.hasPrefix(#"{"type":"ADDED""#), let marker = line.range(of: #""resourceVersion":""#) else { return }
        count += 1
        let version = Int64(line[marker.upperBound...].prefix { $0 != "\"" }) ?? 0
        if version <= last { inOrder = false }
        last = version
    }

    func stop() { consumer?.cancel() }
}
