import Foundation
import KubeAPIServer
import KubeCore
import Logging
import SextantAPI
import SextantTestSupport
import Testing

@testable import KubeClient

/// The client against the project's API server over real sockets, with each kind of credentials.
@Suite("Kubernetes client against sextant-kube-apiserver")
struct ClientTests {
    /// A running server and a client for it.
    final class Harness: Sendable {
        let cluster: LocalCluster
        let client: KubernetesClient
        private let runner: Task<Void, Error>
        let directory: URL

        init(credentials: LocalCluster.Credentials = .certificate, historyLimit: Int = 100_000) async throws {
            var logger = Logger(label: "test")
            logger.logLevel = .warning
            cluster = try await LocalCluster(historyLimit: historyLimit, bookmarkInterval: .seconds(3600), logger: logger)
            let cluster = self.cluster
            runner = Task { try await cluster.run() }
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("client-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let path = directory.appendingPathComponent("kubeconfig").path
            try cluster.kubeconfig(credentials).write(toFile: path, atomically: true, encoding: .utf8)
            client = try KubernetesClient(configuration: try .kubeconfig(paths: [path]), logger: logger)
        }

        func namespace(_ name: String) async throws -> String {
            _ = try await Api<KubeClient.Namespace>(client: client, namespace: nil).create(.init(metadata: ObjectMeta(name: name)))
            return name
        }

        func close() async {
            try? await client.shutdown()
            runner.cancel()
            _ = await runner.result
        }

        /// Runs `body` with a fresh server and client, closing both however `body` ends.
        static func with(
            _ credentials: LocalCluster.Credentials = .certificate, historyLimit: Int = 100_000, _ body: (Harness) async throws -> Void
        ) async throws {
            let harness = try await Harness(credentials: credentials, historyLimit: historyLimit)
            do {
                try await body(harness)
            } catch {
                await harness.close()
                throw error
            }
            await harness.close()
        }
    }

    @Test("typed CRUD over HTTPS with a client certificate, a token, and plain HTTP", arguments: LocalCluster.Credentials.allCases)
    func crud(credentials: LocalCluster.Credentials) async throws {
        try await Harness.with(credentials) { harness in
            let namespace = try await harness.namespace("client-crud")
            let maps = Api<ConfigMap>(client: harness.client, namespace: namespace)
            let created = try await maps.create(ConfigMap(metadata: ObjectMeta(name: "settings", labels: ["app": "demo"]), data: ["a": "1"]))
            #expect(created.metadata.uid != nil && created.metadata.resourceVersion != nil)
            var changed = try await maps.get("settings")
            changed.data?["b"] = "2"
            let updated = try await maps.update(changed)
            #expect(updated.data == ["a": "1", "b": "2"])
            let patched = try await maps.patch("settings", .merge(["data": ["c": "3"]]))
            #expect(patched.data?["c"] == "3")
            let listed = try await maps.list(.init(labelSelector: "app=demo"))
            #expect(listed.items.map(\.metadata.name) == ["settings"])
            #expect(!listed.resourceVersion.isEmpty)
            guard case .deleted = try await maps.delete("settings") else { Issue.record("expected deletion"); return }
        }
    }

    @Test("API errors arrive typed: NotFound, AlreadyExists, Conflict, Invalid with causes, Unauthorized")
    func errors() async throws {
        try await Harness.with { harness in
            let namespace = try await harness.namespace("client-errors")
            let maps = Api<ConfigMap>(client: harness.client, namespace: namespace)
            do {
                _ = try await maps.get("absent")
                Issue.record("expected NotFound")
            } catch KubernetesError.notFound(let status) {
                #expect(status.message == "configmaps \"absent\" not found")
            }
            let first = try await maps.create(ConfigMap(metadata: ObjectMeta(name: "one")))
            do {
                _ = try await maps.create(ConfigMap(metadata: ObjectMeta(name: "one")))
                Issue.record("expected AlreadyExists")
            } catch KubernetesError.alreadyExists {}
            var changed = first
            changed.data = ["changed": "yes"]
            _ = try await maps.update(changed)
            var stale = first
            stale.data = ["x": "y"]
            do {
                _ = try await maps.update(stale)
                Issue.record("expected Conflict")
            } catch KubernetesError.conflict(let status) {
                #expect(status.reason == "Conflict")
            }
            do {
                _ = try await maps.create(ConfigMap(metadata: ObjectMeta(name: "Bad_Name")))
                Issue.record("expected Invalid")
            } catch KubernetesError.invalid(let status) {
                #expect(status.causes.first?.field == "metadata.name")
            }
            var configuration = harness.client.configuration
            configuration.clientCertificate = nil
            configuration.clientKey = nil
            configuration.credentials = .token("wrong")
            let stranger = try KubernetesClient(configuration: configuration)
            do {
                _ = try await Api<ConfigMap>(client: stranger, namespace: namespace).list()
                Issue.record("expected Unauthorized")
            } catch KubernetesError.unauthorized {}
            try await stranger.shutdown()
        }
    }

