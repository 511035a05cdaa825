import Foundation
import KubeCore

/// One step of a managed-field path, as `FieldsV1` spells it: `f:name` for an object member,
/// `k:{"name":"app"}` for a list item identified by its keys, `v:"x"` for a member of a set.
enum PathElement: Hashable, Sendable {
    case field(String)
    case key(JSONValue)
    case value(JSONValue)

    var fieldsV1Key: String {
        switch self {
        case .field(let name): "f:\(name)"
        case .key(let key): "k:\(key.jsonString())"
        case .value(let value): "v:\(value.jsonString())"
        }
    }

    init?(fieldsV1Key key: String) {
        if key.hasPrefix("f:") { self = .field(String(key.dropFirst(2))); return }
        if key.hasPrefix("k:"), let value = try? JSONValue(parsing: Data(key.dropFirst(2).utf8)) { self = .key(value); return }
        if key.hasPrefix("v:"), let value = try? JSONValue(parsing: Data(key.dropFirst(2).utf8)) { self = .value(value); return }
        return nil
    }

    /// How the path reads in a conflict message: `.spec.replicas`, `[name="app"]`.
    var display: String {
        switch self {
        case .field(let name): ".\(name)"
        case .key(let key):
            "[" + (key.objectValue ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.jsonString())" }.joined(separator: ",") + "]"
        case .value(let value): "[\(value.jsonString())]"
        }
    }
}

typealias ManagedPath = [PathElement]

/// How a list merges: replaced whole, merged by key fields, or treated as a set.
enum ListKind: Equatable {
    case atomic
    case map([String])
    case set
}

/// The set of fields an object (or an applied configuration) specifies, with the list rules of
/// its kind: the CRD schema's `x-kubernetes-list-type`, or the built-in types' merge keys.
struct FieldSet: Equatable, Sendable {
    var paths: Set<ManagedPath> = []

    /// The leaf fields of `object`, restricted to what field management tracks: spec-like
    /// content, labels, annotations, finalizers and owner references; status only when asked.
    static func of(_ object: JSONValue, type: ResourceType, status: Bool) -> FieldSet {
        var set = FieldSet()
        guard let members = object.objectValue else { return set }
        for (name, value) in members {
            switch name {
            case "apiVersion", "kind": continue
            case "metadata":
                for field in ["labels", "annotations", "finalizers", "ownerReferences"] {
                    guard let member = value[field] else { continue }
                    set.collect(member, path: [.field("metadata"), .field(field)], schema: nil, fieldName: field)
                }
            case "status" where !status && type.hasStatus:
                continue
            default:
                if status && name != "status" { continue }
                set.collect(value, path: [.field(name)], schema: type.schema?.properties?[name], fieldName: name)
            }
        }
        return set
    }

    private mutating func collect(_ value: JSONValue, path: ManagedPath, schema: JSONSchemaProps?, fieldName: String) {
        switch value {
        case .object(let members) where schema?.preserveUnknownFields != true || !(schema?.properties ?? [:]).isEmpty:
            if members.isEmpty { paths.insert(path); return }
            for (name, member) in members {
                let childSchema =
                    schema?.properties?[name]
                    ?? schema.flatMap { schema -> JSONSchemaProps? in
                        if case .schema(let values) = schema.additionalProperties { return values }
                        return nil
                    }
                collect(member, path: path + [.field(name)], schema: childSchema, fieldName: name)
            }
        case .array(let items):
            switch FieldSet.listKind(schema: schema, fieldName: fieldName, items: items) {
            case .atomic:
                paths.insert(path)
            case .set:
                if items.isEmpty { paths.insert(path) }
                for item in items { paths.insert(path + [.value(item)]) }
            case .map(let keys):
                if items.isEmpty { paths.insert(path) }
                for item in items {
                    let itemPath = path + [.key(FieldSet.identity(item, keys))]
                    paths.insert(itemPath)
                    for (name, member) in item.objectValue ?? [:] where !keys.contains(name) {
                        collect(member, path: itemPath + [.field(name)], schema: schema?.items?.properties?[name], fieldName: name)
                    }
                    for key in keys where item[key] != nil { paths.insert(itemPath + [.field(key)]) }
                }
            }
        default:
            paths.insert(path)
        }
    }

