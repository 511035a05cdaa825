import Foundation
import KubeCore
import SextantTestSupport
import Testing

@testable import KubeAPIServer

/// Create, read, update and the invariants controllers rely on, over HTTP.
@Suite("API semantics: CRUD, concurrency, status, generation")
struct CRUDTests {
    static func configMap(_ name: String, _ data: [String: JSONValue] = ["a": "1"], labels: [String: JSONValue] = [:]) -> JSONValue {
        ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "labels": .object(labels)], "data": .object(data)]
    }

    @Test("discovery lists built-in groups, resources with subresources, and version info")
    func discovery() async throws {
        let cluster = try await TestCluster.start(minorVersion: 31)
        let version = try await cluster.http.request("GET", "/version")
        #expect(version.body["minor"] == "31")
        let core = try await cluster.http.request("GET", "/api")
        #expect(core.body["versions"] == ["v1"])
        let groups = try await cluster.http.request("GET", "/apis")
        let names = groups.body["groups"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        for group in ["apps", "batch", "coordination.k8s.io", "discovery.k8s.io", "autoscaling", "apiextensions.k8s.io", "events.k8s.io"] {
            #expect(names.contains(group), "missing group \(group)")
        }
        let apps = try await cluster.http.request("GET", "/apis/apps/v1")
        let resources = apps.body["resources"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(resources.contains("deployments") && resources.contains("deployments/status") && resources.contains("deployments/scale"))
        let aggregated = try await cluster.http.request(
            "GET", "/apis", headers: ["Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"])
        #expect(aggregated.headers["content-type"] == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
        #expect(aggregated.body["kind"] == "APIGroupDiscoveryList")
        let missing = try await cluster.http.request("GET", "/apis/nope.example.com/v1/things")
        #expect(missing.status == 404)
        #expect(missing.body["kind"] == "Status" && missing.body["reason"] == "NotFound")
    }

    @Test("create assigns identity; a second create is AlreadyExists; get and 404")
    func createAndGet() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("crud-create")
        let created = try await cluster.http.request("POST", "/api/v1/namespaces/\(namespace)/configmaps", body: Self.configMap("settings"))
        #expect(created.status == 201)
        let metadata = created.body["metadata"] ?? [:]
        #expect(metadata["uid"]?.stringValue?.count == 36)
        #expect(metadata["namespace"] == .string(namespace))
        #expect(metadata["creationTimestamp"].flatMap { $0.stringValue.flatMap(KubeTime.init(rfc3339:)) } != nil)
        #expect(Int64(metadata["resourceVersion"]?.stringValue ?? "") != nil)
        let again = try await cluster.http.request("POST", "/api/v1/namespaces/\(namespace)/configmaps", body: Self.configMap("settings"))
        #expect(again.status == 409)
        #expect(again.body["reason"] == "AlreadyExists")
        #expect(again.body["message"] == "configmaps \"settings\" already exists")
        let fetched = try await cluster.http.request("GET", "/api/v1/namespaces/\(namespace)/configmaps/settings")
        #expect(fetched.body["data"] == ["a": "1"])
        let missing = try await cluster.http.request("GET", "/api/v1/namespaces/\(namespace)/configmaps/absent")
        #expect(missing.status == 404)
        #expect(missing.body["message"] == "configmaps \"absent\" not found")
        #expect(missing.body["details"]?["name"] == "absent")
        let generated = try await cluster.http.request(
            "POST", "/api/v1/namespaces/\(namespace)/configmaps", body: ["metadata": ["generateName": "job-"], "data": [:]])
        #expect(generated.body["metadata"]?["name"]?.stringValue?.hasPrefix("job-") == true)
        let noNamespace = try await cluster.http.request("POST", "/api/v1/namespaces/absent/configmaps", body: Self.configMap("x"))
        #expect(noNamespace.status == 404)
        #expect(noNamespace.body["message"] == "namespaces \"absent\" not found")
        let badName = try await cluster.http.request("POST", "/api/v1/namespaces/\(namespace)/configmaps", body: Self.configMap("Bad_Name"))
        #expect(badName.status == 422)
        #expect(badName.body["details"]?["causes"]?.arrayValue?.first?["field"] == "metadata.name")
    }

    @Test("a stale update is a 409 Conflict; resourceVersions only grow")
    func optimisticConcurrency() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("crud-conflict")
        let path = "/api/v1/namespaces/\(namespace)/configmaps"
        let created = try await cluster.http.request("POST", path, body: Self.configMap("counter", ["n": "0"]))
        var first = created.body
        first["data"] = ["n": "1"]
        let updated = try await cluster.http.request("PUT", "\(path)/counter", body: first)
        #expect(updated.status == 200)
        let before = Int64(created.body["metadata"]?["resourceVersion"]?.stringValue ?? "") ?? 0
        let after = Int64(updated.body["metadata"]?["resourceVersion"]?.stringValue ?? "") ?? 0
        #expect(after > before)
        var stale = created.body
        stale["data"] = ["n": "stale"]
        let conflict = try await cluster.http.request("PUT", "\(path)/counter", body: stale)
        #expect(conflict.status == 409)
        #expect(conflict.body["reason"] == "Conflict")
        #expect(
            conflict.body["message"]
                == "Operation cannot be fulfilled on configmaps \"counter\": the object has been modified; please apply your changes to the latest version and try again"
        )
        let current = try await cluster.http.request("GET", "\(path)/counter")
        #expect(current.body["data"] == ["n": "1"])
    }

    @Test("concurrent read-modify-write increments lose nothing: exactly one writer wins per revision")
    func concurrentIncrements() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("crud-race")
        let path = "/api/v1/namespaces/\(namespace)/configmaps"
        _ = try await cluster.http.request("POST", path, body: Self.configMap("counter", ["n": "0"]))
        let client = cluster.http
        let workers = 8, incrementsEach = 5
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    var done = 0
                    while done < incrementsEach {
                        var object = try await client.request("GET", "\(path)/counter").body
                        let n = Int(object["data"]?["n"]?.stringValue ?? "0") ?? 0
                        object["data"] = ["n": .string(String(n + 1))]
                        let response = try await client.request("PUT", "\(path)/counter", body: object)
                        if response.status == 200 { done += 1 } else if response.status != 409 { throw TestError(response.text) }
                    }
                }
            }
            try await group.waitForAll()
        }
        let final = try await cluster.http.request("GET", "\(path)/counter")
        #expect(final.body["data"]?["n"] == .string(String(workers * incrementsEach)))
    }

    @Test("generation moves with the spec only; status and main resource are separate")
    func statusAndGeneration() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("crud-status")
        let path = "/apis/apps/v1/namespaces/\(namespace)/deployments"
        let deployment: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"],
            "spec": [
                "replicas": 1, "selector": ["matchLabels": ["app": "web"]],
                "template": ["metadata": ["labels": ["app": "web"]], "spec": ["containers": [["name": "web", "image": "nginx"]]]],
            ],
            "status": ["replicas": 99],
        ]
        let created = try await cluster.http.request("POST", path, body: deployment)
        #expect(created.status == 201, "\(created.text)")
        #expect(created.body["metadata"]?["generation"] == 1)
        var relabelled = created.body
        relabelled["metadata"]?["labels"] = ["tier": "front"]
        let labelled = try await cluster.http.request("PUT", "\(path)/web", body: relabelled)
        #expect(labelled.body["metadata"]?["generation"] == 1, "a metadata change does not bump generation")
        var scaled = labelled.body
        scaled["spec"]?["replicas"] = 3
        scaled["status"] = ["replicas": 42]
        let updated = try await cluster.http.request("PUT", "\(path)/web", body: scaled)
        #expect(updated.body["metadata"]?["generation"] == 2)
        #expect(updated.body["status"]?["replicas"] != 42, "the main resource ignores status")
        var statusUpdate = updated.body
        statusUpdate["status"] = ["replicas": 3, "readyReplicas": 3]
        statusUpdate["spec"]?["replicas"] = 10
        let statusResponse = try await cluster.http.request("PUT", "\(path)/web/status", body: statusUpdate)
        #expect(statusResponse.status == 200)
        #expect(statusResponse.body["status"]?["readyReplicas"] == 3)
        #expect(statusResponse.body["spec"]?["replicas"] == 3, "the status subresource ignores spec")
        #expect(statusResponse.body["metadata"]?["generation"] == 2)
        let invalid = try await cluster.http.request(
            "POST", path,
            body: [
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "bad"],
                "spec": ["selector": ["matchLabels": ["app": "x"]], "template": ["metadata": ["labels": ["app": "y"]], "spec": ["containers": []]]],
            ])
        #expect(invalid.status == 422)
        let fields = invalid.body["details"]?["causes"]?.arrayValue?.compactMap { $0["field"]?.stringValue } ?? []
        #expect(fields.contains("spec.template.metadata.labels") && fields.contains("spec.template.spec.containers"))
    }

    @Test("label and field selectors, and paginated lists with continue tokens")
    func listing() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("crud-list")
        let path = "/api/v1/namespaces/\(namespace)/configmaps"
        for index in 0..<7 {
            let labels: [String: JSONValue] = ["app": index % 2 == 0 ? "web" : "db", "tier": index < 3 ? "front" : "back"]
            _ = try await cluster.http.request("POST", path, body: Self.configMap("cm-\(index)", labels: labels))
        }
        func names(_ query: String) async throws -> [String] {
            let response = try await cluster.http.request("GET", "\(path)?\(query)")
            guard response.status == 200 else { throw TestError(response.text) }
            return response.body["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } ?? []
        }
        #expect(try await names("labelSelector=app%3Dweb") == ["cm-0", "cm-2", "cm-4", "cm-6"])
        #expect(try await names("labelSelector=app!%3Dweb,tier%3Dfront") == ["cm-1"])
        #expect(try await names("labelSelector=app%20in%20(db),tier%20notin%20(front)") == ["cm-3", "cm-5"])
        #expect(try await names("labelSelector=!tier").isEmpty)
        #expect(try await names("labelSelector=tier").count == 7)
        #expect(try await names("fieldSelector=metadata.name%3Dcm-3") == ["cm-3"])
        #expect(try await names("fieldSelector=metadata.name!%3Dcm-3").count == 6)
        let unsupported = try await cluster.http.request("GET", "\(path)?fieldSelector=spec.foo%3Dbar")
        #expect(unsupported.status == 400)
        #expect(unsupported.body["message"] == "field label not supported: spec.foo")
        let badLabel = try await cluster.http.request("GET", "\(path)?labelSelector=a%3D%3D%3Db")
        #expect(badLabel.status == 400)

        var collected: [String] = []
        var token: String?
        var pages = 0
        repeat {
            let query = "limit=3" + (token.map { "&continue=\($0)" } ?? "")
            let page = try await cluster.http.request("GET", "\(path)?\(query)")
            collected += page.body["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } ?? []
            token = page.body["metadata"]?["continue"]?.stringValue
            if token != nil { #expect(page.body["metadata"]?["remainingItemCount"]?.integerValue ?? 0 > 0) }
            pages += 1
        } while token != nil && pages < 10
        #expect(collected == (0..<7).map { "cm-\($0)" })
        #expect(pages == 3)

        let first = try await cluster.http.request("GET", "\(path)?limit=2")
        let staleToken = try #require(first.body["metadata"]?["continue"]?.stringValue)
        _ = try await cluster.http.request("POST", path, body: Self.configMap("later"))
        await cluster.api.compactHistory()
        let expired = try await cluster.http.request("GET", "\(path)?limit=2&continue=\(staleToken)")
        #expect(expired.status == 410)
        #expect(expired.body["reason"] == "Expired")
    }

    @Test("dryRun=All validates and answers without storing")
    func dryRun() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("crud-dry")
        let path = "/api/v1/namespaces/\(namespace)/configmaps"
        let dry = try await cluster.http.request("POST", "\(path)?dryRun=All", body: Self.configMap("ghost"))
        #expect(dry.status == 201)
        #expect(dry.body["metadata"]?["uid"] != nil)
        let absent = try await cluster.http.request("GET", "\(path)/ghost")
        #expect(absent.status == 404)
        _ = try await cluster.http.request("POST", path, body: Self.configMap("real"))
        let dryDelete = try await cluster.http.request("DELETE", "\(path)/real?dryRun=All")
        #expect(dryDelete.status == 200)
        #expect(try await cluster.http.request("GET", "\(path)/real").status == 200)
    }

    @Test("Table output for kubectl get")
    func tables() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("crud-table")
        _ = try await cluster.http.request("POST", "/api/v1/namespaces/\(namespace)/configmaps", body: Self.configMap("shown", ["a": "1", "b": "2"]))
        let table = try await cluster.http.request(
            "GET", "/api/v1/namespaces/\(namespace)/configmaps", headers: ["Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"])
        #expect(table.body["kind"] == "Table")
        let columns = table.body["columnDefinitions"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(columns == ["Name", "Data", "Age"])
        let row = table.body["rows"]?.arrayValue?.first
        #expect(row?["cells"]?.arrayValue?.prefix(2).map { $0 } == ["shown", 2])
        #expect(row?["object"]?["kind"] == "PartialObjectMetadata")
    }
}
