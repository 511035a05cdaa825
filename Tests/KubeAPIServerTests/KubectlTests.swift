import Foundation
import KubeCore
import SextantTestSupport
import Testing

@testable import KubeAPIServer

/// Real kubectl against the server: what users and GitOps tools will do.
@Suite("kubectl against sextant-kube-apiserver", .serialized)
struct KubectlTests {
    func install(_ cluster: TestCluster, namespace: String) async throws {
        let crds = try await cluster.kubectl(["apply", "-f", Repository.url("crds").path])
        #expect(crds.status == 0, "\(crds.output)")
        #expect(crds.stdout.contains("customresourcedefinition.apiextensions.k8s.io/models.ml.sextant.dev created"))
        let examples = try await cluster.kubectl(["apply", "-n", namespace, "-f", Repository.url("manifests/examples").path])
        #expect(examples.status == 0, "\(examples.output)")
        #expect(examples.stderr.isEmpty, "no warnings: \(examples.stderr)")
        for line in [
            "model.ml.sextant.dev/flower-classifier created", "modelversion.ml.sextant.dev/flower-classifier-v2 created",
            "inferenceservice.ml.sextant.dev/flower-classifier created", "retrainpolicy.ml.sextant.dev/flower-classifier created",
        ] {
            #expect(examples.stdout.contains(line), "missing: \(line)")
        }
    }

    @Test("apply CRDs and examples, get with printer columns and categories, -o yaml, describe", arguments: [27, 33])
    func applyAndGet(minor: Int) async throws {
        let cluster = try await TestCluster.start(minorVersion: minor)
        let namespace = try await cluster.namespace("kubectl-get")
        try await install(cluster, namespace: namespace)
        let versions = try await cluster.kubectl(["get", "smv", "-n", namespace])
        #expect(versions.status == 0, "\(versions.output)")
        let header = versions.stdout.split(separator: "\n").first.map(String.init) ?? ""
        #expect(header.split(separator: " ", omittingEmptySubsequences: true) == ["NAME", "MODEL", "VERSION", "REQUESTED", "STAGE", "READY", "REASON", "AGE"])
        #expect(versions.stdout.contains("flower-classifier-v2"))
        let all = try await cluster.kubectl(["get", "sextant", "-n", namespace])
        #expect(all.status == 0)
        for kind in [
            "model.ml.sextant.dev/flower-classifier", "inferenceservice.ml.sextant.dev/flower-classifier", "retrainpolicy.ml.sextant.dev/flower-classifier",
        ] {
            #expect(all.stdout.contains(kind), "kubectl get sextant lacks \(kind)")
        }
        let wide = try await cluster.kubectl(["get", "sisvc", "-n", namespace, "-o", "wide"])
        #expect(wide.stdout.contains("URL"))
        let yaml = try await cluster.kubectl(["get", "model", "flower-classifier", "-n", namespace, "-o", "yaml"])
        let object = try YAML.document(from: yaml.stdout)
        #expect(object["spec"]?["task"] == "Classification")
        #expect(object["metadata"]?["uid"] != nil)
        let describe = try await cluster.kubectl(["describe", "model", "flower-classifier", "-n", namespace])
        #expect(describe.status == 0, "\(describe.output)")
        #expect(describe.stdout.contains("Owner:") && describe.stdout.contains("ml-platform@example.com"))
        let jsonpath = try await cluster.kubectl(["get", "sisvc", "flower-classifier", "-n", namespace, "-o", "jsonpath={.spec.rollout.steps}"])
        #expect(jsonpath.stdout == "[10,25,50,100]")
    }

