import Logging
import NIOCore
import NIOPosix
import Synchronization

/// kube-proxy's role for the local runtime: for every Service with a cluster IP and a selector
/// it listens on `clusterIP:port` for each TCP port and relays each accepted connection to one
/// ready pod of the Service, round robin, at `127.0.0.1:<the pod's local port>` (a local pod has
/// exactly one port, so every Service port leads to it whatever its `targetPort`). With no ready
/// pod, a connection is closed at once, as kube-proxy rejects it.
///
/// The runtime calls `sync(namespace:routes:)` whenever a namespace's Services or pods change;
/// listeners are opened, moved and closed to match, and `stop()` closes them all. Cluster IPs
/// come from a loopback range (127.96.0.0/16 by default), which Linux lets any process bind.
final class ServiceProxy: Sendable {
    /// One port of a Service's cluster IP.
    struct Frontend: Hashable, Sendable, CustomStringConvertible {
        let ip: String
        let port: Int
        var description: String { "\(ip):\(port)" }
    }

    /// What one Service needs: where it listens and the local ports of its ready pods.
    struct Route: Sendable, Equatable {
        var frontends: Set<Frontend>
        var backends: [Int]
    }

    private enum Listener {
        /// A bind is under way; the id tells a finished bind whether it is still wanted.
        case binding(Int)
        case bound(any Channel)
    }

    private struct State {
        /// Listeners by frontend, with the Service (`namespace/name`) they belong to.
        var listeners: [Frontend: (service: String, listener: Listener)] = [:]
        /// Ready pods' local ports by Service, and the round-robin position.
        var backends: [String: [Int]] = [:]
        var next: [String: Int] = [:]
        var nextBindID = 0
        var stopped = false
    }

    private let state = Mutex(State())
    private let group: any EventLoopGroup
    private let logger: Logger

    init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) {
        self.group = group
        self.logger = logger
    }

    /// Makes the listeners and backends of one namespace's Services (`routes` by Service name) current.
    func sync(namespace: String, routes: [String: Route]) async {
        let prefix = namespace + "/"
        var desired: [Frontend: String] = [:]
        for (name, route) in routes {
            for frontend in route.frontends { desired[frontend] = prefix + name }
        }
        let (toClose, toOpen) = state.withLock { state -> ([any Channel], [(Frontend, String, Int)]) in
            guard !state.stopped else { return ([], []) }
            for key in state.backends.keys where key.hasPrefix(prefix) && routes[String(key.dropFirst(prefix.count))] == nil {
                state.backends[key] = nil
                state.next[key] = nil
            }
            for (name, route) in routes { state.backends[prefix + name] = route.backends }
            var toClose: [any Channel] = []
            for (frontend, entry) in state.listeners {
                // Ours and no longer wanted, or wanted by another Service now (an address reused).
                let wanted = desired[frontend]
                guard (entry.service.hasPrefix(prefix) && wanted != entry.service) || (wanted != nil && wanted != entry.service) else { continue }
                if case .bound(let channel) = entry.listener { toClose.append(channel) }
                state.listeners[frontend] = nil
            }
            var toOpen: [(Frontend, String, Int)] = []
            for (frontend, service) in desired where state.listeners[frontend] == nil {
                state.nextBindID += 1
                state.listeners[frontend] = (service, .binding(state.nextBindID))
                toOpen.append((frontend, service, state.nextBindID))
            }
            return (toClose, toOpen)
        }
        for channel in toClose { try? await channel.close() }
        for (frontend, service, id) in toOpen { await bind(frontend, service: service, id: id) }
    }

    /// Closes every listener; later syncs do nothing.
    func stop() async {
        let channels = state.withLock { state -> [any Channel] in
            state.stopped = true
            let channels = state.listeners.values.compactMap { entry -> (any Channel)? in
                if case .bound(let channel) = entry.listener { return channel }
                return nil
            }
            state.listeners.removeAll()
            return channels
        }
        for channel in channels { try? await channel.close() }
    }

    /// The frontends currently listening (for tests).
    var listening: Set<Frontend> {
        state.withLock { state in
            Set(
                state.listeners.compactMap { frontend, entry in
                    if case .bound = entry.listener { return frontend }
                    return nil
                })
        }
    }

    // MARK: Listening and relaying

    private func bind(_ frontend: Frontend, service: String, id: Int) async {
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { [self] child in relay(child, service: service) }
                .bind(host: frontend.ip, port: frontend.port)
                .get()
            let kept = state.withLock { state -> Bool in
                guard !state.stopped, let entry = state.listeners[frontend], case .binding(id) = entry.listener else { return false }
                state.listeners[frontend] = (service, .bound(channel))
                return true
            }
            if !kept { try? await channel.close() }
        } catch {
            state.withLock { state in
                if let entry = state.listeners[frontend], case .binding(id) = entry.listener { state.listeners[frontend] = nil }
            }
            logger.warning("service proxy cannot listen", metadata: ["k8s.service": "\(service)", "address": "\(frontend)", "error": "\(error)"])
        }
    }

    /// The next ready pod's port of a Service, round robin; nil when none is ready.
    private func nextBackend(_ service: String) -> Int? {
        state.withLock { state in
            guard let ports = state.backends[service], !ports.isEmpty else { return nil }
            let index = state.next[service, default: 0] % ports.count
            state.next[service] = index + 1
            return ports[index]
        }
    }

    /// Connects an accepted connection to a pod (on the same event loop) and glues the two;
    /// a failed future makes NIO close the accepted connection (no ready pod, pod gone).
    private func relay(_ client: any Channel, service: String) -> EventLoopFuture<Void> {
        guard let port = nextBackend(service) else {
            return client.eventLoop.makeFailedFuture(NoEndpoints(service: service))
        }
        let (clientSide, podSide) = ProxyGlueHandler.matchedPair()
        let loop = client.eventLoop
        let clientHandler = NIOLoopBound(clientSide, eventLoop: loop)
        let podHandler = NIOLoopBound(podSide, eventLoop: loop)
        return ClientBootstrap(group: loop)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connectTimeout(.seconds(5))
            .channelInitializer { pod in
                pod.eventLoop.makeCompletedFuture { try pod.pipeline.syncOperations.addHandler(podHandler.value) }
            }
            .connect(host: "127.0.0.1", port: port)
            .flatMapThrowing { _ in try client.pipeline.syncOperations.addHandler(clientHandler.value) }
    }

    /// A connection arrived for a Service without ready pods.
    struct NoEndpoints: Error, CustomStringConvertible {
        let service: String
        var description: String { "service \(service) has no ready endpoints" }
    }
}
