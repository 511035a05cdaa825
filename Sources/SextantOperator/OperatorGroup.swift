import Foundation
import KubeClient
import KubeRuntime
import Logging

/// The operator for a list of watched namespaces: one `SextantOperator` (caches and
/// controllers) per namespace, since every relation between Sextant objects stays inside a
/// namespace, or one for all namespaces when the list is empty. Per-namespace caches are what
/// namespaced Roles allow: a cluster-wide list or watch would be forbidden.
public struct OperatorGroup: Sendable {
    /// One operator per watched namespace (or one for all namespaces).
    public let members: [SextantOperator]

    /// Creates the operators for `configuration.namespaces` (empty: all namespaces).
    public init(client: KubernetesClient, configuration: OperatorConfiguration, metrics: RuntimeMetrics = RuntimeMetrics(), logger: Logger) {
        let scopes: [[String]] = configuration.namespaces.isEmpty ? [[]] : configuration.namespaces.map { [$0] }
        let rolloutMetrics = RolloutMetrics(registry: metrics.registry)
        members = scopes.map { namespaces in
            var scoped = configuration
            scoped.namespaces = namespaces
            var scopedLogger = logger
            if let namespace = namespaces.first { scopedLogger[metadataKey: "watch.namespace"] = "\(namespace)" }
            return SextantOperator(client: client, configuration: scoped, metrics: metrics, rolloutMetrics: rolloutMetrics, logger: scopedLogger)
        }
    }

    /// Whether every operator's caches hold their first list.
    public var isReady: Bool { members.allSatisfy(\.isReady) }

    /// Runs every operator until cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            for member in members { group.addTask { await member.run() } }
        }
    }

    /// Watched namespaces from command-line values and the environment: each value may hold
    /// several names separated by commas; blanks are dropped, duplicates kept once, order kept.
    public static func namespaces(from values: [String]) -> [String] {
        var seen = Set<String>()
        return values.flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && seen.insert($0).inserted }
    }
}
