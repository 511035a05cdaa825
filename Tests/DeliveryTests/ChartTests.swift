import Foundation
import KubeCore
import SextantOperator
import Testing

/// The chart rendered by Helm's own engine (PyPI helm-python-sdk) with several value sets.
@Suite("Helm chart")
struct ChartTests {
    /// Checks every rendered install must pass, whatever the values.
    static func checkWellFormed(_ objects: [JSONValue], _ label: String) {
        var seen = Set<String>()
        for object in objects {
            #expect(object["apiVersion"]?.stringValue?.isEmpty == false, "\(label): an object without apiVersion: \(object)")
            #expect(!object.kind.isEmpty && !object.name.isEmpty, "\(label): an object without kind or name: \(object)")
            let identity = "\(object.kind)/\(object.namespace ?? "-")/\(object.name)"
            #expect(seen.insert(identity).inserted, "\(label): \(identity) rendered twice")
            #expect(object["metadata"]?["labels"]?["app.kubernetes.io/name"]?.stringValue == "sextant", "\(label): \(identity) lacks the chart's labels")
        }
    }

    static func deployment(_ objects: [JSONValue]) throws -> JSONValue {
        try #require(objects.first { $0.kind == "Deployment" }, "no Deployment rendered")
    }

    static func container(_ deployment: JSONValue) throws -> JSONValue {
        try #require(deployment["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first)
    }

    static func environment(_ container: JSONValue) -> [String: String] {
        var values: [String: String] = [:]
        for variable in container["env"]?.arrayValue ?? [] {
            if let name = variable["name"]?.stringValue, let value = variable["value"]?.stringValue { values[name] = value }
        }
        return values
    }

