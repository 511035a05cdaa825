import Foundation
import KubeCore
import SextantTestSupport
import Testing

@testable import KubeAPIServer

/// The local runtime's service proxy (a Service's cluster IP relays to its ready pods) and the
/// credentials every pod gets for talking to the API server.
@Suite("Local runtime: service proxy and pod credentials", .serialized)
struct ServiceProxyTests {
    /// Fetches `/?via=service` through the Service; throws when the connection fails or closes.
    static func viaService(_ ip: String, _ port: Int) async throws -> TestHTTPClient.Response {
        try await TestHTTPClient(port: port, host: ip).request("GET", "/?via=service")
    }

    @Test("a Service's cluster IP relays to its ready pods round robin; without ready pods connections are closed; deleting it stops the listener")
    func relays() async throws {
        let cluster = try await TestCluster.start(runnableImages: LocalRuntimeTests.images)
        let namespace = try await cluster.namespace("proxy-relay")
        let service: JSONValue = [
            "apiVersion": "v1", "kind": "Service", "metadata": ["name": "web"],
            "spec": ["selector": ["app": "web"], "ports": [["name": "http", "port": 8080]]],
        ]
        let created = try await cluster.http.request("POST", "/api/v1/namespaces/\(namespace)/services", body: service)
        let ip = try #require(created.body["spec"]?["clusterIP"]?.stringValue)
        #expect(ip.hasPrefix("127.96."), "the local runtime's range is 127.96.0.0/16: \(ip)")
        _ = try await cluster.http.request(
            "POST", "/apis/apps/v1/namespaces/\(namespace)/deployments", body: LocalRuntimeTests.deployment("web", image: "example.com/http:1.0", replicas: 2))
        try await eventually(within: 60, "two ready replicas") {
            try await cluster.http.request("GET", "/apis/apps/v1/namespaces/\(namespace)/deployments/web").body["status"]?["readyReplicas"] == 2
        }

        let pods = try await LocalRuntimeTests.pods(cluster, namespace, app: "web").compactMap { $0["metadata"]?["name"]?.stringValue }
        #expect(pods.count == 2)
        func served(_ pod: String) async throws -> Bool {
            let log = try await cluster.http.request("GET", "/api/v1/namespaces/\(namespace)/pods/\(pod)/log")
            return log.text.contains("GET /?via=service")
        }
        // Each request goes to the next ready pod, so a few requests reach both.
        try await eventually(within: 60, "both replicas to serve through the cluster IP") {
            let answer = try? await Self.viaService(ip, 8080)
            guard answer?.status == 200 else { return false }
            let first = try await served(pods[0])
            let second = try await served(pods[1])
            return first && second
        }

        _ = try await cluster.http.request(
            "PATCH", "/apis/apps/v1/namespaces/\(namespace)/deployments/web/scale", body: ["spec": ["replicas": 0]], contentType: "application/merge-patch+json"
        )
        try await eventually(within: 60, "the pods to go") { try await LocalRuntimeTests.pods(cluster, namespace, app: "web").isEmpty }
        try await eventually(within: 60, "connections without ready pods to be closed") {
            (try? await Self.viaService(ip, 8080)) == nil
        }
        let runtime = try #require(cluster.cluster.runtime)
        #expect(runtime.proxy.listening.contains(ServiceProxy.Frontend(ip: ip, port: 8080)), "the Service still listens, and rejects")

        _ = try await cluster.http.request("DELETE", "/api/v1/namespaces/\(namespace)/services/web")
        try await eventually(within: 60, "the listener to close") { !runtime.proxy.listening.contains(ServiceProxy.Frontend(ip: ip, port: 8080)) }
        await cluster.stop()
        #expect(runtime.proxy.listening.isEmpty, "stopping the runtime closes every listener")
    }

