import Foundation
import KubeCore
import Testing

/// The install artifacts applied with real kubectl to the project's API server.
@Suite("Installing with kubectl")
struct InstallTests {
    @Test("the rendered chart (CRDs included) applies, and every object is then there")
    func applyChart() async throws {
        let cluster = try await KubectlCluster()
        let rendered = try await Helm.render(
            ["watchNamespaces": ["team-a"], "serviceMonitor": ["enabled": false], "networkPolicy": ["enabled": true], "dashboard": ["enabled": true]],
            includeCRDs: true)
        #expect(rendered.status == 0, "\(rendered.stderr)")
        for namespace in ["sextant-system", "team-a"] {
            let created = try await cluster.kubectl(["create", "namespace", namespace])
            #expect(created.status == 0, "\(created.output)")
        }
        let applied = try await cluster.kubectl(["apply", "--server-side", "-f", "-"], stdin: rendered.stdout)
        #expect(applied.status == 0, "\(applied.output)")
        for object in try YAML.documents(from: rendered.stdout) {
            let group = group(of: object)
            var arguments = ["get", object.kind.lowercased() + (group.isEmpty ? "" : ".\(group)"), object.name, "-o", "name"]
            if let namespace = object.namespace { arguments += ["-n", namespace] }
            let got = try await cluster.kubectl(arguments)
            #expect(got.status == 0, "\(object.kind)/\(object.name): \(got.output)")
        }
        // The CRDs serve: the quick-start Model is accepted in the watched namespace.
        let model = try await cluster.kubectl(["apply", "-n", "team-a", "-f", Repository.url("manifests/examples/01-model.yaml").path])
        #expect(model.status == 0, "\(model.output)")
    }

    @Test("kubectl apply -k manifests/ installs CRDs, RBAC and the operator")
    func applyKustomizeBase() async throws {
        let cluster = try await KubectlCluster()
        let applied = try await cluster.kubectl(["apply", "--server-side", "-k", Repository.url("manifests").path])
        #expect(applied.status == 0, "\(applied.output)")
        for (resource, name, namespace) in [
            ("customresourcedefinition", "inferenceservices.ml.sextant.dev", nil), ("namespace", "sextant-system", nil),
            ("deployment", "sextant-operator", "sextant-system"), ("serviceaccount", "sextant-operator", "sextant-system"),
            ("clusterrole", "sextant-operator", nil), ("clusterrolebinding", "sextant-operator", nil),
        ] as [(String, String, String?)] {
            let got = try await cluster.kubectl(["get", resource, name] + (namespace.map { ["-n", $0] } ?? []))
            #expect(got.status == 0, "\(resource)/\(name): \(got.output)")
        }
    }

    @Test("the namespaced overlay grants a Role in the watched namespace and nothing cluster-wide")
    func applyNamespacedOverlay() async throws {
        let cluster = try await KubectlCluster()
        let built = try await cluster.kubectl(["kustomize", Repository.url("manifests/overlays/namespaced").path])
        #expect(built.status == 0, "\(built.output)")
        let objects = try YAML.documents(from: built.stdout)
        #expect(!objects.contains { $0.kind == "ClusterRole" || $0.kind == "ClusterRoleBinding" })
        let role = try #require(objects.first { $0.kind == "Role" && $0.namespace == "sextant-models" })
        #expect(Set(PolicyRule.rules(of: role)) == Set(PolicyRule.watched))
        let deployment = try #require(objects.first { $0.kind == "Deployment" })
        #expect(ChartTests.environment(try ChartTests.container(deployment))["SEXTANT_WATCH_NAMESPACE"] == "sextant-models")
        let applied = try await cluster.kubectl(["apply", "--server-side", "-k", Repository.url("manifests/overlays/namespaced").path])
        #expect(applied.status == 0, "\(applied.output)")
        let got = try await cluster.kubectl(["get", "role", role.name, "-n", "sextant-models"])
        #expect(got.status == 0, "\(got.output)")
    }

    @Test("manifests/ is what the chart renders with its defaults: the two cannot drift")
    func manifestsMatchChart() async throws {
        let check = try await runProcess(["python3", "hack/helm-render.py", "manifests", "--check"], directory: try scratchDirectory())
        #expect(check.status == 0, "\(check.output)")
        let cluster = try await KubectlCluster()
        let built = try await cluster.kubectl(["kustomize", Repository.url("manifests").path])
        #expect(built.status == 0, "\(built.output)")
        let rendered = try await Helm.render(includeCRDs: true)
        #expect(rendered.status == 0, "\(rendered.stderr)")
        func keyed(_ objects: [JSONValue]) -> [String: JSONValue] {
            Dictionary(
                objects.map { object in
                    var object = object
                    // The plain manifests are labelled as kustomize's, not Helm's.
                    object["metadata"]?["labels"]?["helm.sh/chart"] = nil
                    object["metadata"]?["labels"]?["app.kubernetes.io/managed-by"] = nil
                    return ("\(object.kind)/\(object.namespace ?? "")/\(object.name)", object)
                }, uniquingKeysWith: { a, _ in a })
        }
        let fromKustomize = keyed(try YAML.documents(from: built.stdout).filter { $0.kind != "Namespace" })
        let fromChart = keyed(try YAML.documents(from: rendered.stdout))
        #expect(Set(fromKustomize.keys) == Set(fromChart.keys))
        for (key, object) in fromChart { #expect(fromKustomize[key] == object, "\(key) differs between manifests/ and the chart") }
    }

    private func group(of object: JSONValue) -> String {
        let apiVersion = object["apiVersion"]?.stringValue ?? ""
        return apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : ""
    }
}
