import Foundation
import KubeCore
import Logging

/// A running API server for tests and local use: the API, an HTTP listener (no
/// authentication, like the old insecure port), an HTTPS listener with a generated CA that
/// accepts a bearer token or a client certificate, bookmarks, and the server's own controllers.
public final class LocalCluster: Sendable {
    /// How a kubeconfig authenticates.
    public enum Credentials: String, Sendable, CaseIterable {
        /// Plain HTTP, no credentials.
        case insecure
        /// HTTPS with the admin bearer token.
        case token
        /// HTTPS with an admin client certificate.
        case certificate
    }

    public let api: APIServer
    public let http: HTTPServer
    public let https: HTTPServer
    public let authority: CertificateAuthority
    /// The bearer token of the `admin` user.
    public let adminToken: String
    private let clientCertificate: CertificateAuthority.KeyPair
    private let bookmarkInterval: Duration
    private let logger: Logger
    /// The local runtime, when this cluster runs workloads as local processes.
    public let runtime: LocalRuntime?

    /// A configuration this cluster cannot run with.
    public struct ConfigurationError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Binds both listeners on 127.0.0.1 (port 0 picks a free port).
    ///
    /// - Parameter serviceClusterIPRange: where Service cluster IPs come from; by default
    ///   `10.96.0.0/12`, or `127.96.0.0/16` with the local runtime, whose service proxy listens on
    ///   the cluster IPs and therefore needs a loopback range.
    ///
    /// With the local runtime, the runtime directory also receives `kubeconfig` (the admin bearer
    /// token over HTTPS), which every pod finds in `$KUBECONFIG`.
    public init(
        httpPort: Int = 0, httpsPort: Int = 0, minorVersion: Int = 33, historyLimit: Int = 100_000,
        bookmarkInterval: Duration = .seconds(60), adminToken: String? = nil, runtime: LocalRuntime.Configuration? = nil,
        serviceClusterIPRange: ServiceCIDR? = nil, logger: Logger = Logger(label: "sextant.apiserver")
    ) async throws {
        let range = serviceClusterIPRange ?? (runtime == nil ? .standard : .loopback)
        if runtime != nil, !range.isLoopback {
            throw ConfigurationError(
                description:
                    "the local runtime listens on Service cluster IPs, so the service cluster IP range must be inside 127.0.0.0/8 (e.g. \(ServiceCIDR.loopback)), not \(range)"
            )
        }
        let api = await APIServer(historyLimit: historyLimit, minorVersion: minorVersion, serviceClusterIPRange: range, logger: logger)
        let authority = try CertificateAuthority()
        let serving = try authority.serverCertificate()
        let token = adminToken ?? UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let clientCertificate = try authority.clientCertificate(user: "admin")
        self.api = api
        self.authority = authority
        self.adminToken = token
        self.clientCertificate = clientCertificate
        self.bookmarkInterval = bookmarkInterval
        self.logger = logger
        let http = try await HTTPServer(api: api, port: httpPort, logger: logger)
        let https = try await HTTPServer(
            api: api, port: httpsPort,
            tls: .init(certificatePEM: serving.certificatePEM, privateKeyPEM: serving.privateKeyPEM, clientCAPEM: authority.root.certificatePEM),
            authentication: .init(tokens: [token: "admin"], required: true), logger: logger)
        self.http = http
        self.https = https
        guard var runtime else {
            self.runtime = nil
            return
        }
        let podKubeconfig = LocalCluster.kubeconfig(
            .token, httpURL: "http://127.0.0.1:\(http.port)", httpsURL: "https://127.0.0.1:\(https.port)", authority: authority, token: token,
            clientCertificate: clientCertificate)
        try FileManager.default.createDirectory(at: runtime.directory, withIntermediateDirectories: true)
        let kubeconfigPath = runtime.directory.appendingPathComponent("kubeconfig").path
        try podKubeconfig.write(toFile: kubeconfigPath, atomically: true, encoding: .utf8)
        // As a kubelet does: the API server's address for in-cluster clients, plus the kubeconfig
        // (no service-account token is mounted, so clients use the file). Container env wins.
        runtime.podEnvironment.merge(["KUBECONFIG": kubeconfigPath, "KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": String(https.port)]) {
            given, _ in given
        }
        self.runtime = LocalRuntime(server: api, configuration: runtime, logger: logger)
    }

    /// Serves until cancelled, then closes every watch.
    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.http.run() }
            group.addTask { try await self.https.run() }
            group.addTask { await GarbageCollector(server: self.api).run() }
            if let runtime = self.runtime {
                group.addTask { await runtime.run() }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: self.bookmarkInterval)
                    await self.api.emitBookmarks()
                }
            }
            // Serve until cancelled; a listener that fails ends everything with its error.
            try await withTaskCancellationHandler {
                do {
                    try await group.waitForAll()
                } catch {
                    group.cancelAll()
                    throw error
                }
            } onCancel: {
                Task { await self.api.shutdown() }
            }
        }
    }

    /// `http://127.0.0.1:<port>`
    public var httpURL: String { "http://127.0.0.1:\(http.port)" }
    /// `https://127.0.0.1:<port>`
    public var httpsURL: String { "https://127.0.0.1:\(https.port)" }

    /// A kubeconfig for this cluster, context `sextant-local`, namespace `default`.
    public func kubeconfig(_ credentials: Credentials = .certificate) -> String {
        LocalCluster.kubeconfig(
            credentials, httpURL: httpURL, httpsURL: httpsURL, authority: authority, token: adminToken, clientCertificate: clientCertificate)
    }

    private static func kubeconfig(
        _ credentials: Credentials, httpURL: String, httpsURL: String, authority: CertificateAuthority, token adminToken: String,
        clientCertificate: CertificateAuthority.KeyPair
    ) -> String {
        var cluster: JSONValue = ["server": .string(credentials == .insecure ? httpURL : httpsURL)]
        var user: JSONValue = [:]
        switch credentials {
        case .insecure: break
        case .token:
            cluster["certificate-authority-data"] = .string(Data(authority.root.certificatePEM.utf8).base64EncodedString())
            user["token"] = .string(adminToken)
        case .certificate:
            cluster["certificate-authority-data"] = .string(Data(authority.root.certificatePEM.utf8).base64EncodedString())
            user["client-certificate-data"] = .string(Data(clientCertificate.certificatePEM.utf8).base64EncodedString())
            user["client-key-data"] = .string(Data(clientCertificate.privateKeyPEM.utf8).base64EncodedString())
        }
        let config: JSONValue = [
            "apiVersion": "v1", "kind": "Config", "current-context": "sextant-local", "preferences": [:],
            "clusters": [["name": "sextant-local", "cluster": cluster]],
            "users": [["name": "sextant-admin", "user": user]],
            "contexts": [["name": "sextant-local", "context": ["cluster": "sextant-local", "user": "sextant-admin", "namespace": "default"]]],
        ]
        return (try? YAML.string(from: config)) ?? ""
    }
}
