import KubeCore

/// Field ownership (`metadata.managedFields`): which manager set which fields, so server-side
/// apply can merge configurations and report conflicts between managers.
enum ManagedFields {
    struct Entry {
        var manager: String
        var operation: String
        var apiVersion: String
        var time: String
        var subresource: String?
        var fields: FieldSet

        init(manager: String, operation: String, apiVersion: String, time: String, subresource: String?, fields: FieldSet) {
            self.manager = manager
            self.operation = operation
            self.apiVersion = apiVersion
            self.time = time
            self.subresource = subresource
            self.fields = fields
        }

        init?(_ json: JSONValue) {
            guard let manager = json["manager"]?.stringValue, let operation = json["operation"]?.stringValue else { return nil }
            self.manager = manager
            self.operation = operation
            apiVersion = json["apiVersion"]?.stringValue ?? ""
            time = json["time"]?.stringValue ?? ""
            subresource = json["subresource"]?.stringValue
            fields = FieldSet(fieldsV1: json["fieldsV1"] ?? [:])
        }

        var json: JSONValue {
            var entry: JSONValue = [
                "manager": .string(manager), "operation": .string(operation), "apiVersion": .string(apiVersion),
                "time": .string(time), "fieldsType": "FieldsV1", "fieldsV1": fields.fieldsV1,
            ]
            if let subresource { entry["subresource"] = .string(subresource) }
            return entry
        }

        func isSame(manager: String, operation: String, subresource: String?) -> Bool {
            self.manager == manager && self.operation == operation && self.subresource == subresource
        }
    }

    static func entries(of object: JSONValue) -> [Entry] {
        (object["metadata"]?["managedFields"]?.arrayValue ?? []).compactMap(Entry.init)
    }

    static func setting(_ entries: [Entry], on object: JSONValue) -> JSONValue {
        var copy = object
        let kept = entries.filter { !$0.fields.paths.isEmpty }
        copy["metadata"]?["managedFields"] = kept.isEmpty ? nil : .array(kept.map(\.json))
        return copy
    }

    /// Records an Update: the manager takes ownership of every field it changed; fields it
    /// removed are owned by nobody any more.
    static func recordUpdate(_ new: JSONValue, old: JSONValue?, manager: String, operation: String, subresource: String?, type: ResourceType) -> JSONValue {
        let isStatus = subresource == "status"
        let newFields = FieldSet.of(new, type: type, status: isStatus)
        let oldFields = old.map { FieldSet.of($0, type: type, status: isStatus) } ?? FieldSet()
        let changed = newFields.paths.filter { path in
            old.map { FieldSet.value(at: path, in: $0) != FieldSet.value(at: path, in: new) } ?? true
        }
        let removed = oldFields.paths.subtracting(newFields.paths)
        var entries = entries(of: old ?? new)
        guard !changed.isEmpty || !removed.isEmpty else { return setting(entries, on: new) }
        for index in entries.indices {
            entries[index].fields.paths.subtract(removed)
            if !entries[index].isSame(manager: manager, operation: operation, subresource: subresource) {
                entries[index].fields.paths.subtract(changed)
            }
        }
        let now = KubeTime.now().description
        if let index = entries.firstIndex(where: { $0.isSame(manager: manager, operation: operation, subresource: subresource) }) {
            entries[index].fields.paths.formUnion(changed)
            entries[index].time = now
            entries[index].apiVersion = type.groupVersion
        } else {
            entries.append(
                Entry(
                    manager: manager, operation: operation, apiVersion: type.groupVersion, time: now, subresource: subresource,
                    fields: FieldSet(paths: Set(changed))))
        }
        return setting(entries, on: new)
    }

    /// A conflict between an applied value and another manager's.
    struct Conflict {
        var manager: String
        var apiVersion: String
        var path: ManagedPath
    }

