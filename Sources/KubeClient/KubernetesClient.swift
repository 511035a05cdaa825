import AsyncHTTPClient
import Foundation
import KubeCore
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

/// Receives one observation per API request (for metrics by verb and code).
public protocol RequestObserver: Sendable {
    /// `code` is the HTTP status, or 0 when no answer came.
    func observe(verb: String, code: Int, seconds: Double)
}

/// The connection to one API server: TLS, authentication, timeouts, retries with jittered
/// back-off, and the translation of error answers into `KubernetesError`. Typed and dynamic
/// access (`Api`, `DynamicApi`) are built on it.
public final class KubernetesClient: Sendable {
    public let configuration: ClientConfiguration
    let logger: Logger
    private let http: HTTPClient
    private let tls: TLSConfiguration?
    private let tokenFile: TokenFileSource?
    private let observer: RequestObserver?

    /// One request.
    public struct Request: Sendable {
        public var method: HTTPMethod
        public var path: String
        public var query: [(String, String)]
        public var body: Data?
        public var contentType: String
        public var accept: String

        public init(
            _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: Data? = nil, contentType: String = "application/json",
            accept: String = "application/json"
        ) {
            self.method = method
            self.path = path
            self.query = query
            self.body = body
            self.contentType = contentType
            self.accept = accept
        }
    }

