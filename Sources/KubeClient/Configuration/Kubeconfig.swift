import Foundation
import KubeCore

/// A kubeconfig file (or several merged, as `KUBECONFIG=a:b` does): clusters, users, contexts.
///
/// Merging follows kubectl: files are read in order, the first file to define a cluster, user
/// or context by name wins, and the first `current-context` set wins. Relative certificate and
/// token paths are resolved against the directory of the file that names them.
public struct Kubeconfig: Sendable, Equatable {
    /// A cluster entry.
    public struct Cluster: Sendable, Equatable {
        public var server: String
        public var certificateAuthorityData: Data?
        public var insecureSkipTLSVerify: Bool
        public var tlsServerName: String?
    }

    /// A user (credentials) entry.
    public struct User: Sendable, Equatable {
        public var token: String?
        public var tokenFile: String?
        public var clientCertificateData: Data?
        public var clientKeyData: Data?
        public var username: String?
        public var password: String?
    }

    /// A context: which cluster, which user, which namespace.
    public struct Context: Sendable, Equatable {
        public var cluster: String
        public var user: String
        public var namespace: String?
    }

    public var clusters: [String: Cluster] = [:]
    public var users: [String: User] = [:]
    public var contexts: [String: Context] = [:]
    public var currentContext: String?

    /// Why a kubeconfig cannot be used.
    public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    public init() {}

    /// Reads and merges files in order.
    public init(paths: [String]) throws {
        self.init()
        var readAny = false
        for path in paths where !path.isEmpty {
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ConfigurationError("cannot read kubeconfig \(path): \(error.localizedDescription)")
            }
            try merge(text, directory: URL(fileURLWithPath: path).deletingLastPathComponent().path, source: path)
            readAny = true
        }
        guard readAny else {
            throw ConfigurationError("no kubeconfig found in \(paths.joined(separator: ", ")); set KUBECONFIG or --kubeconfig")
        }
    }

    /// Parses one kubeconfig document.
    public init(yaml text: String, directory: String = FileManager.default.currentDirectoryPath) throws {
        self.init()
        try merge(text, directory: directory, source: "kubeconfig")
    }

    private mutating func merge(_ text: String, directory: String, source: String) throws {
        let document: JSONValue
        do {
            document = try YAML.documents(from: text).first ?? [:]
        } catch {
            throw ConfigurationError("\(source) is not valid YAML: \(error)")
        }
        for entry in document["clusters"]?.arrayValue ?? [] {
            guard let name = entry["name"]?.stringValue, clusters[name] == nil else { continue }
            let cluster = entry["cluster"] ?? [:]
            guard let server = cluster["server"]?.stringValue else { throw ConfigurationError("\(source): cluster \(name) has no server") }
            var authority = try Kubeconfig.base64(cluster["certificate-authority-data"], "certificate-authority-data of cluster \(name)")
            if authority == nil, let path = cluster["certificate-authority"]?.stringValue {
                authority = try Kubeconfig.read(path, relativeTo: directory, what: "certificate-authority of cluster \(name)")
            }
            clusters[name] = Cluster(
                server: server, certificateAuthorityData: authority,
                insecureSkipTLSVerify: cluster["insecure-skip-tls-verify"]?.boolValue ?? false,
                tlsServerName: cluster["tls-server-name"]?.stringValue)
        }
        for entry in document["users"]?.arrayValue ?? [] {
            guard let name = entry["name"]?.stringValue, users[name] == nil else { continue }
            let user = entry["user"] ?? [:]
            var certificate = try Kubeconfig.base64(user["client-certificate-data"], "client-certificate-data of user \(name)")
            if certificate == nil, let path = user["client-certificate"]?.stringValue {
                certificate = try Kubeconfig.read(path, relativeTo: directory, what: "client-certificate of user \(name)")
            }
            var key = try Kubeconfig.base64(user["client-key-data"], "client-key-data of user \(name)")
            if key == nil, let path = user["client-key"]?.stringValue {
                key = try Kubeconfig.read(path, relativeTo: directory, what: "client-key of user \(name)")
            }
            if user["exec"] != nil || user["auth-provider"] != nil {
                throw ConfigurationError(
                    "user \(name) uses an exec or auth-provider plugin, which this client does not run; use a token or a client certificate")
            }
            users[name] = User(
                token: user["token"]?.stringValue,
                tokenFile: user["tokenFile"]?.stringValue.map { Kubeconfig.resolve($0, relativeTo: directory) },
                clientCertificateData: certificate, clientKeyData: key,
                username: user["username"]?.stringValue, password: user["password"]?.stringValue)
        }
        for entry in document["contexts"]?.arrayValue ?? [] {
            guard let name = entry["name"]?.stringValue, contexts[name] == nil else { continue }
            let context = entry["context"] ?? [:]
            contexts[name] = Context(
                cluster: context["cluster"]?.stringValue ?? "", user: context["user"]?.stringValue ?? "",
                namespace: context["namespace"]?.stringValue)
        }
        if currentContext == nil, let current = document["current-context"]?.stringValue, !current.isEmpty {
            currentContext = current
        }
    }

    private static func base64(_ value: JSONValue?, _ what: String) throws -> Data? {
        guard let text = value?.stringValue else { return nil }
        guard let data = Data(base64Encoded: text.filter { !$0.isWhitespace }) else {
            throw ConfigurationError("\(what) is not valid base64")
        }
        return data
    }

    private static func read(_ path: String, relativeTo directory: String, what: String) throws -> Data {
        let resolved = resolve(path, relativeTo: directory)
        guard let data = FileManager.default.contents(atPath: resolved) else {
            throw ConfigurationError("cannot read \(what) at \(resolved)")
        }
        return data
    }

    static func resolve(_ path: String, relativeTo directory: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: directory).appendingPathComponent(path).path
    }
}
