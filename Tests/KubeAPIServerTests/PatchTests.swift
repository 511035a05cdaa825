import Foundation
import KubeCore
import Testing

@testable import KubeAPIServer

@Suite("Patches and server-side apply")
struct PatchTests {
    static func deployment(_ name: String, image: String = "nginx:1", replicas: Int64 = 1) -> JSONValue {
        [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": .string(name)],
            "spec": [
                "replicas": .integer(replicas), "selector": ["matchLabels": ["app": .string(name)]],
                "template": [
                    "metadata": ["labels": ["app": .string(name)]],
                    "spec": [
                        "containers": [
                            ["name": "web", "image": .string(image), "env": [["name": "A", "value": "1"]]], ["name": "sidecar", "image": "proxy:1"],
                        ]
                    ],
                ],
            ],
        ]
    }

    @Test("JSON merge patch: members merged, null deletes")
    func mergePatch() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("patch-merge")
        let path = "/api/v1/namespaces/\(namespace)/configmaps"
        _ = try await cluster.http.request("POST", path, body: ["metadata": ["name": "cm", "labels": ["a": "1", "b": "2"]], "data": ["x": "1"]])
        let patched = try await cluster.http.request(
            "PATCH", "\(path)/cm", body: ["metadata": ["labels": ["b": nil, "c": "3"]], "data": ["y": "2"]], contentType: "application/merge-patch+json")
        #expect(patched.status == 200)
        #expect(patched.body["metadata"]?["labels"] == ["a": "1", "c": "3"])
        #expect(patched.body["data"] == ["x": "1", "y": "2"])
    }

    @Test("JSON patch: operations, a failing test op is rejected and changes nothing")
    func jsonPatch() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("patch-json")
        let path = "/api/v1/namespaces/\(namespace)/configmaps"
        _ = try await cluster.http.request("POST", path, body: ["metadata": ["name": "cm", "finalizers": ["a/b"]], "data": ["x": "1"]])
        let patch: JSONValue = [
            ["op": "add", "path": "/data/y", "value": "2"],
            ["op": "replace", "path": "/data/x", "value": "10"],
            ["op": "add", "path": "/metadata/finalizers/-", "value": "c/d"],
            ["op": "copy", "from": "/data/y", "path": "/data/z"],
            ["op": "remove", "path": "/metadata/finalizers/0"],
        ]
        let patched = try await cluster.http.request("PATCH", "\(path)/cm", body: patch, contentType: "application/json-patch+json")
        #expect(patched.status == 200, "\(patched.text)")
        #expect(patched.body["data"] == ["x": "10", "y": "2", "z": "2"])
        #expect(patched.body["metadata"]?["finalizers"] == ["c/d"])
        let failing = try await cluster.http.request(
            "PATCH", "\(path)/cm", body: [["op": "test", "path": "/data/x", "value": "1"], ["op": "replace", "path": "/data/x", "value": "99"]],
            contentType: "application/json-patch+json")
        #expect(failing.status == 422)
        let missing = try await cluster.http.request(
            "PATCH", "\(path)/cm", body: [["op": "replace", "path": "/data/nope/deeper", "value": "1"]], contentType: "application/json-patch+json")
        #expect(missing.status == 422)
        #expect(try await cluster.http.request("GET", "\(path)/cm").body["data"]?["x"] == "10")
        let unsupported = try await cluster.http.request("PATCH", "\(path)/cm", body: [:], contentType: "text/plain")
        #expect(unsupported.status == 415)
    }

    @Test("strategic merge patch merges containers by name and honours $patch: delete")
    func strategicMerge() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("patch-smp")
        let path = "/apis/apps/v1/namespaces/\(namespace)/deployments"
        _ = try await cluster.http.request("POST", path, body: Self.deployment("web"))
        let patch: JSONValue = [
            "spec": [
                "template": [
                    "spec": [
                        "containers": [
                            ["name": "web", "image": "nginx:2", "env": [["name": "B", "value": "2"]]],
                            ["name": "sidecar", "$patch": "delete"],
                        ]
                    ]
                ]
            ]
        ]
        let patched = try await cluster.http.request("PATCH", "\(path)/web", body: patch, contentType: "application/strategic-merge-patch+json")
        #expect(patched.status == 200, "\(patched.text)")
        let containers = patched.body.value(at: ["spec", "template", "spec", "containers"])?.arrayValue ?? []
        #expect(containers.count == 1)
        #expect(containers.first?["image"] == "nginx:2")
        #expect(containers.first?["env"] == [["name": "A", "value": "1"], ["name": "B", "value": "2"]])
        #expect(patched.body["metadata"]?["generation"] == 2)
    }

    @Test("server-side apply creates, merges, reports conflicts between managers, and force takes over")
    func serverSideApply() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("patch-ssa")
        let path = "/apis/apps/v1/namespaces/\(namespace)/deployments/web"
        let yaml = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              replicas: 2
              selector:
                matchLabels: {app: web}
              template:
                metadata:
                  labels: {app: web}
                spec:
                  containers:
                  - name: web
                    image: nginx:1
            """
        let created = try await cluster.http.request("PATCH", "\(path)?fieldManager=alice", rawBody: yaml, contentType: "application/apply-patch+yaml")
        #expect(created.status == 201, "\(created.text)")
        let managers = created.body["metadata"]?["managedFields"]?.arrayValue ?? []
        #expect(managers.first?["manager"] == "alice" && managers.first?["operation"] == "Apply")
        #expect(managers.first?["fieldsV1"]?["f:spec"]?["f:replicas"] == [:])
        let byBob = yaml.replacingOccurrences(of: "replicas: 2", with: "replicas: 5")
        let conflict = try await cluster.http.request("PATCH", "\(path)?fieldManager=bob", rawBody: byBob, contentType: "application/apply-patch+yaml")
        #expect(conflict.status == 409)
        #expect(conflict.body["message"] == "Apply failed with 1 conflict: conflict with \"alice\" using apps/v1: .spec.replicas")
        #expect(conflict.body["details"]?["causes"]?.arrayValue?.first?["field"] == ".spec.replicas")
        let forced = try await cluster.http.request("PATCH", "\(path)?fieldManager=bob&force=true", rawBody: byBob, contentType: "application/apply-patch+yaml")
        #expect(forced.status == 200)
        #expect(forced.body.value(at: ["spec", "replicas"]) == 5)
        let alice = forced.body["metadata"]?["managedFields"]?.arrayValue?.first { $0["manager"] == "alice" }
        #expect(alice?["fieldsV1"]?["f:spec"]?["f:replicas"] == nil, "alice lost ownership of replicas")
        let sameValue = try await cluster.http.request("PATCH", "\(path)?fieldManager=carol", rawBody: byBob, contentType: "application/apply-patch+yaml")
        #expect(sameValue.status == 200, "applying the same value shares ownership without conflict")
        let withoutManager = try await cluster.http.request("PATCH", path, rawBody: yaml, contentType: "application/apply-patch+yaml")
        #expect(withoutManager.status == 400)
    }

    @Test("apply removes fields the manager stopped applying")
    func applyRemovesDroppedFields() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("patch-ssa-drop")
        let path = "/api/v1/namespaces/\(namespace)/configmaps/cm?fieldManager=tool"
        let first = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  labels: {keep: \"1\", drop: \"1\"}\ndata:\n  a: \"1\"\n  b: \"2\"\n"
        let second = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  labels: {keep: \"1\"}\ndata:\n  a: \"1\"\n"
        _ = try await cluster.http.request("PATCH", path, rawBody: first, contentType: "application/apply-patch+yaml")
        let applied = try await cluster.http.request("PATCH", path, rawBody: second, contentType: "application/apply-patch+yaml")
        #expect(applied.body["data"] == ["a": "1"])
        #expect(applied.body["metadata"]?["labels"] == ["keep": "1"])
    }
}