    @Test("a port added to a Service gets a listener; a headless Service gets none")
    func followsServiceChanges() async throws {
        let cluster = try await TestCluster.start(runnableImages: LocalRuntimeTests.images)
        let namespace = try await cluster.namespace("proxy-changes")
        let runtime = try #require(cluster.cluster.runtime)
        let path = "/api/v1/namespaces/\(namespace)/services"
        let created = try await cluster.http.request(
            "POST", path,
            body: [
                "apiVersion": "v1", "kind": "Service", "metadata": ["name": "api"],
                "spec": ["selector": ["app": "api"], "ports": [["name": "a", "port": 8081]]],
            ])
        let ip = try #require(created.body["spec"]?["clusterIP"]?.stringValue)
        try await eventually(within: 60, "the first listener") { runtime.proxy.listening.contains(.init(ip: ip, port: 8081)) }
        _ = try await cluster.http.request(
            "PATCH", path + "/api", body: ["spec": ["ports": [["name": "a", "port": 8081], ["name": "b", "port": 8082]]]],
            contentType: "application/merge-patch+json")
        try await eventually(within: 60, "the second listener") { runtime.proxy.listening.contains(.init(ip: ip, port: 8082)) }
        _ = try await cluster.http.request(
            "PATCH", path + "/api", body: ["spec": ["ports": [["name": "b", "port": 8082]]]], contentType: "application/merge-patch+json")
        try await eventually(within: 60, "the removed port's listener to close") { !runtime.proxy.listening.contains(.init(ip: ip, port: 8081)) }
        let headless = try await cluster.http.request(
            "POST", path,
            body: [
                "apiVersion": "v1", "kind": "Service", "metadata": ["name": "peers"],
                "spec": ["clusterIP": "None", "selector": ["app": "api"], "ports": [["port": 8083]]],
            ])
        #expect(headless.status == 201)
        #expect(!runtime.proxy.listening.contains { $0.port == 8083 })
        await cluster.stop()
    }

    @Test("every pod gets a working KUBECONFIG and the API server's address")
    func podCredentials() async throws {
        let cluster = try await TestCluster.start(runnableImages: LocalRuntimeTests.images)
        let namespace = try await cluster.namespace("pod-credentials")
        let script =
            #"kubectl --request-timeout=20s get namespace "$POD_NAMESPACE" -o name > "$SEXTANT_TERMINATION_LOG" && echo "$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT $KUBECONFIG" >> "$SEXTANT_TERMINATION_LOG""#
        let job: JSONValue = [
            "apiVersion": "batch/v1", "kind": "Job", "metadata": ["name": "client"],
            "spec": [
                "backoffLimit": 0,
                "template": [
                    "spec": [
                        "restartPolicy": "Never",
                        "containers": [["name": "client", "image": "bitnami/kubectl:1.33", "command": ["/bin/sh", "-c", .string(script)]]],
                    ]
                ],
            ],
        ]
        #expect(try await cluster.http.request("POST", "/apis/batch/v1/namespaces/\(namespace)/jobs", body: job).status == 201)
        try await eventually(within: 60, "the Job to finish") {
            let conditions =
                try await cluster.http.request("GET", "/apis/batch/v1/namespaces/\(namespace)/jobs/client").body["status"]?["conditions"]?.arrayValue ?? []
            return conditions.contains { ($0["type"] == "Complete" || $0["type"] == "Failed") && $0["status"] == "True" }
        }
        let pod = try await cluster.http.request("GET", "/api/v1/namespaces/\(namespace)/pods?labelSelector=job-name%3Dclient").body["items"]?.arrayValue?.first
        let terminated = pod?["status"]?["containerStatuses"]?.arrayValue?.first?["state"]?["terminated"]
        let message = terminated?["message"]?.stringValue ?? ""
        #expect(terminated?["exitCode"] == 0, "\(message)")
        let lines = message.split(separator: "\n").map(String.init)
        #expect(lines.first == "namespace/\(namespace)", "\(message)")
        let parts = (lines.count > 1 ? lines[1] : "").split(separator: " ").map(String.init)
        #expect(parts.first == "127.0.0.1:\(cluster.cluster.https.port)", "\(message)")
        let kubeconfig = try String(contentsOfFile: parts.count > 1 ? parts[1] : "/nonexistent", encoding: .utf8)
        #expect(
            kubeconfig.contains("server: https://127.0.0.1:\(cluster.cluster.https.port)") && kubeconfig.contains("token: \(cluster.cluster.adminToken)"),
            "\(kubeconfig)")
        await cluster.stop()
    }
}
