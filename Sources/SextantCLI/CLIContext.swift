import Foundation
import KubeClient
import KubeCore
import SextantAPI

/// What every `kubectl sextant` command needs: a client for the chosen kubeconfig and context,
/// the namespace (flag, else the context's, else `default`), and the output format.
public struct CLIContext: Sendable {
    public enum Output: String, Sendable, CaseIterable {
        case text, json, yaml
    }

    public let client: KubernetesClient
    public let namespace: String
    public let output: Output

    public init(kubeconfig: String?, context: String?, namespace: String?, output: Output) throws {
        let paths = kubeconfig.map { [$0] }
        let configuration = try ClientConfiguration.kubeconfig(paths: paths, context: context)
        client = try KubernetesClient(configuration: configuration)
        self.namespace = namespace ?? configuration.namespace
        self.output = output
    }

    public func api<K: Resource>(_ kind: K.Type) -> Api<K> { Api<K>(client: client, namespace: namespace) }

    /// The ModelVersion of `model` numbered `version`.
    public func modelVersion(model: String, version: Int64) async throws -> ModelVersion {
        let all = try await api(ModelVersion.self).listAll().items
        guard let found = all.first(where: { $0.spec.modelName == model && $0.spec.version == version }) else {
            let known = all.filter { $0.spec.modelName == model }.map { String($0.spec.version) }.sorted()
            throw CLIError(
                "model \(model) has no version \(version) in namespace \(namespace)" + (known.isEmpty ? "" : " (versions: \(known.joined(separator: ", ")))"))
        }
        return found
    }

    /// The base URL of a Service by its cluster IP (reachable in-cluster, and in local mode).
    public func serviceURL(_ name: String) async throws -> String {
        let service = try await api(Service.self).get(name)
        guard let ip = service.spec?["clusterIP"]?.stringValue, !ip.isEmpty, ip != "None" else {
            throw CLIError("Service \(name) has no cluster IP; pass --url")
        }
        let port = service.spec?["ports"]?.arrayValue?.first?["port"]?.integerValue ?? 8080
        return "http://\(ip):\(port)"
    }

    /// Prints `value` as JSON or YAML, or `text` for people.
    public func emit(_ value: JSONValue, text: () -> String) throws {
        switch output {
        case .text: print(text())
        case .json: print(value.jsonString(pretty: true))
        case .yaml: print(try YAML.string(from: value), terminator: "")
        }
    }

    public func shutdown() async { try? await client.shutdown() }
}

/// A command failure, printed as one line.
public struct CLIError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
