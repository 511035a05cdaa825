import KubeCore

/// The patch formats of `PATCH`, chosen by the request's content type.
enum PatchKind: Equatable {
    case merge, json, strategic, apply

    init(contentType: String, type: ResourceType) throws {
        switch contentType {
        case "application/merge-patch+json": self = .merge
        case "application/json-patch+json": self = .json
        case "application/strategic-merge-patch+json":
            guard !type.isCustom else {
                throw APIError(
                    code: 415, reason: "UnsupportedMediaType",
                    message:
                        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
                )
            }
            self = .strategic
        case "application/apply-patch+yaml", "application/apply-patch+json": self = .apply
        default: throw APIError.unsupportedMediaType(contentType)
        }
    }
}

/// JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch.
enum Patches {
    static func apply(_ kind: PatchKind, _ patch: JSONValue, to object: JSONValue, type: ResourceType) throws -> JSONValue {
        switch kind {
        case .merge: return mergePatch(object, patch)
        case .json: return try jsonPatch(object, patch)
        case .strategic: return strategicMerge(object, patch, field: nil) ?? [:]
        case .apply: throw APIError.internalError("server-side apply is not a plain patch")
        }
    }

    // MARK: RFC 7386

    static func mergePatch(_ target: JSONValue, _ patch: JSONValue) -> JSONValue {
        guard case .object(let patchMembers) = patch else { return patch }
        var result = target.objectValue ?? [:]
        for (key, value) in patchMembers {
            if value == .null {
                result[key] = nil
            } else {
                result[key] = mergePatch(result[key] ?? .null, value)
            }
        }
        return .object(result)
    }

    // MARK: RFC 6902

    static func jsonPatch(_ document: JSONValue, _ patch: JSONValue) throws -> JSONValue {
        guard let operations = patch.arrayValue else {
            throw APIError.badRequest("a JSON patch must be an array of operations")
        }
        var result = document
        for (index, operation) in operations.enumerated() {
            guard let op = operation["op"]?.stringValue, let path = operation["path"]?.stringValue else {
                throw APIError.badRequest("JSON patch operation \(index) needs \"op\" and \"path\"")
            }
            let pointer = try JSONPointer(path)
            switch op {
            case "add":
                result = try pointer.adding(try value(operation, index), to: result)
            case "remove":
                result = try pointer.removing(from: result)
            case "replace":
                _ = try pointer.value(in: result)
                result = try pointer.removing(from: result)
                result = try pointer.adding(try value(operation, index), to: result)
            case "move", "copy":
                guard let from = operation["from"]?.stringValue else { throw APIError.badRequest("JSON patch operation \(index) (\(op)) needs \"from\"") }
                let source = try JSONPointer(from)
                let moved = try source.value(in: result)
                if op == "move" { result = try source.removing(from: result) }
                result = try pointer.adding(moved, to: result)
            case "test":
                let actual = try pointer.value(in: result)
                guard actual == (try value(operation, index)) else {
                    throw APIError(
                        code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: testing value \(path) failed")
                }
            default:
                throw APIError.badRequest("unknown JSON patch operation \"\(op)\"")
            }
        }
        return result
    }

    private static func value(_ operation: JSONValue, _ index: Int) throws -> JSONValue {
        guard let value = operation["value"] else { throw APIError.badRequest("JSON patch operation \(index) needs \"value\"") }
        return value
    }

    // MARK: Strategic merge patch

    /// Lists merged by a key instead of replaced, as the built-in types declare with `patchMergeKey`.
    static func mergeKey(for field: String?, items: [JSONValue]) -> String? {
        switch field ?? "" {
        case "containers", "initContainers", "ephemeralContainers", "volumes", "env", "imagePullSecrets": return "name"
        case "volumeMounts": return "mountPath"
        case "volumeDevices": return "devicePath"
        case "conditions": return "type"
        case "ownerReferences": return "uid"
        case "hostAliases": return "ip"
        case "ports": return items.contains { $0["containerPort"] != nil } ? "containerPort" : "port"
        default: return nil
        }
    }

    /// Primitive lists merged as sets.
    static let primitiveMergeLists: Set<String> = ["finalizers"]

    /// Applies a strategic merge patch; nil means the patch deleted the value.
    static func strategicMerge(_ original: JSONValue?, _ patch: JSONValue, field: String?) -> JSONValue? {
        guard case .object(let patchMembers) = patch else { return patch }
        switch patchMembers["$patch"]?.stringValue {
        case "replace": return stripDirectives(patch)
        case "delete": return nil
        default: break
        }
        var result = original?.objectValue ?? [:]
        var orders: [String: [JSONValue]] = [:]
        for (key, value) in patchMembers {
            if key == "$patch" || key == "$retainKeys" { continue }
            if key.hasPrefix("$setElementOrder/") {
                orders[String(key.dropFirst("$setElementOrder/".count))] = value.arrayValue ?? []
                continue
            }
            if key.hasPrefix("$deleteFromPrimitiveList/") {
                let list = String(key.dropFirst("$deleteFromPrimitiveList/".count))
                let removals = value.arrayValue ?? []
                if let current = result[list]?.arrayValue { result[list] = .array(current.filter { !removals.contains($0) }) }
                continue
            }
            if value == .null {
                result[key] = nil
            } else if case .object = value, case .object? = result[key] {
                result[key] = strategicMerge(result[key], value, field: key)
            } else if case .array(let patchItems) = value, case .array(let originalItems)? = result[key] {
                result[key] = .array(mergeList(originalItems, patchItems, field: key))
            } else {
                result[key] = stripDirectives(value)
            }
        }
        if let retain = patchMembers["$retainKeys"]?.arrayValue?.compactMap(\.stringValue) {
            result = result.filter { retain.contains($0.key) }
        }
        for (list, order) in orders {
            guard let items = result[list]?.arrayValue else { continue }
            result[list] = .array(ordered(items, by: order, key: mergeKey(for: list, items: items)))
        }
        return .object(result)
    }

    private static func mergeList(_ original: [JSONValue], _ patch: [JSONValue], field: String) -> [JSONValue] {
        if patch.contains(where: { $0["$patch"]?.stringValue == "replace" }) {
            return patch.filter { $0["$patch"] == nil }.map(stripDirectives)
        }
        if let key = mergeKey(for: field, items: original + patch) {
            var result = original
            for item in patch {
                let identity = item[key]
                let index = result.firstIndex { $0[key] == identity }
                if item["$patch"]?.stringValue == "delete" {
                    if let index { result.remove(at: index) }
                } else if let index {
                    result[index] = strategicMerge(result[index], item, field: nil) ?? result[index]
                } else {
                    result.append(stripDirectives(item))
                }
            }
            return result
        }
        if primitiveMergeLists.contains(field) {
            return original + patch.filter { !original.contains($0) }
        }
        return patch.map(stripDirectives)
    }

    private static func ordered(_ items: [JSONValue], by order: [JSONValue], key: String?) -> [JSONValue] {
        func identity(_ item: JSONValue) -> JSONValue { key.flatMap { item[$0] } ?? item }
        let orderIdentities = order.map { item in key.flatMap { item[$0] } ?? item }
        let listed = orderIdentities.compactMap { wanted in items.first { identity($0) == wanted } }
        let unlisted = items.filter { item in !orderIdentities.contains(identity(item)) }
        return listed + unlisted
    }

    static func stripDirectives(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            return .object(members.filter { !$0.key.hasPrefix("$") }.mapValues(stripDirectives))
        case .array(let items):
            return .array(items.map(stripDirectives))
        default:
            return value
        }
    }
}