    static func listKind(schema: JSONSchemaProps?, fieldName: String, items: [JSONValue]) -> ListKind {
        if let schema {
            switch schema.listType {
            case "map": return .map(schema.listMapKeys ?? [])
            case "set": return .set
            default: return .atomic
            }
        }
        if let key = Patches.mergeKey(for: fieldName, items: items) { return .map([key]) }
        if Patches.primitiveMergeLists.contains(fieldName) { return .set }
        return .atomic
    }

    static func identity(_ item: JSONValue, _ keys: [String]) -> JSONValue {
        .object(Dictionary(uniqueKeysWithValues: keys.compactMap { key in item[key].map { (key, $0) } }))
    }

    // MARK: FieldsV1

    /// The `fieldsV1` tree: nested objects keyed `f:`/`k:`/`v:`; an owned node with children
    /// also carries `".": {}`.
    var fieldsV1: JSONValue {
        var root = TrieNode()
        for path in paths { root.insert(path[...]) }
        return root.json
    }

    private struct TrieNode {
        var owned = false
        var children: [String: TrieNode] = [:]

        mutating func insert(_ path: ArraySlice<PathElement>) {
            guard let first = path.first else {
                owned = true
                return
            }
            children[first.fieldsV1Key, default: TrieNode()].insert(path.dropFirst())
        }

        var json: JSONValue {
            var members = children.mapValues(\.json)
            if owned && !children.isEmpty { members["."] = [:] }
            return .object(members)
        }
    }

    /// Reads a `fieldsV1` tree back into a set.
    init(fieldsV1: JSONValue) {
        paths = Set(FieldSet.paths(in: fieldsV1).filter { !$0.isEmpty })
    }

    init() {}

    private static func paths(in node: JSONValue) -> [ManagedPath] {
        guard let members = node.objectValue, !members.isEmpty else { return [[]] }
        var result: [ManagedPath] = []
        for (key, child) in members {
            if key == "." { result.append([]); continue }
            guard let element = PathElement(fieldsV1Key: key) else { continue }
            result += paths(in: child).map { [element] + $0 }
        }
        return result
    }

    // MARK: Values at paths

    /// The value at a path, or nil when the object does not have it.
    static func value(at path: ManagedPath, in object: JSONValue) -> JSONValue? {
        var current: JSONValue? = object
        for element in path {
            guard let node = current else { return nil }
            switch element {
            case .field(let name): current = node[name]
            case .key(let key):
                let keys = key.objectValue ?? [:]
                current = node.arrayValue?.first { item in keys.allSatisfy { item[$0.key] == $0.value } }
            case .value(let value):
                current = node.arrayValue?.contains(value) == true ? value : nil
            }
        }
        return current
    }

    /// The object without the value at `path` (a member, keyed item or set value).
    static func removing(_ path: ManagedPath, from object: JSONValue) -> JSONValue {
        guard let first = path.first else { return object }
        let rest = Array(path.dropFirst())
        switch (first, object) {
        case (.field(let name), .object(var members)):
            if rest.isEmpty { members[name] = nil } else if let child = members[name] { members[name] = removing(rest, from: child) }
            return .object(members)
        case (.key(let key), .array(var items)):
            let keys = key.objectValue ?? [:]
            guard let index = items.firstIndex(where: { item in keys.allSatisfy { item[$0.key] == $0.value } }) else { return object }
            if rest.isEmpty { items.remove(at: index) } else { items[index] = removing(rest, from: items[index]) }
            return .array(items)
        case (.value(let value), .array(let items)):
            return .array(items.filter { $0 != value })
        default:
            return object
        }
    }

    static func display(_ path: ManagedPath) -> String {
        path.map(\.display).joined()
    }
}
