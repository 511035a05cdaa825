import Foundation
import KubeCore
import Testing

@testable import KubeAPIServer

/// RBAC, PodDisruptionBudgets and NetworkPolicies: the built-in kinds a Helm chart and the
/// operator create. Stored and served (discovery, tables, kubectl), RBAC not enforced.
@Suite("Built-in kinds: RBAC, PodDisruptionBudget, NetworkPolicy")
struct PolicyKindsTests {
    static let manifest = """
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata: {name: sextant-operator}
        rules:
        - apiGroups: [ml.sextant.dev]
          resources: [models, inferenceservices]
          verbs: [get, list, watch, update, patch]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRoleBinding
        metadata: {name: sextant-operator}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: sextant-operator}
        subjects:
        - {kind: ServiceAccount, name: sextant-operator, namespace: NAMESPACE}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata: {name: leader-election, namespace: NAMESPACE}
        rules:
        - apiGroups: [coordination.k8s.io]
          resources: [leases]
          verbs: [get, create, update]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: leader-election, namespace: NAMESPACE}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: leader-election}
        subjects:
        - {kind: ServiceAccount, name: sextant-operator}
        ---
        apiVersion: policy/v1
        kind: PodDisruptionBudget
        metadata: {name: sextant-operator, namespace: NAMESPACE}
        spec:
          minAvailable: 1
          selector: {matchLabels: {app: sextant-operator}}
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: sextant-operator, namespace: NAMESPACE}
        spec:
          podSelector: {matchLabels: {app: sextant-operator}}
          ingress:
          - ports: [{port: 8080}]
        """