    /// A decoded answer.
    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: JSONValue
    }

    /// Creates a client; fails when the configuration's certificates or keys do not parse.
    public init(configuration: ClientConfiguration, observer: RequestObserver? = nil, logger: Logger = Logger(label: "sextant.kube-client")) throws {
        self.configuration = configuration
        self.logger = logger
        self.observer = observer
        guard configuration.server.hasPrefix("https://") || configuration.server.hasPrefix("http://") else {
            throw KubernetesError.configuration("server \(configuration.server) must start with https:// or http://")
        }
        if configuration.server.hasPrefix("https://") {
            var tls = TLSConfiguration.makeClientConfiguration()
            do {
                if let authority = configuration.certificateAuthority {
                    tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(authority)))
                }
                if let certificate = configuration.clientCertificate, let key = configuration.clientKey {
                    tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(certificate)).map { .certificate($0) }
                    tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(key), format: .pem))
                }
            } catch {
                throw KubernetesError.configuration("cannot read the TLS material of the configuration: \(error)")
            }
            if configuration.insecureSkipTLSVerify { tls.certificateVerification = .none }
            self.tls = tls
        } else {
            tls = nil
        }
        if case .tokenFile(let path) = configuration.credentials {
            tokenFile = TokenFileSource(path: path)
        } else {
            tokenFile = nil
        }
        var httpConfiguration = HTTPClient.Configuration()
        httpConfiguration.tlsConfiguration = tls
        httpConfiguration.redirectConfiguration = .disallow
        httpConfiguration.timeout = .init(connect: .seconds(10), read: nil)
        // Every watch holds one HTTP/1.1 connection for its whole life; an operator watches a
        // dozen kinds and still needs connections for its reads and writes.
        httpConfiguration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 128)
        httpConfiguration.decompression = .disabled
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration, backgroundActivityLogger: logger)
    }

    /// Closes connections; call before the process ends.
    public func shutdown() async throws {
        try await http.shutdown()
    }

    // MARK: Requests

    /// Sends a request, retrying retryable failures, and decodes the JSON answer; error
    /// answers throw `KubernetesError`.
    public func send(_ request: Request) async throws -> Response {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await sendOnce(request)
            } catch let error as KubernetesError {
                guard error.isRetryable, attempt < configuration.maxAttempts, Self.mayRetry(request.method, error) else { throw error }
                let delay = Self.backoff(
                    attempt: attempt, retryAfter: { if case .tooManyRequests(_, let seconds) = error { return seconds } else { return nil } }())
                logger.debug("retrying", metadata: ["k8s.path": "\(request.path)", "attempt": "\(attempt)", "error": "\(error)"])
                try await Task.sleep(for: delay)
            }
        }
    }

    private func sendOnce(_ request: Request) async throws -> Response {
        let started = ContinuousClock.now
        var code = 0
        defer {
            let elapsed = ContinuousClock.now - started
            observer?.observe(
                verb: request.method.rawValue, code: code, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(
                try await prepare(request), timeout: .seconds(Int64(configuration.requestTimeout.components.seconds)), logger: logger)
        } catch let error as KubernetesError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw KubernetesError.transport("\(request.method.rawValue) \(request.path): \(error)")
        }
        code = Int(response.status.code)
        let bytes: ByteBuffer
        do {
            bytes = try await response.body.collect(upTo: 64 * 1024 * 1024)
        } catch {
            throw KubernetesError.transport("reading the answer to \(request.method.rawValue) \(request.path): \(error)")
        }
        var headers: [String: String] = [:]
        for (name, value) in response.headers { headers[name.lowercased()] = value }
        let status = Int(response.status.code)
        let data = Data(bytes.readableBytesView)
        let body: JSONValue
        if data.isEmpty {
            body = .null
        } else if let parsed = try? JSONValue(parsing: data) {
            body = parsed
        } else if status >= 400 {
            body = .string(String(decoding: data, as: UTF8.self))
        } else {
            throw KubernetesError.decoding("\(request.method.rawValue) \(request.path) answered \(status) with a body that is not JSON")
        }
        if status == 401 { await tokenFile?.invalidate() }
        guard (200..<300).contains(status) else {
            throw KubernetesError.from(code: status, body: body, retryAfter: headers["retry-after"].flatMap(Int.init))
        }
        return Response(status: status, headers: headers, body: body)
    }

    /// Opens a streaming request (a watch); the caller reads the body.
    func stream(_ request: Request, timeout: Duration) async throws -> HTTPClientResponse {
        let response: HTTPClientResponse
        do {
            response = try await http.execute(try await prepare(request), timeout: .seconds(Int64(timeout.components.seconds)), logger: logger)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw KubernetesError.transport("\(request.method.rawValue) \(request.path): \(error)")
        }
        guard response.status == .ok else {
            let bytes = (try? await response.body.collect(upTo: 1024 * 1024)) ?? ByteBuffer()
            let body = (try? JSONValue(parsing: Data(bytes.readableBytesView))) ?? .string(String(buffer: bytes))
            throw KubernetesError.from(code: Int(response.status.code), body: body, retryAfter: response.headers.first(name: "retry-after").flatMap(Int.init))
        }
        return response
    }

    private func prepare(_ request: Request) async throws -> HTTPClientRequest {
        var url = configuration.server.hasSuffix("/") ? String(configuration.server.dropLast()) : configuration.server
        url += request.path
        if !request.query.isEmpty {
            url += "?" + request.query.map { "\(Self.escape($0.0))=\(Self.escape($0.1))" }.joined(separator: "&")
        }
        var prepared = HTTPClientRequest(url: url)
        prepared.method = request.method
        prepared.headers.add(name: "Accept", value: request.accept)
        prepared.headers.add(name: "User-Agent", value: configuration.userAgent)
        switch configuration.credentials {
        case .none: break
        case .token(let token): prepared.headers.add(name: "Authorization", value: "Bearer \(token)")
        case .tokenFile: prepared.headers.add(name: "Authorization", value: "Bearer \(try await tokenFile!.token())")
        case .basic(let username, let password):
            prepared.headers.add(name: "Authorization", value: "Basic \(Data("\(username):\(password)".utf8).base64EncodedString())")
        }
        if let body = request.body {
            prepared.headers.add(name: "Content-Type", value: request.contentType)
            prepared.body = .bytes(ByteBuffer(bytes: body))
        }
        return prepared
    }

    private static let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    /// Creates are retried only when the server certainly did not act (throttled or unavailable).
    static func mayRetry(_ method: HTTPMethod, _ error: KubernetesError) -> Bool {
        if method != .POST { return true }
        switch error {
        case .tooManyRequests: return true
        case .server(let status): return status.code == 503
        default: return false
        }
    }

    /// Exponential back-off with full jitter (100 ms doubling, capped at 10 s), or the server's Retry-After.
    static func backoff(attempt: Int, retryAfter: Int?) -> Duration {
        if let retryAfter, retryAfter > 0 { return .seconds(min(retryAfter, 60)) }
        let ceiling = min(100.0 * pow(2.0, Double(attempt - 1)), 10_000)
        return .milliseconds(Int.random(in: Int(ceiling / 2)...Int(ceiling)))
    }
}
