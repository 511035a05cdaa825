import AsyncHTTPClient
import Foundation
import NIOCore
import SextantTestSupport
import Testing

@testable import SextantServer

#if canImport(Glibc)
import Glibc
#endif

/// A child process stopped (SIGTERM, then SIGKILL) when released.
final class ChildProcess: @unchecked Sendable {
    let process = Process()
    let logURL: URL

    init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, logURL: URL) throws {
        self.logURL = logURL
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logURL)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// Waits for exit off the cooperative pool.
    func waitForExit() async -> Int32 {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                self.process.waitUntilExit()
                continuation.resume(returning: self.process.terminationStatus)
            }
        }
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            for _ in 0..<50 where process.isRunning { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    deinit { stop() }
}

/// The built `sextant-server` executable, next to the test bundle.
func serverExecutable() throws -> String {
    var candidates: [URL] = []
    let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    candidates.append(bundle.appendingPathComponent("sextant-server"))
    candidates.append(bundle.deletingLastPathComponent().appendingPathComponent("sextant-server"))
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    candidates.append(root.appendingPathComponent(".build/debug/sextant-server"))
    for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
    throw RouterError("sextant-server executable not found in \(candidates.map(\.path)); run swift build first")
}

func pythonHasModule(_ module: String) -> Bool {
    guard let python = which("python3") else { return false }
    return (try? runProcess(python, ["-c", "import \(module)"]))?.status == 0
}