    /// Server-side apply: merges `applied` into `current` (nil when the object does not exist
    /// yet), takes ownership of the applied fields, removes fields this manager applied before
    /// and no longer does (unless someone else owns them), and reports conflicts unless `force`.
    static func apply(_ applied: JSONValue, to current: JSONValue?, manager: String, force: Bool, subresource: String?, type: ResourceType) throws -> JSONValue
    {
        let isStatus = subresource == "status"
        let appliedFields = FieldSet.of(applied, type: type, status: isStatus)
        var entries = current.map(entries(of:)) ?? []
        if let current {
            var conflicts: [Conflict] = []
            for entry in entries where entry.manager != manager && entry.subresource == subresource {
                for path in entry.fields.paths.intersection(appliedFields.paths) {
                    if let existing = FieldSet.value(at: path, in: current), existing != FieldSet.value(at: path, in: applied),
                        !(existing.objectValue != nil && path.last.map { if case .key = $0 { true } else { false } } == true)
                    {
                        conflicts.append(Conflict(manager: entry.manager, apiVersion: entry.apiVersion, path: path))
                    }
                }
            }
            if !conflicts.isEmpty && !force { throw conflictError(conflicts, type: type, name: current["metadata"]?["name"]?.stringValue ?? "") }
            for conflict in conflicts {
                for index in entries.indices where entries[index].manager == conflict.manager {
                    entries[index].fields.paths.remove(conflict.path)
                }
            }
        }
        var merged = merge(current ?? [:], applied, schema: type.schema, fieldName: nil)
        let previous = entries.first { $0.isSame(manager: manager, operation: "Apply", subresource: subresource) }?.fields ?? FieldSet()
        let others = entries.filter { !$0.isSame(manager: manager, operation: "Apply", subresource: subresource) }
            .reduce(into: Set<ManagedPath>()) { $0.formUnion($1.fields.paths) }
        for path in previous.paths.subtracting(appliedFields.paths).subtracting(others).sorted(by: { $0.count > $1.count }) {
            merged = FieldSet.removing(path, from: merged)
        }
        let now = KubeTime.now().description
        entries.removeAll { $0.isSame(manager: manager, operation: "Apply", subresource: subresource) }
        entries.insert(
            Entry(manager: manager, operation: "Apply", apiVersion: type.groupVersion, time: now, subresource: subresource, fields: appliedFields), at: 0)
        return setting(entries, on: merged)
    }

    /// Structural merge: objects member by member, keyed lists item by item, sets by union,
    /// everything else replaced by the applied value.
    static func merge(_ current: JSONValue, _ applied: JSONValue, schema: JSONSchemaProps?, fieldName: String?) -> JSONValue {
        switch (current, applied) {
        case (.object(var members), .object(let appliedMembers)):
            for (name, value) in appliedMembers {
                let childSchema =
                    schema?.properties?[name]
                    ?? {
                        if case .schema(let values)? = schema?.additionalProperties { return values }
                        return nil
                    }()
                if let existing = members[name] {
                    members[name] = merge(existing, value, schema: childSchema, fieldName: name)
                } else {
                    members[name] = value
                }
            }
            return .object(members)
        case (.array(let items), .array(let appliedItems)):
            switch FieldSet.listKind(schema: schema, fieldName: fieldName ?? "", items: items + appliedItems) {
            case .atomic:
                return applied
            case .set:
                return .array(items + appliedItems.filter { !items.contains($0) })
            case .map(let keys):
                var result = items
                for item in appliedItems {
                    let identity = FieldSet.identity(item, keys)
                    if let index = result.firstIndex(where: { FieldSet.identity($0, keys) == identity }) {
                        result[index] = merge(result[index], item, schema: schema?.items, fieldName: nil)
                    } else {
                        result.append(item)
                    }
                }
                return .array(result)
            }
        default:
            return applied
        }
    }

    /// `Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas`
    static func conflictError(_ conflicts: [Conflict], type: ResourceType, name: String) -> APIError {
        let sorted = conflicts.sorted { FieldSet.display($0.path) < FieldSet.display($1.path) }
        let message: String
        if sorted.count == 1, let only = sorted.first {
            message = "Apply failed with 1 conflict: conflict with \"\(only.manager)\" using \(only.apiVersion): \(FieldSet.display(only.path))"
        } else {
            let byManager = Dictionary(grouping: sorted) { "\($0.manager)\u{0}\($0.apiVersion)" }
            let parts = byManager.keys.sorted().map { key -> String in
                let items = byManager[key]!
                return "conflicts with \"\(items[0].manager)\" using \(items[0].apiVersion):\n"
                    + items.map { "- \(FieldSet.display($0.path))" }.joined(separator: "\n")
            }
            message = "Apply failed with \(sorted.count) conflicts: " + parts.joined(separator: "\n")
        }
        let causes: [JSONValue] = sorted.map {
            [
                "reason": "FieldManagerConflict", "message": .string("conflict with \"\($0.manager)\" using \($0.apiVersion)"),
                "field": .string(FieldSet.display($0.path)),
            ]
        }
        return APIError(code: 409, reason: "Conflict", message: message, details: APIError.details(type, name: name, causes: causes))
    }
}

extension FieldSet {
    init(paths: Set<ManagedPath>) {
        self.init()
        self.paths = paths
    }
}
