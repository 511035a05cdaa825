import Foundation
import KubeCore

/// Everything needed to talk to one API server: where, how to trust it, who we are, and the
/// default namespace. Built from a kubeconfig, from the in-cluster service account, or by hand.
public struct ClientConfiguration: Sendable {
    /// How requests authenticate, besides a client certificate.
    public enum Credentials: Sendable, Equatable {
        case none
        /// A fixed bearer token.
        case token(String)
        /// A bearer token read from a file and re-read periodically (service-account tokens rotate).
        case tokenFile(String)
        /// HTTP basic authentication.
        case basic(username: String, password: String)
    }

    /// `https://host:port` (or `http://` for the project's local API server).
    public var server: String
    /// PEM CA bundle to trust instead of the system's.
    public var certificateAuthority: Data?
    /// Skip server certificate verification (kubeconfig `insecure-skip-tls-verify`).
    public var insecureSkipTLSVerify = false
    /// Name to verify the server certificate against, when it differs from the host.
    public var tlsServerName: String?
    /// PEM client certificate and key.
    public var clientCertificate: Data?
    public var clientKey: Data?
    public var credentials: Credentials = .none
    /// The namespace of the context (or the service account's), `default` otherwise.
    public var namespace = "default"
    /// Time allowed for one request (not for watches, which run until their own timeout).
    public var requestTimeout: Duration = .seconds(30)
    /// Attempts for retryable failures (429, 5xx, connection errors) of idempotent requests.
    public var maxAttempts = 5
    /// The User-Agent sent, also the default field manager.
    public var userAgent = "sextant/0.1"

    public init(server: String) {
        self.server = server
    }

    // MARK: kubeconfig

    /// The kubeconfig files to read: `KUBECONFIG` (colon-separated), else `~/.kube/config`.
    public static func defaultKubeconfigPaths(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            return list.split(separator: ":").map(String.init)
        }
        let home = environment["HOME"] ?? FileManager.default.homeDirectoryForCurrentUser.path
        return ["\(home)/.kube/config"]
    }

    /// Builds the configuration of a kubeconfig context (the current one when `context` is nil).
    public static func kubeconfig(paths: [String]? = nil, context: String? = nil) throws -> ClientConfiguration {
        try from(Kubeconfig(paths: paths ?? defaultKubeconfigPaths()), context: context)
    }

    /// Builds the configuration of a context of a parsed kubeconfig.
    public static func from(_ config: Kubeconfig, context requested: String?) throws -> ClientConfiguration {
        guard let name = requested ?? config.currentContext else {
            throw Kubeconfig.ConfigurationError("the kubeconfig has no current-context; pass --context")
        }
        guard let context = config.contexts[name] else {
            throw Kubeconfig.ConfigurationError("context \"\(name)\" is not in the kubeconfig (have: \(config.contexts.keys.sorted().joined(separator: ", ")))")
        }
        guard let cluster = config.clusters[context.cluster] else {
            throw Kubeconfig.ConfigurationError("context \"\(name)\" names cluster \"\(context.cluster)\", which the kubeconfig does not define")
        }
        var configuration = ClientConfiguration(server: cluster.server)
        configuration.certificateAuthority = cluster.certificateAuthorityData
        configuration.insecureSkipTLSVerify = cluster.insecureSkipTLSVerify
        configuration.tlsServerName = cluster.tlsServerName
        if let user = config.users[context.user] {
            configuration.clientCertificate = user.clientCertificateData
            configuration.clientKey = user.clientKeyData
            if let token = user.token {
                configuration.credentials = .token(token)
            } else if let file = user.tokenFile {
                configuration.credentials = .tokenFile(file)
            } else if let username = user.username, let password = user.password {
                configuration.credentials = .basic(username: username, password: password)
            }
            if (user.clientCertificateData == nil) != (user.clientKeyData == nil) {
                throw Kubeconfig.ConfigurationError("user \"\(context.user)\" has a client certificate without a key, or a key without a certificate")
            }
        } else if !context.user.isEmpty {
            throw Kubeconfig.ConfigurationError("context \"\(name)\" names user \"\(context.user)\", which the kubeconfig does not define")
        }
        configuration.namespace = context.namespace ?? "default"
        return configuration
    }

    // MARK: In cluster

    /// The service-account directory mounted into pods.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The configuration of a pod's service account: `KUBERNETES_SERVICE_HOST`/`_PORT`, the
    /// token file (re-read as it rotates), the cluster CA and the pod's namespace.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment, directory: String = serviceAccountDirectory
    ) throws -> ClientConfiguration {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], let port = environment["KUBERNETES_SERVICE_PORT"] else {
            throw Kubeconfig.ConfigurationError("not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set")
        }
        let tokenPath = "\(directory)/token"
        guard FileManager.default.isReadableFile(atPath: tokenPath) else {
            throw Kubeconfig.ConfigurationError("no service-account token at \(tokenPath)")
        }
        let formattedHost = host.contains(":") ? "[\(host)]" : host
        var configuration = ClientConfiguration(server: "https://\(formattedHost):\(port)")
        configuration.credentials = .tokenFile(tokenPath)
        configuration.certificateAuthority = FileManager.default.contents(atPath: "\(directory)/ca.crt")
        if let namespace = FileManager.default.contents(atPath: "\(directory)/namespace") {
            configuration.namespace = String(decoding: namespace, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return configuration
    }

    /// In-cluster when running in a pod, the kubeconfig otherwise (what controllers do).
    public static func infer(context: String? = nil, kubeconfigPaths: [String]? = nil) throws -> ClientConfiguration {
        if kubeconfigPaths == nil, context == nil, let configuration = try? inCluster() { return configuration }
        return try kubeconfig(paths: kubeconfigPaths, context: context)
    }
}

/// Reads a bearer token file, caching it for a minute so rotated tokens are picked up.
actor TokenFileSource {
    private let path: String
    private var cached: (token: String, read: ContinuousClock.Instant)?
    private let lifetime: Duration

    init(path: String, lifetime: Duration = .seconds(60)) {
        self.path = path
        self.lifetime = lifetime
    }

    func token() throws -> String {
        if let cached, ContinuousClock.now - cached.read < lifetime { return cached.token }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KubernetesError.configuration("cannot read the token file \(path)")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        cached = (token, ContinuousClock.now)
        return token
    }

    /// Forgets the cached token (after a 401, the file may have rotated).
    func invalidate() { cached = nil }
}
