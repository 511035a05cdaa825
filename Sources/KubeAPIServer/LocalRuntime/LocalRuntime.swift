import Foundation
import KubeCore
import Logging

/// The project's stand-in for kubelet, kube-proxy and the workload controllers on one machine.
///
/// - Deployments and ReplicaSets get pods (one per replica); a pod whose image is configured as
///   runnable becomes a local process on a free loopback port, its readiness probe is run against
///   that port, and its status (phase, conditions, container states, restarts) follows the process.
/// - Jobs get one pod at a time; the container's command runs locally when it is runnable here
///   (an executable on this machine, or a configured image), and the Job reports completion,
///   failure (after `backoffLimit` retries) and the termination message.
/// - Services get one EndpointSlice per ready pod, with the pod's local port, and a service
///   proxy (`ServiceProxy`) listening on their cluster IP (from 127.96.0.0/16) relays TCP
///   connections to the ready pods, round robin.
/// - Every pod's process gets `KUBECONFIG` and `KUBERNETES_SERVICE_HOST`/`_PORT`
///   (`Configuration.podEnvironment`), so in-cluster clients reach the API server.
/// - Everything else is reported honestly: a pod whose image cannot run here stays Pending with
///   a container waiting in reason `ImageNotRunnable` and a message saying why.
///
/// Local differences from a cluster: every pod's IP is 127.0.0.1 and each has its own port
/// (annotation `local.sextant.dev/endpoint`); the termination message file is given to the
/// process in `SEXTANT_TERMINATION_LOG` instead of `/dev/termination-log`; Deployments manage
/// pods directly (no ReplicaSet objects) and roll out by surging new pods before removing old.
public actor LocalRuntime {
    /// An image this machine can run, and how.
    public struct RunnableImage: Sendable {
        /// Repository without tag or digest, e.g. `ghcr.io/sextant-ml/sextant-server`.
        public var image: String
        /// The command line; the container's `args` are appended. `{port}` and `$(PORT)` in
        /// either are replaced by the pod's local port, which is also in `$PORT`.
        public var command: [String]

        public init(image: String, command: [String]) {
            self.image = image
            self.command = command
        }
    }

    /// How the runtime behaves.
    public struct Configuration: Sendable {
        public var runnableImages: [RunnableImage]
        /// Where pod working directories and logs live.
        public var directory: URL
        /// First delay before restarting a crashed container; doubles up to `maxRestartDelay`.
        public var restartDelay: Duration
        public var maxRestartDelay: Duration
        /// Variables every pod's process gets before its container's own `env` (which wins):
        /// `LocalCluster` puts `KUBECONFIG`, `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT` here.
        public var podEnvironment: [String: String]

        public init(
            runnableImages: [RunnableImage] = [], directory: URL, restartDelay: Duration = .milliseconds(200), maxRestartDelay: Duration = .seconds(10),
            podEnvironment: [String: String] = [:]
        ) {
            self.runnableImages = runnableImages
            self.directory = directory
            self.restartDelay = restartDelay
            self.maxRestartDelay = maxRestartDelay
            self.podEnvironment = podEnvironment
        }
    }

    static let nodeName = "sextant-local"
    static let endpointAnnotation = "local.sextant.dev/endpoint"
    static let managedBy = "local-runtime.sextant.dev"

    let server: APIServer
    let configuration: Configuration
    let logger: Logger
    var supervisors: [String: Task<Void, Never>] = [:]
    /// The local port of each running pod, by `namespace/name`.
    var ports: [String: Int] = [:]
    /// Listens on Services' cluster IPs and relays to their ready pods.
    nonisolated let proxy: ServiceProxy

    public init(server: APIServer, configuration: Configuration, logger: Logger) {
        self.server = server
        self.configuration = configuration
        self.logger = logger
        self.proxy = ServiceProxy(logger: logger)
    }

    var store: ObjectStore { server.store }

    /// Reacts to changes until cancelled; stops every process on the way out.
    public func run() async {
        server.setPodLogDirectory(configuration.directory)
        await resync()
        await withTaskCancellationHandler {
            for await change in await store.changes() {
                await handle(change)
            }
        } onCancel: {
            Task { await self.stopAll() }
        }
        await stopAll()
    }

    private func stopAll() async {
        await proxy.stop()
        let running = supervisors
        supervisors.removeAll()
        for (_, task) in running { task.cancel() }
        for (_, task) in running { await task.value }
    }

    /// Reconciles everything that exists (at start).
    private func resync() async {
        for (key, stored) in await store.objects(inNamespace: nil) {
            await reconcile(key: key, namespace: stored.namespace, object: stored.object, deleted: false)
        }
    }

    private func handle(_ change: Change) async {
        await reconcile(key: change.key, namespace: change.new.namespace, object: change.new.object, deleted: change.deleted)
    }

    private func reconcile(key: ResourceKey, namespace: String, object: JSONValue, deleted: Bool) async {
        let name = object["metadata"]?["name"]?.stringValue ?? ""
        switch (key.group, key.resource) {
        case ("apps", "deployments"), ("apps", "replicasets"):
            if !deleted { await reconcileWorkload(key, namespace: namespace, name: name) }
        case ("batch", "jobs"):
            if !deleted { await reconcileJob(namespace: namespace, name: name) }
        case ("", "pods"):
            await reconcilePod(namespace: namespace, name: name, deleted: deleted || object["metadata"]?["deletionTimestamp"] != nil)
            for owner in object["metadata"]?["ownerReferences"]?.arrayValue ?? [] {
                guard let ownerName = owner["name"]?.stringValue else { continue }
                switch owner["kind"]?.stringValue {
                case "Deployment": await reconcileWorkload(ResourceKey(group: "apps", resource: "deployments"), namespace: namespace, name: ownerName)
                case "ReplicaSet": await reconcileWorkload(ResourceKey(group: "apps", resource: "replicasets"), namespace: namespace, name: ownerName)
                case "Job": await reconcileJob(namespace: namespace, name: ownerName)
                default: break
                }
            }
            await reconcileEndpoints(namespace: namespace)
        case ("", "services"):
            await reconcileEndpoints(namespace: namespace)
        default:
            break
        }
    }

    // MARK: Pods

    private func reconcilePod(namespace: String, name: String, deleted: Bool) async {
        let key = "\(namespace)/\(name)"
        if deleted {
            if let task = supervisors.removeValue(forKey: key) {
                task.cancel()
                ports[key] = nil
            }
            if let stored = await store.get(BuiltinResources.pods, namespace: namespace, name: name),
                stored.object["metadata"]?["deletionTimestamp"] != nil,
                (stored.object["metadata"]?["finalizers"]?.arrayValue ?? []).isEmpty
            {
                _ = try? await store.remove(BuiltinResources.pods, namespace: namespace, name: name, expectedRevision: nil)
            }
            return
        }
        guard supervisors[key] == nil, let stored = await store.get(BuiltinResources.pods, namespace: namespace, name: name) else { return }
        let phase = stored.object["status"]?["phase"]?.stringValue
        guard phase != "Succeeded" && phase != "Failed" else { return }
        if stored.object["spec"]?["nodeName"]?.stringValue == nil {
            await updateObject(BuiltinResources.pods, namespace: namespace, name: name) { pod in
                pod = JSONValue.setting(pod, ["spec", "nodeName"], to: .string(LocalRuntime.nodeName))
            }
        }
        let supervisor = PodSupervisor(runtime: self, namespace: namespace, name: name, pod: stored.object)
        supervisors[key] = Task { await supervisor.run() }
    }

    func record(port: Int?, for namespace: String, _ name: String) {
        ports["\(namespace)/\(name)"] = port
    }

    func supervisorFinished(_ namespace: String, _ name: String) {
        supervisors["\(namespace)/\(name)"] = nil
    }

    /// The command line of a container, or why it cannot run here.
    func commandLine(for container: JSONValue, port: Int?) -> Result<[String], RuntimeRefusal> {
        let image = container["image"]?.stringValue ?? ""
        let command = container["command"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let args = container["args"]?.arrayValue?.compactMap(\.stringValue) ?? []
        var argv: [String]
        if let configured = configuration.runnableImages.first(where: { $0.image == LocalRuntime.repository(of: image) }) {
            argv = (command.isEmpty ? configured.command : command) + args
        } else if let first = command.first, LocalProcess.resolve(first) != nil {
            argv = command + args
        } else {
            let known = configuration.runnableImages.map(\.image).joined(separator: ", ")
            return .failure(
                RuntimeRefusal(
                    message:
                        "image \(image) cannot run on this machine: only \(known.isEmpty ? "no images" : known) and commands of locally installed executables run in local mode"
                ))
        }
        if let port {
            argv = argv.map { $0.replacingOccurrences(of: "{port}", with: String(port)).replacingOccurrences(of: "$(PORT)", with: String(port)) }
        }
        guard let executable = LocalProcess.resolve(argv[0]) else {
            return .failure(RuntimeRefusal(message: "\(argv[0]) is not an executable on this machine"))
        }
        argv[0] = executable
        return .success(argv)
    }

    /// `ghcr.io/sextant-ml/sextant-server:1.0` → `ghcr.io/sextant-ml/sextant-server`.
    public static func repository(of image: String) -> String {
        var repository = image.split(separator: "@").first.map(String.init) ?? image
        if let colon = repository.lastIndex(of: ":"), !repository[colon...].contains("/") { repository = String(repository[..<colon]) }
        return repository
    }

    // MARK: Writes

    /// Reads, changes and writes back an object, retrying on conflicts. Returns the stored object.
    @discardableResult
    func updateObject(_ type: ResourceType, namespace: String, name: String, _ change: (inout JSONValue) -> Void) async -> JSONValue? {
        for _ in 0..<10 {
            guard let current = await store.get(type, namespace: namespace, name: name) else { return nil }
            var object = current.object
            change(&object)
            if object == current.object { return current.object }
            do {
                return try await store.replace(type, object, expectedRevision: current.revision).object
            } catch .conflict {
                continue
            } catch {
                return nil
            }
        }
        return nil
    }

    /// Creates an object through the server's admission (defaults, identity, validation).
    func createObject(_ type: ResourceType, namespace: String, _ object: JSONValue) async {
        do {
            let admitted = try Admission(type: type).prepareForCreate(object, namespace: namespace, fieldValidation: .ignore, now: .now())
            let stored = ManagedFields.recordUpdate(
                admitted.object, old: nil, manager: LocalRuntime.managedBy, operation: "Update", subresource: nil, type: type)
            _ = try await store.create(type, stored)
        } catch {
            logger.warning("local runtime could not create \(type.kind)", metadata: ["error": "\(error)"])
        }
    }

    func delete(_ type: ResourceType, namespace: String, name: String) async {
        _ = try? await store.remove(type, namespace: namespace, name: name, expectedRevision: nil)
    }

    /// Pods in a namespace owned by the object with `uid`.
    func ownedPods(namespace: String, uid: String) async -> [JSONValue] {
        await store.objects(inNamespace: namespace)
            .filter { $0.0 == BuiltinResources.pods.key }
            .map(\.1.object)
            .filter { pod in (pod["metadata"]?["ownerReferences"]?.arrayValue ?? []).contains { $0["uid"]?.stringValue == uid } }
            .sorted { ($0["metadata"]?["name"]?.stringValue ?? "") < ($1["metadata"]?["name"]?.stringValue ?? "") }
    }

    static func ownerReference(_ owner: JSONValue) -> JSONValue {
        [
            "apiVersion": owner["apiVersion"] ?? "", "kind": owner["kind"] ?? "", "name": owner["metadata"]?["name"] ?? "",
            "uid": owner["metadata"]?["uid"] ?? "", "controller": true, "blockOwnerDeletion": true,
        ]
    }

    static func isReady(_ pod: JSONValue) -> Bool {
        (pod["status"]?["conditions"]?.arrayValue ?? []).contains { $0["type"] == "Ready" && $0["status"] == "True" }
    }
}

/// Why a container cannot run on this machine.
struct RuntimeRefusal: Error, Sendable {
    let message: String
}

extension BuiltinResources {
    static let pods = all.first { $0.resource == "pods" }!
    static let jobs = all.first { $0.resource == "jobs" }!
    static let services = all.first { $0.resource == "services" && $0.group.isEmpty }!
    static let endpointSlices = all.first { $0.resource == "endpointslices" }!
}