@Suite("Loading and compatibility with external processes")
struct ExternalProcessTests {
    @Test("SigV4 matches the AWS documentation's GET Object example")
    func sigV4Vector() throws {
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1")
        let headers = signer.sign(
            method: "GET", url: URL(string: "https://examplebucket.s3.amazonaws.com/test.txt")!, headers: ["Range": "bytes=0-9"],
            payloadSHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", date: Date(timeIntervalSince1970: 1_369_353_600))
        #expect(
            headers["Authorization"]
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
    }

    @Test("PSI and KS match the worked example in docs/drift-baseline.md")
    func driftMath() {
        let fractions = [0.25, 0.25, 0.25, 0.25]
        #expect(abs(DriftMath.psi(counts: [2, 4, 6, 8], fractions: fractions)! - 0.228217) < 1e-6)
        #expect(abs(DriftMath.ks(counts: [2, 4, 6, 8], fractions: fractions)! - 0.2) < 1e-12)
        #expect(abs(DriftMath.psi(counts: [0, 4, 8, 8], fractions: fractions)! - 2.107387) < 1e-6)
        #expect(abs(DriftMath.ks(counts: [0, 4, 8, 8], fractions: fractions)! - 0.3) < 1e-12)
        #expect(DriftMath.bin(of: 2, cuts: [1, 2, 3]) == 1)
        #expect(DriftMath.bin(of: 3.5, cuts: [1, 2, 3]) == 3)
        #expect(DriftMath.bin(of: -100, cuts: [1, 2, 3]) == 0)
    }

    @Test("http:// loading from a Python http.server")
    func httpLoading() async throws {
        let python = try #require(which("python3"), "python3 is needed")
        let directory = try makeTempDirectory()
        try FileManager.default.copyItem(at: fixtureURL("logistic_regression.onnx"), to: directory.appendingPathComponent("lr.onnx"))
        let port = try freePort()
        let server = try ChildProcess(
            python, ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", directory.path],
            logURL: directory.appendingPathComponent("http.log"))
        defer { server.stop() }
        for _ in 0..<100 {
            if (try? await http("GET", "http://127.0.0.1:\(port)/lr.onnx"))?.status == 200 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let digest = "sha256:" + SigV4Signer.hexSHA256(try Data(contentsOf: fixtureURL("logistic_regression.onnx")))
        var configuration = ServeConfiguration(modelURI: "http://127.0.0.1:\(port)/lr.onnx", modelName: "lr")
        configuration.digest = digest
        try await withServer(configuration) { port, _ in
            let ready = try await http("GET", "http://127.0.0.1:\(port)/v2/health/ready")
            #expect(ready.status == 200, "\(ready.text)")
        }
        try await withServer(ServeConfiguration(modelURI: "http://127.0.0.1:\(port)/missing.onnx", modelName: "lr")) { port, _ in
            let ready = try await http("GET", "http://127.0.0.1:\(port)/v2/health/ready")
            #expect(ready.status == 503)
            #expect(ready.text.contains("404"), "\(ready.text)")
        }
    }

    @Test("s3:// loading from moto_server with IAM auth enforced (SigV4 verified by the server)")
    func s3Loading() async throws {
        guard let moto = which("moto_server"), pythonHasModule("boto3") else {
            print("SKIPPED s3Loading: moto_server or boto3 not installed (pip install 'moto[server]' boto3)")
            return
        }
        let python = try #require(which("python3"))
        let directory = try makeTempDirectory()
        let port = try freePort()
        // The first 3 actions (IAM setup) are unauthenticated; every later request must carry a
        // valid SigV4 signature from the created user.
        let server = try ChildProcess(
            moto, ["-H", "127.0.0.1", "-p", String(port)], environment: ["INITIAL_NO_AUTH_ACTION_COUNT": "3"],
            logURL: directory.appendingPathComponent("moto.log"))
        defer { server.stop() }
        let endpoint = "http://127.0.0.1:\(port)"
        for _ in 0..<150 {
            if (try? await http("GET", endpoint + "/moto-api/"))?.status == 200 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let script = """
            import boto3, json, sys
            iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
            iam.create_user(UserName="sextant")
            key = iam.create_access_key(UserName="sextant")["AccessKey"]
            iam.put_user_policy(UserName="sextant", PolicyName="s3", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
            print(key["AccessKeyId"]); print(key["SecretAccessKey"])
            """
        let scriptURL = directory.appendingPathComponent("iam.py")
        try script.write(to: scriptURL, atomically: true, encoding: .utf8)
        let setup = try runProcess(python, [scriptURL.path, endpoint])
        #expect(setup.status == 0, "\(setup.output)")
        let lines = setup.output.split(separator: "\n").map(String.init)
        let credentials = AWSCredentials(accessKeyID: lines[lines.count - 2], secretAccessKey: lines[lines.count - 1])
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1")

        // Our own SigV4 PUTs: create the bucket, upload the model.
        let model = try Data(contentsOf: fixtureURL("logistic_regression.onnx"))
        for (path, body) in [("/models", Data()), ("/models/lr/model.onnx", model)] {
            let url = endpoint + path
            var request = HTTPClientRequest(url: url)
            request.method = .PUT
            for (name, value) in signer.sign(method: "PUT", url: URL(string: url)!, payloadSHA256: SigV4Signer.hexSHA256(body)) {
                request.headers.add(name: name, value: value)
            }
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
            #expect(response.status.code == 200, "PUT \(path): \(text)")
        }
        var configuration = ServeConfiguration(modelURI: "s3://models/lr/model.onnx", modelName: "lr")
        configuration.digest = "sha256:" + SigV4Signer.hexSHA256(model)
        try await withServer(configuration, fetchSettings: ModelFetchSettings(s3Endpoint: endpoint, region: "us-east-1", credentials: credentials)) { port, _ in
            let ready = try await http("GET", "http://127.0.0.1:\(port)/v2/health/ready")
            #expect(ready.status == 200, "\(ready.text)")
        }
        // A wrong secret is refused by the server: not ready, with the S3 error in the reason.
        let wrong = AWSCredentials(accessKeyID: credentials.accessKeyID, secretAccessKey: "wrong")
        try await withServer(configuration, fetchSettings: ModelFetchSettings(s3Endpoint: endpoint, region: "us-east-1", credentials: wrong)) { port, _ in
            let ready = try await http("GET", "http://127.0.0.1:\(port)/v2/health/ready")
            #expect(ready.status == 503)
            #expect(ready.text.contains("403"), "\(ready.text)")
        }
    }

    @Test("tritonclient[http] talks to the server (live, ready, metadata, FP32 infer)")
    func tritonClient() async throws {
        let python = try #require(which("python3"))
        if !pythonHasModule("tritonclient.http") {
            let install = try runProcess(python, ["-m", "pip", "install", "-q", "tritonclient[http]"])
            if install.status != 0 || !pythonHasModule("tritonclient.http") {
                print("SKIPPED tritonClient: pip install tritonclient[http] failed: \(install.output.suffix(500))")
                return
            }
        }
        let directory = try makeTempDirectory()
        let script = """
            import json, sys
            import numpy as np
            import tritonclient.http as httpclient
            url, model, expected_path, binary = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
            expected = json.load(open(expected_path))
            client = httpclient.InferenceServerClient(url=url)
            assert client.is_server_live()
            assert client.is_server_ready()
            assert client.is_model_ready(model)
            meta = client.get_model_metadata(model)
            assert meta["name"] == model and meta["platform"] == "onnx", meta
            assert meta["inputs"][0]["datatype"] == "FP32", meta
            spec = expected["inputs"]["input"]
            x = np.array(spec["data"], dtype=np.float32).reshape(spec["shape"])
            inp = httpclient.InferInput("input", list(x.shape), "FP32")
            inp.set_data_from_numpy(x, binary_data=binary)
            outputs = [httpclient.InferRequestedOutput("label", binary_data=False), httpclient.InferRequestedOutput("probabilities", binary_data=False)]
            result = client.infer(model, [inp], outputs=outputs, request_id="triton-1")
            assert result.get_response()["id"] == "triton-1"
            labels = result.as_numpy("label")
            probabilities = result.as_numpy("probabilities")
            want_labels = np.array(expected["outputs"]["label"]["data"])
            want_probabilities = np.array(expected["outputs"]["probabilities"]["data"], dtype=np.float64).reshape(expected["outputs"]["probabilities"]["shape"])
            assert (labels == want_labels).all(), (labels, want_labels)
            assert np.allclose(probabilities, want_probabilities, rtol=1e-5, atol=1e-6), (probabilities, want_probabilities)
            print("TRITON-OK", labels.tolist())
            """
        let scriptURL = directory.appendingPathComponent("triton_check.py")
        try script.write(to: scriptURL, atomically: true, encoding: .utf8)
        try await withServer(ServeConfiguration(modelURI: fixtureURL("logistic_regression.onnx").absoluteString, modelName: "lr")) { port, _ in
            let expectedPath = fixtureURL("logistic_regression.expected.json").path
            // JSON tensors, then the binary tensor extension (tritonclient's default for inputs).
            for binary in ["0", "1"] {
                let result = try await Task.detachedBlocking {
                    try runProcess(python, [scriptURL.path, "127.0.0.1:\(port)", "lr", expectedPath, binary])
                }
                #expect(result.status == 0 && result.output.contains("TRITON-OK"), "binary=\(binary): \(result.output)")
            }
        }
    }

    @Test("SIGTERM drains: an in-flight request completes and the process exits 0")
    func sigtermDrain() async throws {
        let executable = try serverExecutable()
        let directory = try makeTempDirectory()
        let port = try freePort()
        let child = try ChildProcess(
            executable,
            [
                "serve", "--model-uri", fixtureURL("logistic_regression.onnx").absoluteString, "--model-name", "lr", "--port", String(port),
            ], logURL: directory.appendingPathComponent("server.log"))
        try await waitFor200("http://127.0.0.1:\(port)/v2/health/ready")
        let body = "{\"instances\":[[0,0,0,0,0,0,0,0]]}"
        let connection = try RawConnection(port: port)
        connection.send("POST /v1/models/lr:predict HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n{\"inst")
        try await Task.sleep(for: .milliseconds(300))
        kill(child.process.processIdentifier, SIGTERM)
        try await Task.sleep(for: .milliseconds(500))
        #expect(child.process.isRunning, "the server must wait for the in-flight request")
        connection.send(String(body.dropFirst(6)))
        let answer = await connection.readResponse()
        #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)\n\(child.log)")
        #expect(answer.contains("predictions"))
        let status = await child.waitForExit()
        #expect(status == 0, "\(child.log)")
        #expect(child.log.contains("\"msg\":\"request\""), "JSON request logs")
    }
}

extension Task where Failure == any Error {
    /// Runs blocking work on a dispatch thread, not on the cooperative pool.
    static func detachedBlocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T where Success == Never {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }
}
