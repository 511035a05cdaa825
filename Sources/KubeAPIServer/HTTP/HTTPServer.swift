import Foundation
import KubeCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS

/// Serves an `APIServer` over HTTP/1.1, optionally with TLS and authentication, using
/// SwiftNIO's async channels: one task per connection, requests answered in order, watches
/// streamed as chunked JSON lines until they end or the client goes away.
public final class HTTPServer: Sendable {
    /// Who may call the server.
    public struct Authentication: Sendable {
        /// Bearer tokens and the user each one stands for.
        public var tokens: [String: String]
        /// Whether a request without credentials is refused (401).
        public var required: Bool

        public init(tokens: [String: String] = [:], required: Bool = false) {
            self.tokens = tokens
            self.required = required
        }
    }

    /// TLS material: the serving certificate, and the CA that signs accepted client certificates.
    public struct TLS: Sendable {
        public var certificatePEM: String
        public var privateKeyPEM: String
        public var clientCAPEM: String?

        public init(certificatePEM: String, privateKeyPEM: String, clientCAPEM: String?) {
            self.certificatePEM = certificatePEM
            self.privateKeyPEM = privateKeyPEM
            self.clientCAPEM = clientCAPEM
        }
    }

    private let api: APIServer
    private let authentication: Authentication
    private let logger: Logger
    private let sslContext: NIOSSLContext?
    private let serverChannel: NIOAsyncChannel<Connection, Never>
    /// Largest request body accepted.
    static let maxBodyBytes = 3 * 1024 * 1024

    /// A connection: its async channel and a future that completes when it closes.
    struct Connection: Sendable {
        let channel: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
        let closed: EventLoopFuture<Void>
        let peerUser: EventLoopFuture<String?>
    }

    /// The port the server listens on (useful with port 0).
    public let port: Int

