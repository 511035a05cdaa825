import Foundation
import KubeAPIServer
import KubeCore
import Logging
import SextantTestSupport
import Testing

/// The images cannot be built here (no Docker engine), so these tests check the Dockerfiles and
/// run what they package: the static release binaries `hack/build-static.sh` builds with the
/// same command (`.ci/run` runs it before `swift test`).
@Suite("Images")
struct ImageTests {
    /// Dockerfile name (under images/) and the product it packages.
    static let images: [(file: String, product: String)] = [("operator", "sextant-operator"), ("server", "sextant-server")]

    /// The static binaries, or a clear failure saying how to build them.
    static func staticBinary(_ product: String) throws -> String {
        let path = Repository.url(".build-static/release/\(product)").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestError("\(path) is missing: run hack/build-static.sh (the release build the Dockerfiles use) before swift test")
        }
        return path
    }

    @Test(
        "each Dockerfile: official Swift image to build, the script's static build command, distroless non-root runtime, OCI labels",
        arguments: images.map { [$0.file, $0.product] })
    func dockerfile(_ image: [String]) throws {
        let (file, product) = (image[0], image[1])
        let text = try Repository.text("images/\(file).Dockerfile")
        let script = try Repository.text("hack/build-static.sh")
        #expect(text.contains("FROM swift:6.3-bookworm AS build"))
        #expect(text.contains("swift build -c release --static-swift-stdlib --product \(product)"))
        #expect(
            script.contains(#"swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product "$product""#),
            "hack/build-static.sh no longer runs the Dockerfiles' command")
        #expect(script.contains(product))
        let runtime = try #require(text.components(separatedBy: "\nFROM ").last)
        #expect(runtime.hasPrefix("gcr.io/distroless/cc-debian12:nonroot"), "the runtime stage must be distroless (no shell): \(runtime.prefix(60))")
        #expect(runtime.contains("USER 65532:65532"))
        #expect(runtime.contains(#"ENTRYPOINT ["/usr/local/bin/\#(product)"]"#))
        for label in ["title", "description", "source", "licenses", "version", "revision"] {
            #expect(runtime.contains("org.opencontainers.image.\(label)="), "missing OCI label \(label)")
        }
        #expect(!runtime.contains("RUN "), "the runtime stage has no shell to RUN anything with")
    }

    @Test("the static binaries link no Swift runtime library dynamically")
    func staticLinking() async throws {
        for product in Self.images.map(\.product) {
            let ldd = try await runProcess(["ldd", try Self.staticBinary(product)], directory: try scratchDirectory())
            #expect(ldd.status == 0, "\(ldd.output)")
            for library in ["libswiftCore", "libFoundation", "libdispatch", "lib_FoundationICU"] {
                #expect(!ldd.stdout.contains(library), "\(product) links \(library) dynamically:\n\(ldd.stdout)")
            }
        }
    }

    @Test("the static sextant-server serves a model: ready, and a V2 prediction")
    func staticServerServes() async throws {
        let directory = try scratchDirectory()
        let port = try freePort()
        let server = try StartedProcess(
            [
                try Self.staticBinary("sextant-server"), "serve", "--model-uri", Repository.url("Tests/Fixtures/onnx/logistic_regression.onnx").absoluteString,
                "--model-name", "lr", "--port", String(port),
            ], directory: directory)
        defer { server.stop() }
        try await eventually("the static server is ready") { try await httpGet("http://127.0.0.1:\(port)/v2/health/ready").status == 200 }
        let body = #"{"inputs":[{"name":"input","datatype":"FP32","shape":[1,8],"data":[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]}]}"#
        let answer = try await httpPost("http://127.0.0.1:\(port)/v2/models/lr/infer", body: body)
        #expect(answer.status == 200, "\(answer.text)")
        #expect(try JSONValue(parsing: Data(answer.text.utf8))["outputs"]?.arrayValue?.isEmpty == false, "\(answer.text)")
    }

    @Test("the static sextant-operator runs against the API server: healthy, then ready once its caches sync")
    func staticOperatorRuns() async throws {
        let cluster = try await KubectlCluster()
        let crds = try await cluster.kubectl(["apply", "--server-side", "-f", Repository.url("crds").path])
        #expect(crds.status == 0, "\(crds.output)")
        let port = try freePort()
        let operatorProcess = try StartedProcess(
            [
                try Self.staticBinary("sextant-operator"), "run", "--kubeconfig", cluster.directory.appendingPathComponent("kubeconfig").path,
                "--metrics-bind-address", "127.0.0.1:\(port)", "--no-leader-elect", "--namespace", "default",
            ], directory: cluster.directory)
        defer { operatorProcess.stop() }
        try await eventually("the operator answers /healthz") { try await httpGet("http://127.0.0.1:\(port)/healthz").status == 200 }
        try await eventually("the operator is ready (caches synced)") { try await httpGet("http://127.0.0.1:\(port)/readyz").status == 200 }
        let metrics = try await httpGet("http://127.0.0.1:\(port)/metrics")
        #expect(metrics.text.contains("sextant_reconcile_total") || metrics.text.contains("sextant_api_requests_total"), "\(metrics.text.prefix(500))")
    }
}
