import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix

/// A minimal Hummingbird JSON echo server: the ceiling `hack/bench-server` compares
/// sextant-server against (same HTTP stack and executor set-up, no model work).
@main
struct EchoBench {
    static func main() async throws {
        // As in sextant-server: NIO's event loops run the handlers.
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let port = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 8090
        var logger = Logger(label: "sextant-echo-bench")
        logger.logLevel = .warning
        let router = Router()
        router.get("/v2/health/ready") { _, _ in "{\"ready\":true}" }
        router.post("**") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 64 << 20)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
        try await app.runService()
    }
}
