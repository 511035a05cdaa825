import Foundation
import KubeCore
import SextantTestSupport
import Testing

@testable import KubeAPIServer

@Suite("Deletion: finalizers, preconditions, garbage collection, namespaces")
struct DeletionTests {
    static func configMap(_ name: String, owner: JSONValue? = nil, finalizers: [JSONValue] = []) -> JSONValue {
        var metadata: JSONValue = ["name": .string(name)]
        if let owner { metadata["ownerReferences"] = [owner] }
        if !finalizers.isEmpty { metadata["finalizers"] = .array(finalizers) }
        return ["apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": [:]]
    }

    static func ownerReference(_ object: JSONValue, block: Bool = false) -> JSONValue {
        [
            "apiVersion": object["apiVersion"] ?? "", "kind": object["kind"] ?? "", "name": object["metadata"]?["name"] ?? "",
            "uid": object["metadata"]?["uid"] ?? "", "controller": true, "blockOwnerDeletion": .bool(block),
        ]
    }

    @Test("an object with finalizers is marked, not removed, until the last finalizer goes")
    func finalizers() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("delete-finalizers")
        let path = "/api/v1/namespaces/\(namespace)/configmaps"
        _ = try await cluster.http.request("POST", path, body: Self.configMap("held", finalizers: ["example.com/cleanup", "example.com/other"]))
        let deleting = try await cluster.http.request("DELETE", "\(path)/held")
        #expect(deleting.status == 200)
        #expect(deleting.body["metadata"]?["deletionTimestamp"] != nil)
        #expect(try await cluster.http.request("GET", "\(path)/held").status == 200)
        let addFinalizer = try await cluster.http.request(
            "PATCH", "\(path)/held", body: ["metadata": ["finalizers": ["example.com/cleanup", "example.com/other", "example.com/new"]]],
            contentType: "application/merge-patch+json")
        #expect(addFinalizer.status == 422, "no new finalizers once deletion started")
        _ = try await cluster.http.request(
            "PATCH", "\(path)/held", body: [["op": "remove", "path": "/metadata/finalizers/0"]], contentType: "application/json-patch+json")
        #expect(try await cluster.http.request("GET", "\(path)/held").status == 200)
        let last = try await cluster.http.request(
            "PATCH", "\(path)/held",
            body: [["op": "test", "path": "/metadata/finalizers/0", "value": "example.com/other"], ["op": "remove", "path": "/metadata/finalizers/0"]],
            contentType: "application/json-patch+json")
        #expect(last.status == 200)
        #expect(try await cluster.http.request("GET", "\(path)/held").status == 404)
    }

    @Test("a gone object answers a success Status; preconditions are checked")
    func statusAndPreconditions() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("delete-preconditions")
        let path = "/api/v1/namespaces/\(namespace)/configmaps"
        let created = try await cluster.http.request("POST", path, body: Self.configMap("target"))
        let wrongUID = try await cluster.http.request(
            "DELETE", "\(path)/target", body: ["kind": "DeleteOptions", "apiVersion": "v1", "preconditions": ["uid": "not-the-uid"]])
        #expect(wrongUID.status == 409)
        #expect(wrongUID.body["message"]?.stringValue?.contains("the UID in the precondition (not-the-uid) does not match the UID in record") == true)
        let deleted = try await cluster.http.request(
            "DELETE", "\(path)/target", body: ["kind": "DeleteOptions", "apiVersion": "v1", "preconditions": ["uid": created.body["metadata"]?["uid"] ?? ""]])
        #expect(deleted.status == 200)
        #expect(deleted.body["kind"] == "Status" && deleted.body["status"] == "Success")
        #expect(deleted.body["details"]?["name"] == "target")
        #expect(try await cluster.http.request("DELETE", "\(path)/target").status == 404)
    }

    @Test("background propagation: dependents are collected after their owner")
    func background() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("delete-background")
        let path = "/api/v1/namespaces/\(namespace)/configmaps"
        let owner = try await cluster.http.request("POST", path, body: Self.configMap("owner"))
        _ = try await cluster.http.request("POST", path, body: Self.configMap("child", owner: Self.ownerReference(owner.body)))
        let grandchildOwner = try await cluster.http.request("GET", "\(path)/child")
        _ = try await cluster.http.request("POST", path, body: Self.configMap("grandchild", owner: Self.ownerReference(grandchildOwner.body)))
        _ = try await cluster.http.request("DELETE", "\(path)/owner")
        try await eventually("child and grandchild to be collected") {
            let child = try await cluster.http.request("GET", "\(path)/child").status
            let grandchild = try await cluster.http.request("GET", "\(path)/grandchild").status
            return child == 404 && grandchild == 404
        }
    }

    @Test("orphan propagation keeps dependents and strips their owner reference")
    func orphan() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("delete-orphan")
        let path = "/api/v1/namespaces/\(namespace)/configmaps"
        let owner = try await cluster.http.request("POST", path, body: Self.configMap("owner"))
        _ = try await cluster.http.request("POST", path, body: Self.configMap("child", owner: Self.ownerReference(owner.body)))
        _ = try await cluster.http.request("DELETE", "\(path)/owner?propagationPolicy=Orphan")
        try await eventually("the owner to go") { try await cluster.http.request("GET", "\(path)/owner").status == 404 }
        let child = try await cluster.http.request("GET", "\(path)/child")
        #expect(child.status == 200)
        #expect(child.body["metadata"]?["ownerReferences"] == nil)
    }

    @Test("foreground propagation: the owner stays until blocking dependents are gone")
    func foreground() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("delete-foreground")
        let path = "/api/v1/namespaces/\(namespace)/configmaps"
        let owner = try await cluster.http.request("POST", path, body: Self.configMap("owner"))
        _ = try await cluster.http.request(
            "POST", path, body: Self.configMap("child", owner: Self.ownerReference(owner.body, block: true), finalizers: ["example.com/slow"]))
        let deleting = try await cluster.http.request("DELETE", "\(path)/owner", body: ["propagationPolicy": "Foreground"])
        #expect(deleting.body["metadata"]?["finalizers"] == ["foregroundDeletion"])
        try await eventually("the child to be marked for deletion") {
            try await cluster.http.request("GET", "\(path)/child").body["metadata"]?["deletionTimestamp"] != nil
        }
        #expect(try await cluster.http.request("GET", "\(path)/owner").status == 200, "owner waits for its blocking child")
        _ = try await cluster.http.request("PATCH", "\(path)/child", body: ["metadata": ["finalizers": nil]], contentType: "application/merge-patch+json")
        try await eventually("the owner to go once the child is gone") { try await cluster.http.request("GET", "\(path)/owner").status == 404 }
    }

    @Test("deleting a namespace deletes its contents, refuses new content, then goes")
    func namespaceLifecycle() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("doomed")
        let path = "/api/v1/namespaces/\(namespace)/configmaps"
        _ = try await cluster.http.request("POST", path, body: Self.configMap("a"))
        _ = try await cluster.http.request("POST", path, body: Self.configMap("b", finalizers: ["example.com/hold"]))
        let deleting = try await cluster.http.request("DELETE", "/api/v1/namespaces/\(namespace)")
        #expect(deleting.body["status"]?["phase"] == "Terminating")
        let refused = try await cluster.http.request("POST", path, body: Self.configMap("late"))
        #expect(refused.status == 403)
        try await eventually("a to be deleted") { try await cluster.http.request("GET", "\(path)/a").status == 404 }
        #expect(try await cluster.http.request("GET", "/api/v1/namespaces/\(namespace)").status == 200, "b still holds the namespace")
        _ = try await cluster.http.request("PATCH", "\(path)/b", body: ["metadata": ["finalizers": nil]], contentType: "application/merge-patch+json")
        try await eventually("the namespace to go") { try await cluster.http.request("GET", "/api/v1/namespaces/\(namespace)").status == 404 }
    }

    @Test("deletecollection removes what the selector matches")
    func deleteCollection() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("delete-collection")
        let path = "/api/v1/namespaces/\(namespace)/configmaps"
        for name in ["a", "b", "c"] {
            var object = Self.configMap(name)
            object["metadata"]?["labels"] = ["group": name == "c" ? "keep" : "drop"]
            _ = try await cluster.http.request("POST", path, body: object)
        }
        let response = try await cluster.http.request("DELETE", "\(path)?labelSelector=group%3Ddrop")
        #expect(response.status == 200)
        let remaining = try await cluster.http.request("GET", path).body["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue }
        #expect(remaining == ["c"])
    }
}
