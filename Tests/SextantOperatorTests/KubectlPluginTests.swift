import Foundation
import KubeClient
import KubeCore
import SextantAPI
import SextantCLI
import SextantTestSupport
import Testing

/// `kubectl sextant …` run by real kubectl (which finds `kubectl-sextant` on PATH) against the
/// project's API server with the operator running.
@Suite("kubectl sextant plugin", .serialized, .timeLimit(.minutes(3)))
struct KubectlPluginTests {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `kubectl sextant <arguments>` with the plugin's directory first on PATH.
    static func kubectlSextant(_ arguments: [String], kubeconfig: URL, directory: URL) async throws -> Result {
        let plugin = try OperatorTestEnvironment.serverExecutable().replacingOccurrences(of: "sextant-server", with: "kubectl-sextant")
        guard FileManager.default.isExecutableFile(atPath: plugin) else { throw TestError("kubectl-sextant is not built (\(plugin)); run swift build") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["kubectl", "sextant"] + arguments + ["--kubeconfig", kubeconfig.path]
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = URL(fileURLWithPath: plugin).deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["KUBECONFIG"] = kubeconfig.path
        environment["HOME"] = directory.path
        process.environment = environment
        let out = directory.appendingPathComponent("out-\(UUID().uuidString)"), err = directory.appendingPathComponent("err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        let deadline = ContinuousClock.now + .seconds(60)
        while process.isRunning {
            if ContinuousClock.now > deadline { process.terminate(); throw TestError("kubectl sextant \(arguments) did not finish") }
            try await Task.sleep(for: .milliseconds(20))
        }
        return Result(
            status: process.terminationStatus, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    @Test("status, promote, history, approve, abort, evaluate — and one clear line for a mistake")
    func commands() async throws {
        try await OperatorTestEnvironment.with(namespace: "plugin") { env in
            let kubeconfig = env.directory.appendingPathComponent("kubeconfig")
            try env.cluster.kubeconfig(.token).write(to: kubeconfig, atomically: true, encoding: .utf8)
            func run(_ arguments: String...) async throws -> Result {
                try await Self.kubectlSextant(arguments + ["-n", env.namespace], kubeconfig: kubeconfig, directory: env.directory)
            }
            try await env.apply(Fixtures.model())
            try await env.apply(Fixtures.version(1, stage: "Production"))
            try await env.apply(Fixtures.version(2, stage: "Staging"))
            try await env.apply(Fixtures.inferenceService(steps: [50, 100], stepInterval: "1s"))
            try await env.eventually(within: 60, "v1 serving") {
                try await env.get(InferenceService.self, "flower-classifier").status?.conditions?.isTrue("Ready") == true
            }

            let status = try await run("status", "flower-classifier")
            #expect(status.status == 0, "\(status.stderr)")
            #expect(status.stdout.contains("model flower-classifier, tracking Production"), "\(status.stdout)")
            #expect(status.stdout.contains("stable   v1        100%"), "\(status.stdout)")

            // evaluate: labelled rows through the stable Service, labels posted as feedback to v1.
            let csv = env.directory.appendingPathComponent("rows.csv")
            try "sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,0\n4.9,3.0,1.4,0.2,0\n6.7,3.1,4.4,1.4,1\n6.3,3.3,6.0,2.5,2\n"
                .write(to: csv, atomically: true, encoding: .utf8)
            let evaluation = try await run("evaluate", "flower-classifier", "--data", csv.path, "--label", "species", "-o", "json")
            #expect(evaluation.status == 0, "\(evaluation.stderr)")
            let report = try JSONValue(parsing: Data(evaluation.stdout.utf8))
            #expect(report["rows"] == 4 && report["feedbackAccepted"] == 4 && report["failures"] == 0, "\(evaluation.stdout)")
            #expect((report["accuracy"]?.doubleValue ?? 0) >= 0.75, "\(evaluation.stdout)")
            #expect(report["byVersion"]?["1"] == 4)

            let approved = try await run("approve", "flower-classifier", "2", "--by", "alice")
            #expect(approved.status == 0 && approved.stdout.contains("approved by alice"), "\(approved.stderr)")
            #expect(try await env.get(ModelVersion.self, "flower-classifier-v2").metadata.annotations?[ModelVersion.approvedByAnnotation] == "alice")

            let promoted = try await run("promote", "flower-classifier", "2", "--to", "Production")
            #expect(promoted.status == 0 && promoted.stdout.contains("requested Production"), "\(promoted.stderr)")
            try await env.eventually(within: 60, "v2 promoted") {
                try await env.get(ModelVersion.self, "flower-classifier-v2").status?.stage == .production
            }
            let history = try await run("history", "flower-classifier", "-o", "json")
            #expect(history.status == 0, "\(history.stderr)")
            let entries = try JSONValue(parsing: Data(history.stdout.utf8)).arrayValue ?? []
            let stages = entries.map { "v\($0["version"]?.integerValue ?? 0):\($0["stage"]?.stringValue ?? "")" }
            #expect(stages.contains("v1:Production") && stages.contains("v2:Production") && stages.contains("v1:Archived"), "\(stages)")
            let table = try await run("history", "flower-classifier")
            #expect(table.stdout.hasPrefix("TIME"), "\(table.stdout)")

            let aborted = try await run("abort", "flower-classifier")
            #expect(aborted.status == 0 && aborted.stdout.contains("new rollouts are paused"), "\(aborted.stdout)")
            #expect(try await env.get(InferenceService.self, "flower-classifier").metadata.annotations?[InferenceService.abortAnnotation] == "true")

            let missing = try await run("promote", "flower-classifier", "9")
            #expect(missing.status != 0)
            #expect(missing.stderr.contains("model flower-classifier has no version 9 in namespace plugin (versions: 1, 2)"), "\(missing.stderr)")
            #expect(missing.stderr.split(separator: "\n").count <= 2, "\(missing.stderr)")
        }
    }
}