    @Test("custom resources: Sextant kinds typed; status; server-side apply conflicts carry the field")
    func customResources() async throws {
        try await Harness.with { harness in
            let crds = DynamicApi(
                client: harness.client, resource: .init(group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions"), namespaced: false,
                namespace: nil)
            for crd in SextantCRDs.all { _ = try await crds.create(try JSONValue(encoding: crd)) }
            let namespace = try await harness.namespace("client-crs")
            let models = Api<Model>(client: harness.client, namespace: namespace)
            let model = Model(metadata: ObjectMeta(name: "churn"), spec: ModelSpec(owner: "team", task: .classification))
            let created = try await models.create(model)
            #expect(created.spec.task == .classification)
            var withStatus = created
            withStatus.status = ModelStatus(observedGeneration: 1, latestVersion: 2, versionCount: 2)
            let statusUpdated = try await models.updateStatus(withStatus)
            #expect(statusUpdated.status?.latestVersion == 2)
            let services = Api<InferenceService>(client: harness.client, namespace: namespace)
            let configuration: JSONValue = ["metadata": ["name": "churn"], "spec": ["modelName": "churn", "replicas": 2]]
            _ = try await services.apply(configuration, fieldManager: "alice")
            do {
                _ = try await services.apply(["metadata": ["name": "churn"], "spec": ["modelName": "churn", "replicas": 3]], fieldManager: "bob")
                Issue.record("expected an apply conflict")
            } catch KubernetesError.conflict(let status) {
                #expect(status.causes.first?.field == ".spec.replicas")
            }
            let forced = try await services.apply(
                ["metadata": ["name": "churn"], "spec": ["modelName": "churn", "replicas": 3]], fieldManager: "bob", force: true)
            #expect(forced.spec.replicas == 3)
        }
    }

    @Test("watch: typed events and bookmarks, resume from a resourceVersion, 410 Gone thrown after compaction")
    func watch() async throws {
        try await Harness.with { harness in
            let namespace = try await harness.namespace("client-watch")
            let maps = Api<ConfigMap>(client: harness.client, namespace: namespace)
            let start = try await maps.list().resourceVersion
            let events = maps.watch(.init(resourceVersion: start, timeoutSeconds: 30))
            let collected = Task { () -> [String] in
                var seen: [String] = []
                for try await event in events {
                    switch event {
                    case .added(let object): seen.append("added \(object.metadata.name ?? "")")
                    case .modified(let object): seen.append("modified \(object.metadata.name ?? "")")
                    case .deleted(let object): seen.append("deleted \(object.metadata.name ?? "")")
                    case .bookmark: seen.append("bookmark")
                    }
                    if seen.count == 4 { break }
                }
                return seen
            }
            try await eventually(within: watchCloseSeconds, "the watch to register") { await harness.cluster.api.watchCount == 1 }
            _ = try await maps.create(ConfigMap(metadata: ObjectMeta(name: "w")))
            _ = try await maps.patch("w", .merge(["data": ["k": "v"]]))
            _ = try await maps.delete("w")
            await harness.cluster.api.emitBookmarks()
            #expect(try await collected.value == ["added w", "modified w", "deleted w", "bookmark"])
            try await eventually(within: watchCloseSeconds, "the finished watch to close") { await harness.cluster.api.watchCount == 0 }

            await harness.cluster.api.compactHistory()
            _ = try await maps.create(ConfigMap(metadata: ObjectMeta(name: "after")))
            do {
                for try await _ in maps.watch(.init(resourceVersion: start, timeoutSeconds: 30)) {}
                Issue.record("expected Gone")
            } catch KubernetesError.gone(let status) {
                #expect(status.code == 410)
            }
        }
    }

    @Test("listAll follows continue tokens; deletes report finalizers; cancelling a watch closes it")
    func pagingDeletionCancellation() async throws {
        try await Harness.with { harness in
            let namespace = try await harness.namespace("client-paging")
            let maps = Api<ConfigMap>(client: harness.client, namespace: namespace)
            for index in 0..<25 { _ = try await maps.create(ConfigMap(metadata: ObjectMeta(name: "cm-\(index)"))) }
            let all = try await maps.listAll(pageSize: 7)
            #expect(all.items.count == 25)
            var held = ConfigMap(metadata: ObjectMeta(name: "held"))
            held.metadata.finalizers = ["example.com/hold"]
            _ = try await maps.create(held)
            guard case .pending(let pending) = try await maps.delete("held", .init(propagation: .foreground)) else {
                Issue.record("expected the delete to wait for finalizers")
                return
            }
            #expect(pending.metadata.deletionTimestamp != nil)
            let watching = Task { for try await _ in maps.watch(.init(timeoutSeconds: 300)) {} }
            try await eventually(within: watchCloseSeconds, "the watch to open") { await harness.cluster.api.watchCount == 1 }
            watching.cancel()
            try await eventually(within: watchCloseSeconds, "the cancelled watch to close on the server") { await harness.cluster.api.watchCount == 0 }
        }
    }

    @Test("a rotated token file is picked up after the server refuses the old token")
    func tokenFileRotation() async throws {
        try await Harness.with(.token) { harness in
            let tokenPath = harness.directory.appendingPathComponent("token").path
            try "stale-token".write(toFile: tokenPath, atomically: true, encoding: .utf8)
            var configuration = harness.client.configuration
            configuration.credentials = .tokenFile(tokenPath)
            configuration.maxAttempts = 1
            let client = try KubernetesClient(configuration: configuration)
            let namespaces = Api<KubeClient.Namespace>(client: client, namespace: nil)
            do {
                _ = try await namespaces.list()
                Issue.record("expected Unauthorized with the stale token")
            } catch KubernetesError.unauthorized {}
            try harness.cluster.adminToken.write(toFile: tokenPath, atomically: true, encoding: .utf8)
            #expect(try await namespaces.list().items.contains { $0.metadata.name == "default" })
            try await client.shutdown()
        }
    }
}

/// How long the watch tests wait for the server's count of watches to change: generous,
/// because a TLS watch client that leaves is noticed only when its close_notify times out (5 s,
/// see docs/apiserver.md), and the full suite on two cores once delayed that past 30 s.
let watchCloseSeconds = 90.0
