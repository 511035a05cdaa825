/// Where `sextant-server route` reads its routing table.
public enum RoutingTableSource: Sendable, Equatable {
    /// A JSON file, polled for changes (`--table`).
    case file(path: String)
    /// One key of a ConfigMap, read and watched through the Kubernetes API (`--table-configmap`).
    case configMap(ConfigMapTableReference)

    /// The source named by the command line: exactly one of `file` (`--table`) and
    /// `configMap` (`--table-configmap NAMESPACE/NAME`, with `--table-key`).
    public static func fromOptions(file: String?, configMap: String?, key: String) throws -> RoutingTableSource {
        switch (file, configMap) {
        case (let path?, nil): return .file(path: path)
        case (nil, let reference?): return .configMap(try ConfigMapTableReference(parsing: reference, key: key))
        case (_?, _?): throw RouterError("give either --table or --table-configmap, not both")
        case (nil, nil): throw RouterError("a routing table is required: give --table FILE or --table-configmap NAMESPACE/NAME")
        }
    }
}

/// The ConfigMap key that holds a routing table.
public struct ConfigMapTableReference: Sendable, Equatable, CustomStringConvertible {
    /// The key used when none is given.
    public static let defaultKey = "routes.json"

    public var namespace: String
    public var name: String
    /// The key of `data` (or `binaryData`) whose value is the routing table JSON.
    public var key: String

    /// A reference to `key` of ConfigMap `namespace/name`.
    public init(namespace: String, name: String, key: String = defaultKey) {
        self.namespace = namespace
        self.name = name
        self.key = key
    }

    /// Parses `NAMESPACE/NAME`.
    public init(parsing text: String, key: String = defaultKey) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw RouterError("--table-configmap must be NAMESPACE/NAME, got '\(text)'")
        }
        guard !key.isEmpty else { throw RouterError("--table-key must not be empty") }
        self.init(namespace: String(parts[0]), name: String(parts[1]), key: key)
    }

    /// `namespace/name`.
    public var description: String { "\(namespace)/\(name)" }
}
