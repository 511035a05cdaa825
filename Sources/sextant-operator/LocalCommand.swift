import ArgumentParser
import Foundation
import KubeClient
import KubeCore
import Logging
import SextantLocal
import SextantOperator

/// `sextant-operator local`: the whole product on this machine, with nothing else installed.
struct LocalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "local",
        abstract: "Start an API server with a local runtime, install the CRDs, run the operator and apply manifests/examples/.")

    @Option(help: "State directory: kubeconfig, pod logs, retrained models.")
    var directory = ".sextant-local"
    @Option(help: "HTTPS port of the API server (0 picks a free one).")
    var port = 6443
    @Option(help: "The sextant-server executable (default: beside this one).")
    var serverExecutable: String?
    @Option(help: "The repository checkout holding manifests/examples (default: the current directory).")
    var repository = FileManager.default.currentDirectoryPath
    @Flag(help: "Do not apply manifests/examples/.")
    var noExamples = false
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "sextant-local")
        let executable = URL(
            fileURLWithPath: serverExecutable
                ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
                .deletingLastPathComponent().appendingPathComponent("sextant-server").path
        ).standardizedFileURL.path
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw ValidationError(
                "no sextant-server executable at \(executable); build it first (swift build --product sextant-server) or pass --server-executable")
        }
        let repositoryURL = URL(fileURLWithPath: repository).standardizedFileURL
        if !noExamples, !FileManager.default.fileExists(atPath: repositoryURL.appendingPathComponent("manifests/examples").path) {
            throw ValidationError("no manifests/examples under \(repositoryURL.path); run from the repository or pass --repository (or --no-examples)")
        }
        let stateDirectory = URL(fileURLWithPath: directory).standardizedFileURL
        let installation = LocalInstallation(
            configuration: .init(
                directory: stateDirectory, repository: repositoryURL, serverExecutable: executable, apiPort: port, applyExamples: !noExamples), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await installation.run { endpoints in
                    FileHandle.standardOutput.write(Data((LocalCommand.banner(endpoints) + "\n").utf8))
                }
            }
            group.addTask { await Signals.waitForTermination() }
            try await group.next()
            group.cancelAll()
        }
    }

    static func banner(_ endpoints: LocalInstallation.Endpoints) -> String {
        let kubeconfig = endpoints.kubeconfig.path
        return """

            Sextant is running locally.
              API server:  \(endpoints.apiServer)
              kubeconfig:  export KUBECONFIG=\(kubeconfig)
              applied:     \(endpoints.appliedExamples.isEmpty ? "nothing (--no-examples)" : endpoints.appliedExamples.joined(separator: ", "))

            Watch it:
              kubectl get sextant
              kubectl get inferenceservice flower-classifier -w
              kubectl get deployments,services,pods

            Send a prediction to the stable Service (its cluster IP is a loopback address here):
              IP=$(kubectl get service flower-classifier -o jsonpath='{.spec.clusterIP}')
              curl -s http://$IP:8080/v2/models/flower-classifier/infer -H 'content-type: application/json' \\
                -d '{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[5.1,3.5,1.4,0.2]}]}'

            Roll out version 2 as a canary:
              kubectl patch modelversion flower-classifier-v2 --type merge -p '{"spec":{"stage":"Production"}}'

            Ctrl-C stops everything.
            """
    }
}