    /// Binds the server; call `run()` to serve.
    public init(
        api: APIServer, host: String = "127.0.0.1", port requestedPort: Int = 0, tls: TLS? = nil, authentication: Authentication = Authentication(),
        logger: Logger
    ) async throws {
        self.api = api
        self.authentication = authentication
        self.logger = logger
        if let tls {
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(tls.certificatePEM.utf8)).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(tls.privateKeyPEM.utf8), format: .pem)))
            if let ca = tls.clientCAPEM {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(ca.utf8)))
                configuration.certificateVerification = .optionalVerification
            }
            configuration.applicationProtocols = ["http/1.1"]
            sslContext = try NIOSSLContext(configuration: configuration)
        } else {
            sslContext = nil
        }
        let sslContext = self.sslContext
        serverChannel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: requestedPort) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let peerUser = channel.eventLoop.makePromise(of: String?.self)
                    if let sslContext {
                        let handler = NIOSSLServerHandler(context: sslContext)
                        try channel.pipeline.syncOperations.addHandler(handler)
                        try channel.pipeline.syncOperations.addHandler(HandshakeObserver(handler: handler, peerUser: peerUser))
                    } else {
                        peerUser.succeed(nil)
                    }
                    // Pipelining assistance pauses reads while a response is in flight; a TLS client
                    // that leaves during a watch is then noticed when its close_notify times out
                    // (5 s). Turning it off made connections fail under concurrent load, so the
                    // short delay is the accepted cost.
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    let asyncChannel = try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                    return Connection(channel: asyncChannel, closed: channel.closeFuture, peerUser: peerUser.futureResult)
                }
            }
        self.port = serverChannel.channel.localAddress?.port ?? requestedPort
    }

    /// Serves connections until the task is cancelled.
    public func run() async throws {
        try await withTaskCancellationHandler {
            try await serverChannel.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in connections {
                        group.addTask { await self.serve(connection) }
                    }
                }
            }
        } onCancel: {
            serverChannel.channel.close(promise: nil)
        }
    }

    private func serve(_ connection: Connection) async {
        do {
            try await connection.channel.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body = ByteBuffer()
                var tooLarge = false
                for try await part in inbound {
                    switch part {
                    case .head(let requestHead):
                        head = requestHead
                        body.clear()
                        tooLarge = false
                    case .body(var chunk):
                        if body.readableBytes + chunk.readableBytes > Self.maxBodyBytes { tooLarge = true } else { body.writeBuffer(&chunk) }
                    case .end:
                        guard let requestHead = head else { continue }
                        let keepAlive = requestHead.isKeepAlive
                        let user = try? await connection.peerUser.get()
                        let response = tooLarge ? APIResponse.error(.tooLarge(Self.maxBodyBytes)) : await respond(to: requestHead, body: body, peerUser: user)
                        let finished = try await write(response, keepAlive: keepAlive, to: outbound, closed: connection.closed)
                        if !keepAlive || !finished { return }
                    }
                }
            }
        } catch {
            logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
    }

    private func respond(to head: HTTPRequestHead, body: ByteBuffer, peerUser: String?) async -> APIResponse {
        var headers: [String: String] = [:]
        for (name, value) in head.headers { headers[name.lowercased()] = headers[name.lowercased()].map { "\($0), \(value)" } ?? value }
        var user = peerUser
        if let authorization = headers["authorization"], authorization.lowercased().hasPrefix("bearer ") {
            let token = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            guard let tokenUser = authentication.tokens[token] else { return .error(.unauthorized) }
            user = tokenUser
        }
        if authentication.required, user == nil, !["/healthz", "/livez", "/readyz"].contains(head.uri.split(separator: "?").first.map(String.init) ?? "") {
            return .error(.unauthorized)
        }
        let request = APIRequest(method: head.method.rawValue, target: head.uri, headers: headers, body: Data(body.readableBytesView), user: user)
        let response = await api.handle(request)
        logger.debug(
            "request",
            metadata: ["http.method": "\(head.method.rawValue)", "http.target": "\(head.uri)", "http.status": "\(response.status)", "user": "\(user ?? "-")"])
        return response
    }

    /// Writes a response; returns false when the connection must not be reused.
    private func write(
        _ response: APIResponse, keepAlive: Bool, to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, closed: EventLoopFuture<Void>
    ) async throws -> Bool {
        switch response {
        case .json(let status, let body, let extraHeaders):
            var headers = HTTPHeaders()
            let bytes: [UInt8]
            if case .string(let text) = body, extraHeaders["x-plain-text"] != nil {
                bytes = Array(text.utf8)
                headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
            } else {
                bytes = body.jsonBytes()
                headers.add(name: "Content-Type", value: extraHeaders["content-type"] ?? "application/json")
            }
            for (name, value) in extraHeaders where name != "content-type" && name != "x-plain-text" { headers.add(name: name, value: value) }
            headers.add(name: "Content-Length", value: String(bytes.count))
            headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
            try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers)))
            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes))))
            try await outbound.write(.end(nil))
            return true
        case .raw(let status, let contentType, let body):
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: String(body.count))
            headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
            try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers)))
            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
            try await outbound.write(.end(nil))
            return true
        case .stream(let status, let extraHeaders, let body):
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: extraHeaders["content-type"] ?? "application/json")
            headers.add(name: "Transfer-Encoding", value: "chunked")
            headers.add(name: "Cache-Control", value: "no-cache, private")
            try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers)))
            // Stream until the watch ends, times out, or the client disconnects.
            // An AsyncStream ends its iteration on cancellation, unlike a future's get().
            let (disconnected, disconnect) = AsyncStream<Void>.makeStream()
            closed.whenComplete { _ in disconnect.finish() }
            defer { body.close() }
            let clientGone = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    while let bytes = await body.next() {
                        try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes))))
                    }
                    return false
                }
                group.addTask {
                    try? await Task.sleep(for: body.timeout)
                    return false
                }
                group.addTask {
                    for await _ in disconnected {}
                    return !Task.isCancelled
                }
                let first = try await group.next() ?? true
                group.cancelAll()
                return first
            }
            if clientGone { return false }
            try await outbound.write(.end(nil))
            return true
        }
    }
}

/// Records the user of a verified client certificate once the TLS handshake completes.
private final class HandshakeObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let handler: NIOSSLServerHandler
    private let peerUser: EventLoopPromise<String?>
    private var done = false

    init(handler: NIOSSLServerHandler, peerUser: EventLoopPromise<String?>) {
        self.handler = handler
        self.peerUser = peerUser
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted = tlsEvent, !done {
            done = true
            let der = (try? handler.peerCertificate?.toDERBytes()) ?? nil
            peerUser.succeed(der.flatMap { CertificateAuthority.commonName(ofDER: $0) })
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            peerUser.succeed(nil)
        }
        context.fireChannelInactive()
    }
}