    @Test("default values: HA operator, hardened pod, probes, least-privilege RBAC from the code's declaration")
    func defaults() async throws {
        let (stream, objects) = try await Helm.objects()
        Self.checkWellFormed(objects, "defaults")
        try await Self.checkSchemas(stream, "defaults")
        let withCRDs = try await Helm.render(includeCRDs: true)
        try await Self.checkSchemas(withCRDs.stdout, "defaults with CRDs")
        #expect(
            Set(objects.map(\.kind)) == [
                "Deployment", "ServiceAccount", "Service", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "PodDisruptionBudget",
            ])
        let deployment = try Self.deployment(objects)
        #expect(deployment.namespace == "sextant-system")
        #expect(deployment["spec"]?["replicas"] == 2)
        let pod = try #require(deployment["spec"]?["template"]?["spec"])
        #expect(pod["securityContext"]?["runAsNonRoot"] == true)
        #expect(pod["securityContext"]?["seccompProfile"]?["type"] == "RuntimeDefault")
        let container = try Self.container(deployment)
        let args = container["args"]?.strings ?? []
        #expect(args.first == "run" && args.contains("--leader-elect") && args.contains("--leader-election-namespace=sextant-system"), "\(args)")
        #expect(container["securityContext"]?["readOnlyRootFilesystem"] == true)
        #expect(container["securityContext"]?["allowPrivilegeEscalation"] == false)
        #expect(container["securityContext"]?["capabilities"]?["drop"]?.strings == ["ALL"])
        #expect(container["resources"]?["requests"]?["memory"] != nil && container["resources"]?["limits"]?["memory"] != nil)
        for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
            #expect(container[probe]?["httpGet"]?["path"] == "/healthz", "\(probe)")
        }
        #expect(Self.environment(container)["SEXTANT_WATCH_NAMESPACE"] == "")
        #expect(Self.environment(container)["SEXTANT_SERVER_IMAGE"]?.hasPrefix("ghcr.io/sextant-ml/sextant-server:") == true)

        let clusterRole = try #require(objects.first { $0.kind == "ClusterRole" })
        #expect(Set(PolicyRule.rules(of: clusterRole)) == Set(PolicyRule.watched), "the ClusterRole differs from OperatorPermissions.rules")
        let leaseRole = try #require(objects.first { $0.kind == "Role" })
        #expect(leaseRole.namespace == "sextant-system")
        #expect(Set(PolicyRule.rules(of: leaseRole)) == Set(PolicyRule.leaderElection))
        for binding in objects where binding.kind.hasSuffix("Binding") {
            #expect(binding["subjects"]?.arrayValue?.first?["name"]?.stringValue == objects.first { $0.kind == "ServiceAccount" }?.name)
        }
        let service = try #require(objects.first { $0.kind == "Service" })
        #expect(service["spec"]?["ports"]?.arrayValue?.first?["port"] == 8080)
        let notes = try await Helm.render(notes: true)
        #expect(notes.status == 0 && notes.stdout.contains("sextant-system"), "\(notes.output)")
    }

    @Test("every declared permission is granted and nothing else: the rules come from OperatorPermissions")
    func rulesMatchTheCode() {
        #expect(!PolicyRule.watched.isEmpty && !PolicyRule.leaderElection.isEmpty)
        // The operator's caches list and watch these kinds: each must be granted list+watch.
        for (group, resource) in [
            ("ml.sextant.dev", "models"), ("ml.sextant.dev", "inferenceservices"), ("apps", "deployments"), ("", "pods"), ("batch", "jobs"),
        ] {
            let granted = PolicyRule.watched.filter { $0.apiGroups.contains(group) && $0.resources.contains(resource) }.flatMap(\.verbs)
            #expect(Set(["list", "watch"]).isSubset(of: granted), "\(group)/\(resource): \(granted)")
        }
        for rule in PolicyRule.declared {
            #expect(!rule.verbs.contains("*") && !rule.resources.contains("*") && !rule.apiGroups.contains("*"), "a wildcard rule: \(rule)")
        }
    }

    struct ValueSet: Sendable, CustomTestStringConvertible {
        let label: String
        let values: JSONValue
        let check: @Sendable ([JSONValue]) throws -> Void
        var testDescription: String { label }
    }

    static let valueSets: [ValueSet] = [
        ValueSet(label: "watched namespaces", values: ["watchNamespaces": ["team-a", "team-b"]]) { objects in
            #expect(!objects.contains { $0.kind.hasPrefix("Cluster") }, "a namespaced install has no cluster-wide RBAC")
            for namespace in ["team-a", "team-b"] {
                let role = try #require(objects.first { $0.kind == "Role" && $0.namespace == namespace })
                #expect(Set(PolicyRule.rules(of: role)) == Set(PolicyRule.watched))
                #expect(objects.contains { $0.kind == "RoleBinding" && $0.namespace == namespace })
            }
            #expect(ChartTests.environment(try ChartTests.container(try ChartTests.deployment(objects)))["SEXTANT_WATCH_NAMESPACE"] == "team-a,team-b")
        },
        ValueSet(
            label: "monitoring and network policy",
            values: [
                "serviceMonitor": ["enabled": true, "labels": ["release": "prom"]], "networkPolicy": ["enabled": true], "dashboard": ["enabled": true],
            ]
        ) { objects in
            let monitor = try #require(objects.first { $0.kind == "ServiceMonitor" })
            #expect(monitor["metadata"]?["labels"]?["release"] == "prom")
            #expect(objects.contains { $0.kind == "NetworkPolicy" })
            let dashboard = try #require(objects.first { $0.kind == "ConfigMap" })
            #expect(dashboard["metadata"]?["labels"]?["grafana_dashboard"] == "1")
            let json = try #require(dashboard["data"]?["sextant.json"]?.stringValue)
            #expect(try JSONValue(parsing: Data(json.utf8))["panels"]?.arrayValue?.isEmpty == false)
        },
        ValueSet(
            label: "private registry",
            values: [
                "imagePullSecrets": [["name": "regcred"]], "image": ["repository": "registry.example.com/sextant-operator", "tag": "1.2.3"],
                "server": ["image": "registry.example.com/sextant-server:1.2.3"],
            ]
        ) { objects in
            let deployment = try ChartTests.deployment(objects)
            #expect(deployment["spec"]?["template"]?["spec"]?["imagePullSecrets"] == [["name": "regcred"]])
            let container = try ChartTests.container(deployment)
            #expect(container["image"] == "registry.example.com/sextant-operator:1.2.3")
            #expect(ChartTests.environment(container)["SEXTANT_SERVER_IMAGE"] == "registry.example.com/sextant-server:1.2.3")
        },
        ValueSet(label: "single replica", values: ["replicaCount": 1, "leaderElection": ["enabled": false], "logging": ["level": "debug", "format": "text"]]) {
            objects in
            #expect(!objects.contains { $0.kind == "PodDisruptionBudget" }, "a PDB for one replica would block every drain")
            let args = try ChartTests.container(try ChartTests.deployment(objects))["args"]?.strings ?? []
            #expect(args.contains("--no-leader-elect") && args.contains("--log-level=debug") && args.contains("--log-format=text"), "\(args)")
            #expect(!objects.contains { $0.kind == "Role" && $0.namespace == "sextant-system" }, "no Lease permission without leader election")
        },
    ]

    @Test("value sets render the objects they ask for", arguments: valueSets)
    func valueSet(_ set: ValueSet) async throws {
        let (stream, objects) = try await Helm.objects(set.values)
        Self.checkWellFormed(objects, set.label)
        try set.check(objects)
        try await Self.checkSchemas(stream, set.label)
    }

    /// Validates rendered objects against the Kubernetes 1.33 OpenAPI schemas, strictly (an
    /// unknown or misspelt field fails): the project's API server stores built-in kinds without
    /// checking their fields, so applying them proves less. (Kinds of other projects, such as
    /// ServiceMonitor, are only warned about.)
    static func checkSchemas(_ stream: String, _ label: String) async throws {
        let directory = try scratchDirectory()
        let file = directory.appendingPathComponent("rendered.yaml")
        try stream.write(to: file, atomically: true, encoding: .utf8)
        let result = try await runProcess(["kubernetes-validate", "--strict", "--quiet", "-k", "1.33.0", file.path], directory: directory)
        #expect(result.status == 0, "\(label): not valid Kubernetes objects:\n\(result.output)")
    }

    @Test(
        "bad values are refused by values.schema.json with a message naming the value",
        arguments: [
            (#"{"replicaCount": 0}"#, "replicaCount"),
            (#"{"logging": {"format": "xml"}}"#, "format"),
            (#"{"replicas": 2}"#, "replicas"),
            (#"{"watchNamespaces": ["Team-A"]}"#, "watchNamespaces"),
            (#"{"image": {"pullPolicy": "Sometimes"}}"#, "pullPolicy"),
            (#"{"concurrency": "four"}"#, "concurrency"),
        ])
    func badValues(_ values: String, _ field: String) async throws {
        let result = try await Helm.render(try JSONValue(parsing: Data(values.utf8)))
        #expect(result.status == 2, "\(values) rendered: \(result.output.prefix(300))")
        #expect(result.stderr.contains(field), "\(values): \(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test("the chart's CRDs are the generated ones, byte for byte")
    func crdsIdentical() throws {
        let generated = try Repository.yamlFiles(in: "crds")
        #expect(!generated.isEmpty)
        #expect(try Repository.yamlFiles(in: "charts/sextant/crds") == generated)
        for file in generated {
            #expect(
                try Repository.text("charts/sextant/crds/\(file)") == Repository.text("crds/\(file)"),
                "charts/sextant/crds/\(file) differs; run hack/generate.sh")
        }
    }

    @Test("every flag the chart passes to the operator is one `sextant-operator run` accepts")
    func operatorFlags() async throws {
        let help = try await runProcess([try Executables.path("sextant-operator"), "run", "--help"], directory: try scratchDirectory())
        #expect(help.status == 0, "\(help.output)")
        let (_, objects) = try await Helm.objects(["leaderElection": ["enabled": true]])
        let (_, single) = try await Helm.objects(["replicaCount": 1, "leaderElection": ["enabled": false]])
        let args = try [objects, single].flatMap { try Self.container(try Self.deployment($0))["args"]?.strings ?? [] }
        for flag in Set(args.filter { $0.hasPrefix("--") }.map { String($0.split(separator: "=")[0]) }) {
            // `--[no-]leader-elect` is listed once for both spellings.
            let name = flag.replacingOccurrences(of: "--no-", with: "--").dropFirst(2)
            #expect(
                help.stdout.contains("--\(name)") || help.stdout.contains("--[no-]\(name)"),
                "the chart passes \(flag), which sextant-operator run does not know")
        }
    }
}

@Suite("Grafana dashboard")
struct DashboardTests {
    @Test("panels cover what operators watch, and every metric they query is one our code exports")
    func dashboard() throws {
        let dashboard = try JSONValue(parsing: Data(try Repository.text("charts/sextant/dashboards/sextant.json").utf8))
        let panels = dashboard["panels"]?.arrayValue ?? []
        let titles = panels.compactMap { $0["title"]?.stringValue }
        for wanted in ["Request rate", "Error ratio", "Latency percentiles", "Canary weight", "drift", "accuracy", "verdicts", "Reconciles"] {
            #expect(titles.contains { $0.localizedCaseInsensitiveContains(wanted) }, "no panel about \(wanted): \(titles)")
        }
        let expressions = panels.flatMap { $0["targets"]?.arrayValue ?? [] }.compactMap { $0["expr"]?.stringValue }
        let names = Set(
            expressions.flatMap { $0.matches(of: /sextant_[a-z_]+/).map { String($0.output) } }.map {
                $0.replacing(/_(bucket|sum|count)$/, with: "")
            })
        #expect(names.count >= 15, "\(names)")
        let sources = try FileManager.default.subpathsOfDirectory(atPath: Repository.url("Sources").path).filter { $0.hasSuffix(".swift") }
            .map { try Repository.text("Sources/\($0)") }.joined()
        for name in names.sorted() {
            #expect(sources.contains("\"\(name)\""), "the dashboard queries \(name), which no source exports")
        }
    }
}
