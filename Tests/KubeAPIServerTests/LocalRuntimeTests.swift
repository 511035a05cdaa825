import Foundation
import KubeCore
import SextantTestSupport
import Testing

@testable import KubeAPIServer

/// The local runtime with real processes: python's http.server stands in for a served image,
/// /bin/sh for crashing containers and training Jobs.
@Suite("Local runtime: Deployments, Services and Jobs as local processes", .serialized)
struct LocalRuntimeTests {
    static let images = [
        LocalRuntime.RunnableImage(image: "example.com/http", command: ["python3", "-m", "http.server", "--bind", "127.0.0.1", "{port}"]),
        LocalRuntime.RunnableImage(image: "example.com/crasher", command: ["/bin/sh", "-c", "echo starting; exit 3"]),
    ]

    static func deployment(_ name: String, image: String, replicas: Int64) -> JSONValue {
        [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": .string(name)],
            "spec": [
                "replicas": .integer(replicas), "selector": ["matchLabels": ["app": .string(name)]],
                "template": [
                    "metadata": ["labels": ["app": .string(name)]],
                    "spec": ["containers": [["name": "main", "image": .string(image), "readinessProbe": ["httpGet": ["path": "/", "port": 8080]]]]],
                ],
            ],
        ]
    }

    static func pods(_ cluster: TestCluster, _ namespace: String, app: String) async throws -> [JSONValue] {
        try await cluster.http.request("GET", "/api/v1/namespaces/\(namespace)/pods?labelSelector=app%3D\(app)").body["items"]?.arrayValue ?? []
    }

    @Test("a Deployment's replicas become ready local processes behind EndpointSlices; scaling and deletion stop them")
    func deploymentLifecycle() async throws {
        let cluster = try await TestCluster.start(runnableImages: Self.images)
        let namespace = try await cluster.namespace("runtime-deploy")
        _ = try await cluster.http.request(
            "POST", "/api/v1/namespaces/\(namespace)/services",
            body: [
                "apiVersion": "v1", "kind": "Service", "metadata": ["name": "web"],
                "spec": ["selector": ["app": "web"], "ports": [["name": "http", "port": 80]]],
            ])
        let created = try await cluster.http.request(
            "POST", "/apis/apps/v1/namespaces/\(namespace)/deployments", body: Self.deployment("web", image: "example.com/http:1.0", replicas: 2))
        #expect(created.status == 201)
        try await eventually(within: 60, "two ready replicas") {
            let status = try await cluster.http.request("GET", "/apis/apps/v1/namespaces/\(namespace)/deployments/web").body["status"]
            return status?["readyReplicas"] == 2 && status?["availableReplicas"] == 2
        }
        let slices = try await cluster.http.request(
            "GET", "/apis/discovery.k8s.io/v1/namespaces/\(namespace)/endpointslices?labelSelector=kubernetes.io/service-name%3Dweb")
        let ports = slices.body["items"]?.arrayValue?.compactMap { $0["ports"]?.arrayValue?.first?["port"]?.integerValue } ?? []
        #expect(ports.count == 2)
        for port in ports {
            let answer = try await TestHTTPClient(port: Int(port)).request("GET", "/")
            #expect(answer.status == 200, "the replica on port \(port) serves")
        }
        let rollout = try await cluster.kubectl(["rollout", "status", "deployment/web", "-n", namespace, "--timeout=30s"])
        #expect(rollout.status == 0, "\(rollout.output)")

        _ = try await cluster.http.request(
            "PATCH", "/apis/apps/v1/namespaces/\(namespace)/deployments/web/scale", body: ["spec": ["replicas": 1]], contentType: "application/merge-patch+json"
        )
        try await eventually(within: 60, "one replica left") { try await Self.pods(cluster, namespace, app: "web").count == 1 }
        try await eventually(within: 60, "one endpoint slice left") {
            try await cluster.http.request("GET", "/apis/discovery.k8s.io/v1/namespaces/\(namespace)/endpointslices").body["items"]?.arrayValue?.count == 1
        }
        let remaining = try await cluster.http.request("GET", "/apis/discovery.k8s.io/v1/namespaces/\(namespace)/endpointslices").body["items"]?.arrayValue?
            .first?["ports"]?.arrayValue?.first?["port"]?.integerValue
        let stopped = ports.filter { $0 != remaining }
        try await eventually(within: 60, "the scaled-down replica's process to stop") {
            await (try? TestHTTPClient(port: Int(stopped[0])).request("GET", "/")) == nil
        }

        _ = try await cluster.http.request("DELETE", "/apis/apps/v1/namespaces/\(namespace)/deployments/web")
        try await eventually(within: 60, "the pods to be collected") { try await Self.pods(cluster, namespace, app: "web").isEmpty }
        try await eventually(within: 60, "the last process to stop") {
            await (try? TestHTTPClient(port: Int(remaining ?? 0)).request("GET", "/")) == nil
        }
        await cluster.stop()
    }

