import Foundation
import Yams

/// Reading and writing Kubernetes YAML, the way `kubectl` and `sigs.k8s.io/yaml` do:
/// YAML is only another spelling of JSON, so every document becomes a ``JSONValue``.
public enum YAML {
    /// An error in YAML text, with the position libyaml reported.
    public struct ParseError: Error, CustomStringConvertible {
        /// What went wrong, including line and column when known.
        public let description: String
    }

    /// Parses a stream of `---`-separated documents, skipping empty ones.
    public static func documents(from text: String) throws -> [JSONValue] {
        do {
            let parser = try Parser(yaml: text, resolver: .default, constructor: .default, encoding: .utf8)
            var documents: [JSONValue] = []
            while let node = try parser.nextRoot() {
                let value = try JSONValue(yamlNode: node)
                if value != .null { documents.append(value) }
            }
            return documents
        } catch let error as YamlError {
            throw ParseError(description: "invalid YAML: \(error)")
        }
    }

    /// Parses exactly one document.
    public static func document(from text: String) throws -> JSONValue {
        let all = try documents(from: text)
        guard all.count == 1 else {
            throw ParseError(description: "expected one YAML document, found \(all.count)")
        }
        return all[0]
    }

    /// Renders documents as a `---`-separated YAML stream with sorted keys.
    public static func string(from documents: [JSONValue]) throws -> String {
        try documents.map { try string(from: $0) }.joined(separator: "---\n")
    }

    /// Renders one document as YAML with sorted keys, two-space indentation and
    /// block style, quoting strings that would otherwise read back as another type.
    public static func string(from document: JSONValue) throws -> String {
        try serialize(node: document.yamlNode, indent: 2, width: -1, allowUnicode: true, sortKeys: true)
    }
}

extension JSONValue {
    /// Converts a composed YAML node, following YAML 1.1 core tag resolution as Kubernetes does;
    /// timestamps stay strings (Kubernetes carries them as RFC 3339 text).
    init(yamlNode node: Node) throws {
        switch node {
        case .scalar(let scalar):
            self = try JSONValue.scalar(scalar, tag: Tag.Name(rawValue: node.tag.rawValue))
        case .sequence(let sequence):
            self = .array(try sequence.map { try JSONValue(yamlNode: $0) })
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw YAML.ParseError(description: "mapping keys must be scalars (line \(key.mark?.line ?? 0))")
                }
                if members[keyScalar.string] != nil {
                    throw YAML.ParseError(
                        description: "duplicate key \"\(keyScalar.string)\" (line \(key.mark?.line ?? 0))")
                }
                members[keyScalar.string] = try JSONValue(yamlNode: value)
            }
            self = .object(members)
        case .alias:
            throw YAML.ParseError(description: "YAML aliases are not supported")
        }
    }

    private static func scalar(_ scalar: Node.Scalar, tag: Tag.Name) throws -> JSONValue {
        let text = scalar.string
        switch tag {
        case .null:
            return .null
        case .bool:
            return .bool(["true", "yes", "on", "y"].contains(text.lowercased()))
        case .int:
            if let value = Int64(text.replacingOccurrences(of: "_", with: "")) { return .integer(value) }
            if let value = parseRadixInteger(text) { return .integer(value) }
            if let value = Double(text) { return .number(value) }
            return .string(text)
        case .float:
            switch text.lowercased() {
            case ".inf", "+.inf": return .number(.infinity)
            case "-.inf": return .number(-.infinity)
            case ".nan": return .number(.nan)
            default: return Double(text.replacingOccurrences(of: "_", with: "")).map(JSONValue.number) ?? .string(text)
            }
        default:
            return .string(text)
        }
    }

    private static func parseRadixInteger(_ text: String) -> Int64? {
        var body = Substring(text)
        var sign: Int64 = 1
        if body.hasPrefix("-") { sign = -1; body = body.dropFirst() } else if body.hasPrefix("+") { body = body.dropFirst() }
        if body.hasPrefix("0x") { return Int64(body.dropFirst(2), radix: 16).map { $0 * sign } }
        if body.hasPrefix("0o") { return Int64(body.dropFirst(2), radix: 8).map { $0 * sign } }
        if body.hasPrefix("0"), body.count > 1 { return Int64(body.dropFirst(), radix: 8).map { $0 * sign } }
        return nil
    }

    /// The YAML node for this value; strings that would resolve to another type are quoted.
    var yamlNode: Node {
        switch self {
        case .null:
            return Node("null", Tag(.null))
        case .bool(let value):
            return Node(value ? "true" : "false", Tag(.bool))
        case .integer(let value):
            return Node(String(value), Tag(.int))
        case .number(let value):
            return Node(JSONValue.yamlNumberText(value), Tag(.float))
        case .string(let value):
            let plainResolvesToString = Resolver.default.resolveTag(of: Node(value)) == .str
            let style: Node.Scalar.Style =
                value.contains("\n") ? .literal : (plainResolvesToString ? .any : .doubleQuoted)
            return Node(value, Tag(.str), style)
        case .array(let elements):
            return Node(elements.map(\.yamlNode), Tag(.seq), .block)
        case .object(let members):
            let pairs = members.keys.sorted().map { key in (Node(key, Tag(.str)), members[key]!.yamlNode) }
            return Node(pairs, Tag(.map), .block)
        }
    }

    private static func yamlNumberText(_ value: Double) -> String {
        if value.isNaN { return ".nan" }
        if value.isInfinite { return value > 0 ? ".inf" : "-.inf" }
        if value.rounded() == value, abs(value) < 1e15 { return String(format: "%.1f", value) }
        return "\(value)"
    }
}
