import Foundation
import KubeClient
import KubeCore
import Logging
import SextantAPI
import SextantLocal
import SextantOperator
import SextantTestSupport
import Testing

/// `sextant-operator local`'s installation: the real quick-start manifests, the shipped models.
@Suite("Local mode", .timeLimit(.minutes(3)))
struct LocalModeTests {
    @Test("applies manifests/examples/ and the stable Service answers predictions from version 1")
    func quickStart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sextant-local-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var logger = Logger(label: "test.local")
        logger.logLevel = .critical
        var configuration = LocalInstallation.Configuration(
            directory: directory, repository: Repository.root, serverExecutable: try OperatorTestEnvironment.serverExecutable())
        configuration.serviceClusterIPRange = try randomLoopbackRange()
        let installation = LocalInstallation(configuration: configuration, logger: logger)
        let (ready, readyContinuation) = AsyncStream<LocalInstallation.Endpoints>.makeStream()
        let running = Task { try await installation.run { readyContinuation.yield($0) } }
        defer { running.cancel() }
        var iterator = ready.makeAsyncIterator()
        guard let endpoints = await iterator.next() else { throw TestError("local installation never became ready") }

        #expect(
            endpoints.appliedExamples == [
                "Model/flower-classifier", "ModelVersion/flower-classifier-v1", "ModelVersion/flower-classifier-v2",
                "InferenceService/flower-classifier", "RetrainPolicy/flower-classifier",
            ])
        #expect(FileManager.default.fileExists(atPath: endpoints.kubeconfig.path))
        let client = endpoints.client
        let services = Api<InferenceService>(client: client, namespace: "default")
        try await eventually(within: 60, "the example InferenceService serves version 1") {
            let service = try await services.get("flower-classifier")
            return service.status?.stable?.version == 1 && service.status?.conditions?.isTrue("Ready") == true
        }
        let stable = try await Api<Service>(client: client, namespace: "default").get("flower-classifier")
        let url = "http://\(stable.spec?["clusterIP"]?.stringValue ?? ""):8080"
        try await eventually(within: 60, "a prediction through the stable Service") {
            await OperatorTestEnvironment.predict(url).version == "1"
        }
        try await eventually(within: 60, "v2 effective Staging") {
            try await Api<ModelVersion>(client: client, namespace: "default").get("flower-classifier-v2").status?.stage == .staging
        }
        running.cancel()
        _ = await running.result
    }
}
