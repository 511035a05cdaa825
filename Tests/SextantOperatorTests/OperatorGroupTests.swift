import Foundation
import KubeAPIServer
import KubeClient
import KubeCore
import Logging
import SextantLocal
import SextantOperator
import SextantTestSupport
import Testing

@Suite("Watching a list of namespaces")
struct OperatorGroupTests {
    @Test("namespace values split on commas, blanks and repeats dropped")
    func namespaceValues() {
        #expect(OperatorGroup.namespaces(from: ["a,b", " c ", "a", ""]) == ["a", "b", "c"])
        #expect(OperatorGroup.namespaces(from: [""]).isEmpty)
    }

    @Test("the operator reconciles Models in the watched namespaces and leaves the others alone")
    func watchesOnlyListedNamespaces() async throws {
        var logger = Logger(label: "test.operator-group")
        logger.logLevel = .critical
        let cluster = try await LocalCluster(logger: logger)
        let clusterTask = Task { try await cluster.run() }
        let client = try KubernetesClient(configuration: ClientConfiguration(server: cluster.httpURL), logger: logger)
        defer { clusterTask.cancel() }
        try await LocalInstallation.installCRDs(client)
        let suffix = UUID().uuidString.prefix(6).lowercased()
        let (first, second, unwatched) = ("team-a-\(suffix)", "team-b-\(suffix)", "team-c-\(suffix)")
        let model = try YAML.document(from: String(contentsOf: Repository.url("manifests/examples/01-model.yaml"), encoding: .utf8))
        for namespace in [first, second, unwatched] {
            _ = try await Api<Namespace>(client: client, namespace: nil).create(Namespace(metadata: ObjectMeta(name: namespace)))
            _ = try await models(client, namespace).create(model)
        }
        let group = OperatorGroup(client: client, configuration: OperatorConfiguration(namespaces: [first, second]), logger: logger)
        #expect(group.members.count == 2)
        let operatorTask = Task { await group.run() }
        defer { operatorTask.cancel() }

        func observedGeneration(_ namespace: String) async throws -> Int64? {
            try await models(client, namespace).get("flower-classifier")["status"]?["observedGeneration"]?.integerValue
        }
        try await eventually("both watched namespaces' Models have a status") {
            let (a, b) = (try await observedGeneration(first), try await observedGeneration(second))
            return a == 1 && b == 1
        }
        #expect(group.isReady)
        #expect(try await observedGeneration(unwatched) == nil, "a Model outside the watched namespaces was reconciled")
        operatorTask.cancel()
        _ = await operatorTask.result
        try await client.shutdown()
    }

    private func models(_ client: KubernetesClient, _ namespace: String) -> DynamicApi {
        DynamicApi(
            client: client, resource: GroupVersionResource(group: "ml.sextant.dev", version: "v1alpha1", resource: "models"), namespaced: true,
            namespace: namespace)
    }
}