    @Test("a crashing container restarts with back-off and the Deployment is not available")
    func crashLoop() async throws {
        let cluster = try await TestCluster.start(runnableImages: Self.images)
        let namespace = try await cluster.namespace("runtime-crash")
        _ = try await cluster.http.request(
            "POST", "/apis/apps/v1/namespaces/\(namespace)/deployments", body: Self.deployment("broken", image: "example.com/crasher:1", replicas: 1))
        try await eventually(within: 60, "two restarts") {
            let pod = try await Self.pods(cluster, namespace, app: "broken").first
            return (pod?["status"]?["containerStatuses"]?.arrayValue?.first?["restartCount"]?.integerValue ?? 0) >= 2
        }
        let pod = try #require(try await Self.pods(cluster, namespace, app: "broken").first)
        let container = pod["status"]?["containerStatuses"]?.arrayValue?.first
        #expect(container?["lastState"]?["terminated"]?["exitCode"] == 3)
        #expect(container?["ready"] == false)
        let deployment = try await cluster.http.request("GET", "/apis/apps/v1/namespaces/\(namespace)/deployments/broken").body
        #expect(deployment["status"]?["availableReplicas"] == 0)
        let available = deployment["status"]?["conditions"]?.arrayValue?.first { $0["type"] == "Available" }
        #expect(available?["status"] == "False")
        let logs = try await cluster.kubectl(["logs", pod["metadata"]?["name"]?.stringValue ?? "", "-n", namespace])
        #expect(logs.stdout.contains("starting"), "\(logs.output)")
        await cluster.stop()
    }

    @Test("an image that cannot run here is reported, never faked as running")
    func notRunnable() async throws {
        let cluster = try await TestCluster.start(runnableImages: Self.images)
        let namespace = try await cluster.namespace("runtime-unrunnable")
        _ = try await cluster.http.request(
            "POST", "/apis/apps/v1/namespaces/\(namespace)/deployments", body: Self.deployment("nginx", image: "nginx:1.27", replicas: 1))
        try await eventually(within: 60, "the pod to report its image") {
            try await Self.pods(cluster, namespace, app: "nginx").first?["status"]?["containerStatuses"]?.arrayValue?.first?["state"]?["waiting"]?["reason"]
                == "ImageNotRunnable"
        }
        let pod = try #require(try await Self.pods(cluster, namespace, app: "nginx").first)
        #expect(pod["status"]?["phase"] == "Pending")
        #expect(pod["status"]?["message"]?.stringValue?.contains("image nginx:1.27 cannot run on this machine") == true)
        await cluster.stop()
    }

    @Test("a Job runs its command, completes, and keeps the termination message; a failing one stops at its backoff limit")
    func jobs() async throws {
        let cluster = try await TestCluster.start(runnableImages: Self.images)
        let namespace = try await cluster.namespace("runtime-jobs")
        func job(_ name: String, script: String, backoffLimit: Int64) -> JSONValue {
            [
                "apiVersion": "batch/v1", "kind": "Job", "metadata": ["name": .string(name)],
                "spec": [
                    "backoffLimit": .integer(backoffLimit),
                    "template": [
                        "spec": [
                            "restartPolicy": "Never",
                            "containers": [["name": "train", "image": "python:3.11", "command": ["/bin/sh", "-c", .string(script)]]],
                        ]
                    ],
                ],
            ]
        }
        let success = try await cluster.http.request(
            "POST", "/apis/batch/v1/namespaces/\(namespace)/jobs",
            body: job("train", script: #"echo training; printf '{"accuracy":0.93}' > "$SEXTANT_TERMINATION_LOG""#, backoffLimit: 0))
        #expect(success.status == 201, "\(success.text)")
        _ = try await cluster.http.request(
            "POST", "/apis/batch/v1/namespaces/\(namespace)/jobs", body: job("fail", script: "echo boom >&2; exit 7", backoffLimit: 1))
        try await eventually(within: 60, "the training Job to complete") {
            let conditions =
                try await cluster.http.request("GET", "/apis/batch/v1/namespaces/\(namespace)/jobs/train").body["status"]?["conditions"]?.arrayValue ?? []
            return conditions.contains { $0["type"] == "Complete" && $0["status"] == "True" }
        }
        let trainPods =
            try await cluster.http.request("GET", "/api/v1/namespaces/\(namespace)/pods?labelSelector=job-name%3Dtrain").body["items"]?.arrayValue ?? []
        #expect(trainPods.count == 1)
        let terminated = trainPods.first?["status"]?["containerStatuses"]?.arrayValue?.first?["state"]?["terminated"]
        #expect(terminated?["exitCode"] == 0)
        #expect(terminated?["message"] == #"{"accuracy":0.93}"#)
        let wait = try await cluster.kubectl(["wait", "--for=condition=Complete", "job/train", "-n", namespace, "--timeout=10s"])
        #expect(wait.status == 0, "\(wait.output)")

        try await eventually(within: 60, "the failing Job to give up") {
            let conditions =
                try await cluster.http.request("GET", "/apis/batch/v1/namespaces/\(namespace)/jobs/fail").body["status"]?["conditions"]?.arrayValue ?? []
            return conditions.contains { $0["type"] == "Failed" && $0["reason"] == "BackoffLimitExceeded" }
        }
        let failStatus = try await cluster.http.request("GET", "/apis/batch/v1/namespaces/\(namespace)/jobs/fail").body["status"]
        #expect(failStatus?["failed"] == 2, "one try and one retry")
        await cluster.stop()
    }
}

/// The Sextant server image as a local process: what the operator's InferenceServices become.
@Suite("Local runtime runs sextant-server", .serialized)
struct LocalRuntimeServerTests {
    /// The built `sextant-server`, next to the test bundle or in .build.
    static func serverExecutable() throws -> String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [
            bundle.appendingPathComponent("sextant-server"), bundle.deletingLastPathComponent().appendingPathComponent("sextant-server"),
            Repository.url(".build/debug/sextant-server"),
        ]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw TestError("sextant-server is not built (looked in \(candidates.map(\.path))); run swift build")
        }
        return found.path
    }