    @Test("invalid objects are refused with the API server's message")
    func refusal() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("kubectl-invalid")
        try await install(cluster, namespace: namespace)
        let both = try await cluster.kubectl([
            "patch", "sisvc", "flower-classifier", "-n", namespace, "--type", "merge", "-p", #"{"spec":{"pinnedVersion":2}}"#,
        ])
        #expect(both.status != 0)
        #expect(both.stderr.contains("set trackStage or pinnedVersion, not both"))
        let typo = """
            apiVersion: ml.sextant.dev/v1alpha1
            kind: Model
            metadata: {name: typo}
            spec: {owner: me, task: Classification, ownr: x}
            """
        let strict = try await cluster.kubectl(["apply", "-n", namespace, "-f", "-"], stdin: typo)
        #expect(strict.status != 0)
        #expect(strict.stderr.contains("unknown field \"spec.ownr\""), "\(strict.stderr)")
    }

    @Test("patch: merge and JSON on custom resources, strategic on a Deployment; scale, label, annotate")
    func patches() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("kubectl-patch")
        try await install(cluster, namespace: namespace)
        let merge = try await cluster.kubectl([
            "patch", "smv", "flower-classifier-v2", "-n", namespace, "--type", "merge", "-p", #"{"spec":{"stage":"Production"}}"#,
        ])
        #expect(merge.status == 0, "\(merge.output)")
        let json = try await cluster.kubectl([
            "patch", "smv", "flower-classifier-v2", "-n", namespace, "--type", "json", "-p",
            #"[{"op":"replace","path":"/spec/metrics/accuracy","value":0.97}]"#,
        ])
        #expect(json.status == 0, "\(json.output)")
        let stage = try await cluster.kubectl(["get", "smv", "flower-classifier-v2", "-n", namespace, "-o", "jsonpath={.spec.stage} {.spec.metrics.accuracy}"])
        #expect(stage.stdout == "Production 0.97")
        // kubectl 1.32+ sends typed create bodies as protobuf; this server decodes Namespace,
        // ConfigMap, Secret and ServiceAccount, and documents the apply route for the rest.
        let generated = try await cluster.kubectl(["create", "deployment", "web", "--image=nginx:1.25", "--dry-run=client", "-o", "yaml"])
        let create = try await cluster.kubectl(["apply", "-n", namespace, "-f", "-"], stdin: generated.stdout)
        #expect(create.status == 0, "\(create.output)")
        let protobufCreate = try await cluster.kubectl(["create", "configmap", "settings", "--from-literal=a=b", "-n", namespace])
        #expect(protobufCreate.status == 0, "\(protobufCreate.output)")
        let settings = try await cluster.kubectl(["get", "configmap", "settings", "-n", namespace, "-o", "jsonpath={.data.a}"])
        #expect(settings.stdout == "b")
        let createNamespace = try await cluster.kubectl(["create", "namespace", "made-by-kubectl"])
        #expect(createNamespace.status == 0, "\(createNamespace.output)")
        let deployment = try await cluster.kubectl(["create", "deployment", "direct", "--image=nginx", "-n", namespace])
        #expect(deployment.status != 0)
        #expect(deployment.stderr.contains("not decoded from protobuf by this server"), "\(deployment.stderr)")
        let strategic = try await cluster.kubectl([
            "patch", "deployment", "web", "-n", namespace, "-p", #"{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}}}"#,
        ])
        #expect(strategic.status == 0, "\(strategic.output)")
        let image = try await cluster.kubectl(["get", "deployment", "web", "-n", namespace, "-o", "jsonpath={.spec.template.spec.containers[*].image}"])
        #expect(image.stdout == "nginx:1.27")
        let scale = try await cluster.kubectl(["scale", "deployment", "web", "--replicas=3", "-n", namespace])
        #expect(scale.status == 0, "\(scale.output)")
        let label = try await cluster.kubectl(["label", "deployment", "web", "tier=front", "-n", namespace])
        #expect(label.status == 0, "\(label.output)")
        let annotate = try await cluster.kubectl(["annotate", "smv", "flower-classifier-v2", "ml.sextant.dev/approved-by=alice", "-n", namespace])
        #expect(annotate.status == 0, "\(annotate.output)")
        let result = try await cluster.kubectl(["get", "deployment", "web", "-n", namespace, "-o", "jsonpath={.spec.replicas} {.metadata.labels.tier}"])
        #expect(result.stdout == "3 front")
    }

    @Test("server-side apply: a conflict between two field managers, resolved with --force-conflicts")
    func serverSideApply() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("kubectl-ssa")
        try await install(cluster, namespace: namespace)
        let manifest = { (steps: String) in
            """
            apiVersion: ml.sextant.dev/v1alpha1
            kind: InferenceService
            metadata: {name: ssa-demo}
            spec:
              modelName: flower-classifier
              rollout: {steps: \(steps)}
            """
        }
        let alice = try await cluster.kubectl(["apply", "--server-side", "--field-manager=alice", "-n", namespace, "-f", "-"], stdin: manifest("[10, 100]"))
        #expect(alice.status == 0, "\(alice.output)")
        let bob = try await cluster.kubectl(["apply", "--server-side", "--field-manager=bob", "-n", namespace, "-f", "-"], stdin: manifest("[5, 50, 100]"))
        #expect(bob.status != 0)
        #expect(bob.stderr.contains("conflict with \"alice\""), "\(bob.stderr)")
        #expect(bob.stderr.contains(".spec.rollout.steps"))
        let forced = try await cluster.kubectl(
            ["apply", "--server-side", "--field-manager=bob", "--force-conflicts", "-n", namespace, "-f", "-"], stdin: manifest("[5, 50, 100]"))
        #expect(forced.status == 0, "\(forced.output)")
        let steps = try await cluster.kubectl(["get", "sisvc", "ssa-demo", "-n", namespace, "-o", "jsonpath={.spec.rollout.steps}"])
        #expect(steps.stdout == "[5,50,100]")
    }

    @Test("delete waits for finalizers; kubectl wait sees the deletion")
    func deleteWithFinalizers() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("kubectl-delete")
        let configMap = """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: held, finalizers: [example.com/hold]}
            data: {a: "1"}
            """
        #expect(try await cluster.kubectl(["apply", "-n", namespace, "-f", "-"], stdin: configMap).status == 0)
        let delete = try await cluster.kubectl(["delete", "configmap", "held", "-n", namespace, "--wait=false"])
        #expect(delete.status == 0, "\(delete.output)")
        let marked = try await cluster.kubectl(["get", "configmap", "held", "-n", namespace, "-o", "jsonpath={.metadata.deletionTimestamp}"])
        #expect(!marked.stdout.isEmpty)
        let waiter = try cluster.startKubectl(["wait", "--for=delete", "configmap/held", "-n", namespace, "--timeout=30s"])
        let release = try await cluster.kubectl([
            "patch", "configmap", "held", "-n", namespace, "--type", "json", "-p", #"[{"op":"remove","path":"/metadata/finalizers"}]"#,
        ])
        #expect(release.status == 0, "\(release.output)")
        try await eventually(within: 60, "kubectl wait --for=delete to finish") { !waiter.process.isRunning }
        #expect(waiter.result().status == 0, "\(waiter.result().output)")
        let gone = try await cluster.kubectl(["get", "configmap", "held", "-n", namespace])
        #expect(gone.status != 0)
        #expect(gone.stderr.contains("configmaps \"held\" not found"))
    }

    @Test("kubectl wait --for=condition sees a status condition appear")
    func waitForCondition() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("kubectl-wait")
        try await install(cluster, namespace: namespace)
        let waiter = try cluster.startKubectl(["wait", "--for=condition=Ready", "smv/flower-classifier-v1", "-n", namespace, "--timeout=30s"])
        let path = "/apis/ml.sextant.dev/v1alpha1/namespaces/\(namespace)/modelversions/flower-classifier-v1/status"
        let patch: JSONValue = [
            "status": [
                "conditions": [
                    ["type": "Ready", "status": "True", "reason": "Serving", "message": "ok", "lastTransitionTime": .string(KubeTime.now().description)]
                ]
            ]
        ]
        let patched = try await cluster.http.request("PATCH", path, body: patch, contentType: "application/merge-patch+json")
        #expect(patched.status == 200, "\(patched.text)")
        try await eventually(within: 60, "kubectl wait to finish") { !waiter.process.isRunning }
        let result = waiter.result()
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains("condition met"))
    }

    @Test("kubectl get --watch prints objects as they change")
    func watch() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("kubectl-watch")
        let watcher = try cluster.startKubectl(["get", "configmaps", "-n", namespace, "--watch"])
        defer { watcher.stop() }
        try await eventually("kubectl to open its watch") { await cluster.api.watchCount >= 1 }
        _ = try await cluster.http.request(
            "POST", "/api/v1/namespaces/\(namespace)/configmaps", body: ["metadata": ["name": "appears-live"], "data": ["k": "v"]])
        try await eventually("the new object in kubectl's output") { watcher.stdout.contains("appears-live") }
    }

    @Test("HTTPS with a client certificate or a bearer token; wrong credentials are refused")
    func authentication() async throws {
        let cluster = try await TestCluster.start()
        for credentials in [LocalCluster.Credentials.certificate, .token, .insecure] {
            let result = try await cluster.kubectl(["get", "namespaces"], credentials: credentials)
            #expect(result.status == 0, "\(credentials): \(result.output)")
            #expect(result.stdout.contains("kube-system"))
        }
        let badToken = cluster.cluster.kubeconfig(.token).replacingOccurrences(of: cluster.cluster.adminToken, with: "not-the-token")
        let path = cluster.directory.appendingPathComponent("bad-token").path
        try badToken.write(toFile: path, atomically: true, encoding: .utf8)
        let refused = try await cluster.kubectl(["--kubeconfig", path, "get", "namespaces"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("Unauthorized") || refused.stderr.contains("provide credentials"), "\(refused.stderr)")
    }
}
