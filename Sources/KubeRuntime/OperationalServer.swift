import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// The operator's operational endpoints: `/healthz` (the process serves), `/readyz` (caches
/// are synced and, when leader election is on, it may act), `/metrics` (Prometheus text).
public final class OperationalServer: Sendable {
    private let channel: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
    private let ready: @Sendable () -> Bool
    private let metrics: MetricsRegistry
    /// The bound port.
    public let port: Int

    /// Binds `host:port` (port 0 picks one).
    public init(host: String = "127.0.0.1", port: Int = 0, metrics: MetricsRegistry, ready: @escaping @Sendable () -> Bool) async throws {
        self.ready = ready
        self.metrics = metrics
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                }
            }
        self.port = channel.channel.localAddress?.port ?? port
    }

    /// Serves until cancelled.
    public func run() async throws {
        try await withTaskCancellationHandler {
            try await channel.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in connections {
                        group.addTask { try? await self.serve(connection) }
                    }
                }
            }
        } onCancel: {
            channel.channel.close(promise: nil)
        }
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async throws {
        try await connection.executeThenClose { inbound, outbound in
            var path = ""
            for try await part in inbound {
                switch part {
                case .head(let head): path = String(head.uri.split(separator: "?").first ?? "")
                case .body: break
                case .end:
                    let (status, contentType, body) = respond(path)
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: contentType)
                    headers.add(name: "Content-Length", value: String(body.utf8.count))
                    try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)))
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(string: body))))
                    try await outbound.write(.end(nil))
                }
            }
        }
    }

    func respond(_ path: String) -> (HTTPResponseStatus, String, String) {
        switch path {
        case "/healthz", "/livez": (.ok, "text/plain", "ok\n")
        case "/readyz": ready() ? (.ok, "text/plain", "ok\n") : (.serviceUnavailable, "text/plain", "caches not synced\n")
        case "/metrics": (.ok, "text/plain; version=0.0.4", metrics.render())
        default: (.notFound, "text/plain", "not found\n")
        }
    }
}