    @Test("a Deployment of the server image serves real predictions through its EndpointSlice")
    func servesPredictions() async throws {
        let image = LocalRuntime.RunnableImage(
            image: "ghcr.io/sextant-ml/sextant-server", command: [try Self.serverExecutable(), "serve", "--port", "{port}", "--log-format", "text"])
        let cluster = try await TestCluster.start(runnableImages: [image])
        let namespace = try await cluster.namespace("runtime-server")
        let model = Repository.url("Tests/Fixtures/onnx/tiny_classifier.onnx")
        let digest = "sha256:dec40b88385efcc3df28e57044e13fbe8b7d625fb7f3aec3557439338cab988f"
        _ = try await cluster.http.request(
            "POST", "/api/v1/namespaces/\(namespace)/services",
            body: [
                "apiVersion": "v1", "kind": "Service", "metadata": ["name": "tiny"],
                "spec": ["selector": ["app": "tiny"], "ports": [["name": "http", "port": 80]]],
            ])
        let deployment: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "tiny"],
            "spec": [
                "replicas": 1, "selector": ["matchLabels": ["app": "tiny"]],
                "template": [
                    "metadata": ["labels": ["app": "tiny"]],
                    "spec": [
                        "containers": [
                            [
                                "name": "server", "image": "ghcr.io/sextant-ml/sextant-server:0.1.0",
                                "args": ["--model-uri", .string("file://\(model.path)"), "--model-name", "tiny", "--digest", .string(digest)],
                                "readinessProbe": ["httpGet": ["path": "/v2/health/ready", "port": 8080]],
                            ]
                        ]
                    ],
                ],
            ],
        ]
        #expect(try await cluster.http.request("POST", "/apis/apps/v1/namespaces/\(namespace)/deployments", body: deployment).status == 201)
        try await eventually(within: 60, "the server replica to be ready") {
            try await cluster.http.request("GET", "/apis/apps/v1/namespaces/\(namespace)/deployments/tiny").body["status"]?["readyReplicas"] == 1
        }
        var port: Int64?
        try await eventually(within: 60, "the EndpointSlice") {
            port = try await cluster.http.request("GET", "/apis/discovery.k8s.io/v1/namespaces/\(namespace)/endpointslices").body["items"]?.arrayValue?.first?[
                "ports"]?.arrayValue?.first?["port"]?.integerValue
            return port != nil
        }
        let request: JSONValue = ["inputs": [["name": "input", "datatype": "FP32", "shape": [1, 4], "data": [5.1, 3.5, 1.4, 0.2]]]]
        let answer = try await TestHTTPClient(port: Int(port ?? 0)).request("POST", "/v2/models/tiny/infer", body: request)
        #expect(answer.status == 200, "\(answer.text)")
        let outputs = answer.body["outputs"]?.arrayValue ?? []
        #expect(outputs.contains { $0["name"] == "label" }, "\(answer.text)")
        await cluster.stop()
    }
}
