import AsyncHTTPClient
import Foundation
import NIOCore

/// Where a model's bytes come from, parsed from `--model-uri`.
public enum ModelSource: Sendable, Equatable {
    /// A local file.
    case file(path: String)
    /// An `http://` or `https://` URL, fetched with GET.
    case http(url: String)
    /// An S3 object, fetched with a SigV4-signed GET.
    case s3(bucket: String, key: String)
    /// A file on a mounted persistent volume claim: `pvc://claim/path`.
    case pvc(claim: String, path: String)

    /// Parses a model URI.
    public init(uri: String) throws {
        guard let schemeEnd = uri.range(of: "://") else {
            throw ModelLoadError.badURI(uri, "expected scheme://...")
        }
        let scheme = uri[..<schemeEnd.lowerBound].lowercased()
        let rest = String(uri[schemeEnd.upperBound...])
        switch scheme {
        case "file":
            guard rest.hasPrefix("/") else { throw ModelLoadError.badURI(uri, "file:// URIs need an absolute path") }
            self = .file(path: rest.removingPercentEncoding ?? rest)
        case "http", "https":
            self = .http(url: uri)
        case "s3", "pvc":
            let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ModelLoadError.badURI(uri, "expected \(scheme)://\(scheme == "s3" ? "bucket/key" : "claim/path")")
            }
            self = scheme == "s3" ? .s3(bucket: String(parts[0]), key: String(parts[1])) : .pvc(claim: String(parts[0]), path: String(parts[1]))
        default:
            throw ModelLoadError.badURI(uri, "unsupported scheme '\(scheme)' (file, http, https, s3, pvc)")
        }
    }
}

/// Why a model could not be loaded; the message is shown in readiness responses.
public enum ModelLoadError: Error, CustomStringConvertible, Sendable {
    case badURI(String, String)
    case fetchFailed(String)
    case digestMismatch(expected: String, actual: String)
    case badDigest(String)
    case invalidModel(String)

    public var description: String {
        switch self {
        case .badURI(let uri, let why): return "invalid model URI '\(uri)': \(why)"
        case .fetchFailed(let why): return "cannot fetch model: \(why)"
        case .digestMismatch(let expected, let actual): return "digest mismatch: expected \(expected), got sha256:\(actual)"
        case .badDigest(let digest): return "invalid --digest '\(digest)': expected sha256:<64 hex digits>"
        case .invalidModel(let why): return "cannot load model: \(why)"
        }
    }
}

/// Settings for fetching models: PVC root, S3 endpoint/region/credentials, size limit.
public struct ModelFetchSettings: Sendable {
    /// Directory where `pvc://claim/...` claims are mounted (`<root>/<claim>/<path>`).
    public var pvcRoot: String
    /// S3 endpoint (`AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`); nil means AWS virtual-hosted style.
    public var s3Endpoint: String?
    /// S3 region (`AWS_REGION` / `AWS_DEFAULT_REGION`, default `us-east-1`).
    public var region: String
    /// Credentials for S3; nil sends unsigned requests.
    public var credentials: AWSCredentials?
    /// Largest model accepted over the network.
    public var maxModelBytes: Int

    /// Creates settings.
    public init(
        pvcRoot: String = "/mnt/pvc", s3Endpoint: String? = nil, region: String = "us-east-1",
        credentials: AWSCredentials? = nil, maxModelBytes: Int = 1 << 30
    ) {
        self.pvcRoot = pvcRoot
        self.s3Endpoint = s3Endpoint
        self.region = region
        self.credentials = credentials
        self.maxModelBytes = maxModelBytes
    }

    /// Settings from the environment (`SEXTANT_PVC_ROOT`, `AWS_*`).
    public static func fromEnvironment(pvcRoot: String? = nil, _ env: [String: String] = ProcessInfo.processInfo.environment) -> ModelFetchSettings {
        ModelFetchSettings(
            pvcRoot: pvcRoot ?? env["SEXTANT_PVC_ROOT"] ?? "/mnt/pvc",
            s3Endpoint: env["AWS_ENDPOINT_URL_S3"] ?? env["AWS_ENDPOINT_URL"],
            region: env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? "us-east-1",
            credentials: AWSCredentials.fromEnvironment(env))
    }
}

/// Fetches model bytes from a ``ModelSource`` and verifies their digest.
public struct ModelFetcher: Sendable {
    /// The fetch settings.
    public var settings: ModelFetchSettings

    /// Creates a fetcher.
    public init(settings: ModelFetchSettings) { self.settings = settings }

    /// Fetches the bytes; when `digest` is given (`sha256:<hex>`), verifies them.
    public func fetch(_ source: ModelSource, digest: String? = nil) async throws -> Data {
        let data: Data
        switch source {
        case .file(let path):
            data = try readFile(path)
        case .pvc(let claim, let path):
            data = try readFile((settings.pvcRoot as NSString).appendingPathComponent("\(claim)/\(path)"))
        case .http(let url):
            data = try await get(url: url, headers: [:])
        case .s3(let bucket, let key):
            let url = s3URL(bucket: bucket, key: key)
            var headers: [String: String] = [:]
            if let credentials = settings.credentials, let parsed = URL(string: url) {
                let signer = SigV4Signer(credentials: credentials, region: settings.region)
                headers = signer.sign(method: "GET", url: parsed, payloadSHA256: SigV4Signer.hexSHA256(Data()))
            }
            data = try await get(url: url, headers: headers)
        }
        if let digest { try Self.verify(data, digest: digest) }
        return data
    }

    /// The URL of an S3 object: path-style on a configured endpoint, virtual-hosted on AWS.
    func s3URL(bucket: String, key: String) -> String {
        let encodedKey = SigV4Signer.uriEncode(key, keepSlash: true)
        if let endpoint = settings.s3Endpoint {
            let base = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
            return "\(base)/\(SigV4Signer.uriEncode(bucket, keepSlash: false))/\(encodedKey)"
        }
        return "https://\(bucket).s3.\(settings.region).amazonaws.com/\(encodedKey)"
    }

    /// Checks `data` against `sha256:<hex>`.
    public static func verify(_ data: Data, digest: String) throws {
        let lower = digest.lowercased()
        guard lower.hasPrefix("sha256:") else { throw ModelLoadError.badDigest(digest) }
        let expected = String(lower.dropFirst(7))
        guard expected.count == 64, expected.allSatisfy(\.isHexDigit) else { throw ModelLoadError.badDigest(digest) }
        let actual = SigV4Signer.hexSHA256(data)
        guard actual == expected else { throw ModelLoadError.digestMismatch(expected: lower, actual: actual) }
    }

    private func readFile(_ path: String) throws -> Data {
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ModelLoadError.fetchFailed("cannot read \(path): \(error.localizedDescription)")
        }
    }

    private func get(url: String, headers: [String: String]) async throws -> Data {
        var request = HTTPClientRequest(url: url)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(300))
            let body = try await response.body.collect(upTo: settings.maxModelBytes)
            guard response.status.code == 200 else {
                let text = String(buffer: body).prefix(500)
                throw ModelLoadError.fetchFailed("GET \(url) returned \(response.status.code): \(text)")
            }
            return Data(body.readableBytesView)
        } catch let error as ModelLoadError {
            throw error
        } catch {
            throw ModelLoadError.fetchFailed("GET \(url): \(error)")
        }
    }
}