/// A JSON pointer (RFC 6901): `/spec/containers/0/image`, `~1` for '/', `~0` for '~', `-` to append.
struct JSONPointer {
    let tokens: [String]

    init(_ text: String) throws {
        guard text.isEmpty || text.hasPrefix("/") else { throw APIError.badRequest("JSON pointer \"\(text)\" must start with '/'") }
        tokens = text.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            .map { $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~") }
    }

    func value(in document: JSONValue) throws -> JSONValue {
        var current = document
        for token in tokens {
            switch current {
            case .object(let members):
                guard let next = members[token] else { throw missing() }
                current = next
            case .array(let items):
                guard let index = Int(token), items.indices.contains(index) else { throw missing() }
                current = items[index]
            default:
                throw missing()
            }
        }
        return current
    }

    func adding(_ value: JSONValue, to document: JSONValue) throws -> JSONValue {
        try modify(document, tokens[...]) { parent, last in
            switch parent {
            case .object(var members):
                members[last] = value
                return .object(members)
            case .array(var items):
                if last == "-" { items.append(value); return .array(items) }
                guard let index = Int(last), index >= 0, index <= items.count else { throw missing() }
                items.insert(value, at: index)
                return .array(items)
            default:
                throw missing()
            }
        }
    }

    func removing(from document: JSONValue) throws -> JSONValue {
        try modify(document, tokens[...]) { parent, last in
            switch parent {
            case .object(var members):
                guard members.removeValue(forKey: last) != nil else { throw missing() }
                return .object(members)
            case .array(var items):
                guard let index = Int(last), items.indices.contains(index) else { throw missing() }
                items.remove(at: index)
                return .array(items)
            default:
                throw missing()
            }
        }
    }

    private func modify(_ document: JSONValue, _ rest: ArraySlice<String>, _ change: (JSONValue, String) throws -> JSONValue) throws -> JSONValue {
        guard let first = rest.first else { throw APIError.badRequest("JSON patch cannot replace the whole document") }
        if rest.count == 1 { return try change(document, first) }
        switch document {
        case .object(var members):
            guard let child = members[first] else { throw missing() }
            members[first] = try modify(child, rest.dropFirst(), change)
            return .object(members)
        case .array(var items):
            guard let index = Int(first), items.indices.contains(index) else { throw missing() }
            items[index] = try modify(items[index], rest.dropFirst(), change)
            return .array(items)
        default:
            throw missing()
        }
    }

    private func missing() -> APIError {
        APIError(
            code: 422, reason: "Invalid",
            message: "the server rejected our request due to an error in our request: path /\(tokens.joined(separator: "/")) does not exist")
    }
}
