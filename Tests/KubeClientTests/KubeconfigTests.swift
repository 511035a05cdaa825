import Foundation
import NIOCore
import Testing

@testable import KubeClient

@Suite("Client configuration: kubeconfig and in-cluster")
struct KubeconfigTests {
    let directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kubeconfig-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    func write(_ name: String, _ text: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("several files merge like kubectl: first definition and first current-context win; relative paths resolve per file")
    func merging() throws {
        _ = try write("ca.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
        _ = try write("token", "secret-token\n")
        let first = try write(
            "first",
            """
            apiVersion: v1
            kind: Config
            current-context: dev
            clusters:
            - name: dev
              cluster: {server: "https://dev.example.com:6443", certificate-authority: ca.pem}
            users:
            - name: dev-user
              user: {tokenFile: token}
            contexts:
            - name: dev
              context: {cluster: dev, user: dev-user, namespace: team-a}
            """)
        let second = try write(
            "second",
            """
            current-context: prod
            clusters:
            - name: dev
              cluster: {server: "https://shadowed.example.com"}
            - name: prod
              cluster: {server: "https://prod.example.com", insecure-skip-tls-verify: true}
            users:
            - name: prod-user
              user: {token: abc}
            contexts:
            - name: prod
              context: {cluster: prod, user: prod-user}
            """)
        let config = try Kubeconfig(paths: [first, "/nonexistent/ignored", second])
        #expect(config.currentContext == "dev")
        #expect(config.clusters["dev"]?.server == "https://dev.example.com:6443")
        let dev = try ClientConfiguration.from(config, context: nil)
        #expect(dev.namespace == "team-a")
        #expect(dev.certificateAuthority.map { String(decoding: $0, as: UTF8.self) }?.contains("BEGIN CERTIFICATE") == true)
        #expect(dev.credentials == .tokenFile(directory.appendingPathComponent("token").path))
        let prod = try ClientConfiguration.from(config, context: "prod")
        #expect(prod.server == "https://prod.example.com")
        #expect(prod.insecureSkipTLSVerify)
        #expect(prod.credentials == .token("abc"))
        #expect(prod.namespace == "default")
    }

    @Test("problems are explained: missing context, dangling cluster, exec plugins, no file")
    func errors() throws {
        let path = try write(
            "bad",
            """
            current-context: missing
            clusters: []
            contexts:
            - name: dangling
              context: {cluster: nowhere, user: nobody}
            users:
            - name: plugin
              user: {exec: {command: aws}}
            """)
        #expect(throws: Kubeconfig.ConfigurationError.self) { try Kubeconfig(paths: [path]) }
        let noPlugin = try write("noplugin", "current-context: missing\ncontexts:\n- name: dangling\n  context: {cluster: nowhere, user: nobody}\n")
        let config = try Kubeconfig(paths: [noPlugin])
        #expect(throws: Kubeconfig.ConfigurationError("context \"missing\" is not in the kubeconfig (have: dangling)")) {
            try ClientConfiguration.from(config, context: nil)
        }
        #expect(throws: Kubeconfig.ConfigurationError("context \"dangling\" names cluster \"nowhere\", which the kubeconfig does not define")) {
            try ClientConfiguration.from(config, context: "dangling")
        }
        #expect(throws: Kubeconfig.ConfigurationError.self) { try Kubeconfig(paths: ["/nonexistent/config"]) }
    }

    @Test("in-cluster: service host and port, token file, CA and namespace from the service-account directory")
    func inCluster() throws {
        _ = try write("token", "pod-token")
        _ = try write("ca.crt", "CA")
        _ = try write("namespace", "sextant-system\n")
        let configuration = try ClientConfiguration.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"], directory: directory.path)
        #expect(configuration.server == "https://10.0.0.1:443")
        #expect(configuration.namespace == "sextant-system")
        #expect(configuration.credentials == .tokenFile(directory.appendingPathComponent("token").path))
        #expect(throws: Kubeconfig.ConfigurationError.self) { try ClientConfiguration.inCluster(environment: [:], directory: directory.path) }
    }

    @Test("retry policy: jittered exponential back-off, Retry-After honoured, creates retried only when safe")
    func retryPolicy() {
        for attempt in 1...8 {
            let delay = KubernetesClient.backoff(attempt: attempt, retryAfter: nil)
            let ceiling = min(100.0 * pow(2.0, Double(attempt - 1)), 10_000)
            #expect(delay >= .milliseconds(Int(ceiling / 2)) && delay <= .milliseconds(Int(ceiling)))
        }
        #expect(KubernetesClient.backoff(attempt: 1, retryAfter: 7) == .seconds(7))
        let throttled = KubernetesError.tooManyRequests(.init(code: 429, body: [:]), retryAfterSeconds: 1)
        let failed = KubernetesError.server(.init(code: 500, body: [:]))
        #expect(KubernetesClient.mayRetry(.POST, throttled))
        #expect(!KubernetesClient.mayRetry(.POST, failed))
        #expect(KubernetesClient.mayRetry(.GET, failed))
        #expect(failed.isRetryable && throttled.isRetryable)
        #expect(!KubernetesError.conflict(.init(code: 409, body: [:])).isRetryable)
    }

    @Test("watch lines split across chunks, even inside a multi-byte character, are reassembled")
    func lineSplitting() {
        var splitter = LineSplitter()
        let text = Array(#"{"a":"é"}"#.utf8) + [10] + Array(#"{"b":1}"#.utf8) + [10]
        var lines: [[UInt8]] = []
        for byte in text { lines += splitter.append(.init(bytes: [byte])) }
        #expect(lines.map { String(decoding: $0, as: UTF8.self) } == [#"{"a":"é"}"#, #"{"b":1}"#])
        #expect(splitter.append(.init(bytes: Array("partial".utf8))).isEmpty)
    }
}