    @Test("discovery serves the rbac, policy and networking groups with their resources")
    func discovery() async throws {
        let cluster = try await TestCluster.start()
        let groups = try await cluster.http.request("GET", "/apis").body["groups"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(Set(["rbac.authorization.k8s.io", "policy", "networking.k8s.io"]).isSubset(of: Set(groups)), "\(groups)")
        let rbac = try await cluster.http.request("GET", "/apis/rbac.authorization.k8s.io/v1").body["resources"]?.arrayValue ?? []
        let rbacNames = Set(rbac.compactMap { $0["name"]?.stringValue })
        #expect(rbacNames == ["roles", "rolebindings", "clusterroles", "clusterrolebindings"])
        #expect(rbac.first { $0["name"] == "clusterroles" }?["namespaced"] == false)
        let policy = try await cluster.http.request("GET", "/apis/policy/v1").body["resources"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(policy == ["poddisruptionbudgets", "poddisruptionbudgets/status"])
        let networking = try await cluster.http.request("GET", "/apis/networking.k8s.io/v1").body["resources"]?.arrayValue ?? []
        #expect(networking.first?["shortNames"] == ["netpol"])
        let openAPI = try await cluster.http.request("GET", "/openapi/v3").body["paths"]?.objectValue?.keys.sorted() ?? []
        #expect(openAPI.contains("apis/rbac.authorization.k8s.io/v1") && openAPI.contains("apis/policy/v1") && openAPI.contains("apis/networking.k8s.io/v1"))
        await cluster.stop()
    }

    @Test("kubectl applies a chart's RBAC, PodDisruptionBudget and NetworkPolicy and lists them with their columns")
    func kubectlApplyAndGet() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("policy-kubectl")
        let manifest = Self.manifest.replacingOccurrences(of: "NAMESPACE", with: namespace)
        let apply = try await cluster.kubectl(["apply", "-f", "-"], stdin: manifest)
        #expect(apply.status == 0, "\(apply.output)")
        #expect(apply.stdout.contains("clusterrole.rbac.authorization.k8s.io/sextant-operator created"), "\(apply.output)")
        #expect(apply.stdout.contains("poddisruptionbudget.policy/sextant-operator created"), "\(apply.output)")
        let again = try await cluster.kubectl(["apply", "-f", "-"], stdin: manifest)
        // (kubectl always patches a PDB's selector and a NetworkPolicy's defaulted rules, as against a real server.)
        #expect(again.status == 0 && again.stdout.contains("rolebinding.rbac.authorization.k8s.io/leader-election unchanged"), "\(again.output)")
        // The NetworkPolicy's ingress is an atomic list the server defaulted, so taking it over conflicts, as on a real server.
        let serverSide = try await cluster.kubectl(["apply", "--server-side", "--force-conflicts", "-f", "-"], stdin: manifest)
        #expect(serverSide.status == 0, "\(serverSide.output)")

        let bindings = try await cluster.kubectl(["get", "rolebindings", "-n", namespace, "-o", "wide"])
        #expect(bindings.stdout.contains("Role/leader-election") && bindings.stdout.contains("/sextant-operator"), "\(bindings.output)")
        let clusterBindings = try await cluster.kubectl(["get", "clusterrolebinding", "sextant-operator"])
        #expect(clusterBindings.stdout.contains("ClusterRole/sextant-operator"), "\(clusterBindings.output)")
        let roles = try await cluster.kubectl(["get", "clusterroles,roles", "-A"])
        #expect(roles.stdout.contains("sextant-operator") && roles.stdout.contains("leader-election"), "\(roles.output)")
        let pdb = try await cluster.kubectl(["get", "pdb", "-n", namespace])
        #expect(pdb.stdout.contains("MIN AVAILABLE") && pdb.stdout.contains("ALLOWED DISRUPTIONS"), "\(pdb.output)")
        let netpol = try await cluster.kubectl(["get", "netpol", "-n", namespace])
        #expect(netpol.stdout.contains("app=sextant-operator"), "\(netpol.output)")

        let policy = try await cluster.http.request("GET", "/apis/networking.k8s.io/v1/namespaces/\(namespace)/networkpolicies/sextant-operator").body
        #expect(policy["spec"]?["policyTypes"] == ["Ingress"])
        #expect(policy["spec"]?["ingress"]?.arrayValue?.first?["ports"]?.arrayValue?.first?["protocol"] == "TCP")
        await cluster.stop()
    }

    @Test("a PodDisruptionBudget has a status subresource with zeroed counters; invalid specs and roleRef changes are 422")
    func statusAndValidation() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("policy-status")
        let pdbPath = "/apis/policy/v1/namespaces/\(namespace)/poddisruptionbudgets"
        let pdb: JSONValue = [
            "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": ["name": "web"],
            "spec": ["maxUnavailable": 1, "selector": ["matchLabels": ["app": "web"]]],
        ]
        let created = try await cluster.http.request("POST", pdbPath, body: pdb)
        #expect(created.status == 201, "\(created.text)")
        #expect(created.body["status"] == ["currentHealthy": 0, "desiredHealthy": 0, "disruptionsAllowed": 0, "expectedPods": 0])
        let status = try await cluster.http.request(
            "PATCH", pdbPath + "/web/status", body: ["status": ["disruptionsAllowed": 1, "currentHealthy": 2, "desiredHealthy": 1, "expectedPods": 2]],
            contentType: "application/merge-patch+json")
        #expect(status.status == 200 && status.body["status"]?["disruptionsAllowed"] == 1, "\(status.text)")
        let specWrite = try await cluster.http.request(
            "PATCH", pdbPath + "/web", body: ["status": ["disruptionsAllowed": 5]], contentType: "application/merge-patch+json")
        #expect(specWrite.body["status"]?["disruptionsAllowed"] == 1, "status changes only through /status")
        var both = pdb
        both["metadata"]?["name"] = "both"
        both["spec"]?["minAvailable"] = 1
        let invalid = try await cluster.http.request("POST", pdbPath, body: both)
        #expect(
            invalid.status == 422 && invalid.body["message"]?.stringValue?.contains("minAvailable and maxUnavailable cannot be both set") == true,
            "\(invalid.text)")

        let bindingPath = "/apis/rbac.authorization.k8s.io/v1/namespaces/\(namespace)/rolebindings"
        let binding: JSONValue = [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": ["name": "reader"],
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"], "subjects": [["kind": "User", "name": "jane"]],
        ]
        #expect(try await cluster.http.request("POST", bindingPath, body: binding).status == 201)
        let moved = try await cluster.http.request(
            "PATCH", bindingPath + "/reader", body: ["roleRef": ["name": "writer"]], contentType: "application/merge-patch+json")
        #expect(
            moved.status == 422 && moved.body["message"]?.stringValue?.contains("roleRef: Invalid value") == true
                && moved.body["message"]?.stringValue?.contains("cannot change roleRef") == true, "\(moved.text)")
        var noRole = binding
        noRole["metadata"]?["name"] = "broken"
        noRole["roleRef"] = ["apiGroup": "rbac.authorization.k8s.io", "kind": "Secret", "name": "x"]
        let badKind = try await cluster.http.request("POST", bindingPath, body: noRole)
        #expect(badKind.status == 422 && badKind.body["message"]?.stringValue?.contains("roleRef.kind: Unsupported value") == true, "\(badKind.text)")
        await cluster.stop()
    }
}
