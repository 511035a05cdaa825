import Foundation
import KubeCore

/// Builds `meta.k8s.io/v1` Tables, what `kubectl get` prints: printer columns for custom
/// resources, the familiar columns for built-in kinds, and Name/Age otherwise.
enum TableConverter {
    struct Column {
        let name: String
        let type: String
        let description: String
        let priority: Int
        let cell: (JSONValue) -> JSONValue
    }

    static func table(_ type: ResourceType, objects: [JSONValue], revision: Int64?, include: TableRequest.Include) -> JSONValue {
        let columns = self.columns(for: type)
        var table: JSONValue = ["kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": revision.map { ["resourceVersion": .string(String($0))] } ?? [:]]
        table["columnDefinitions"] = .array(
            columns.map { column in
                [
                    "name": .string(column.name), "type": .string(column.type), "format": column.name == "Name" ? "name" : "",
                    "description": .string(column.description), "priority": .integer(Int64(column.priority)),
                ]
            })
        table["rows"] = .array(
            objects.map { object in
                var row: JSONValue = ["cells": .array(columns.map { $0.cell(object) })]
                switch include {
                case .none: break
                case .object: row["object"] = object
                case .metadata:
                    row["object"] = ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"] ?? [:]]
                }
                return row
            })
        return table
    }

    static func columns(for type: ResourceType) -> [Column] {
        let nameColumn = Column(name: "Name", type: "string", description: "Name must be unique within a namespace.", priority: 0) {
            $0["metadata"]?["name"] ?? ""
        }
        let ageColumn = Column(name: "Age", type: "string", description: "Time since the object was created.", priority: 0) {
            Self.age($0["metadata"]?["creationTimestamp"])
        }
        if type.isCustom {
            if type.printerColumns.isEmpty {
                return [nameColumn, ageColumn]
            }
            return [nameColumn]
                + type.printerColumns.map { column in
                    Column(name: column.name, type: column.type, description: column.description ?? "", priority: column.priority ?? 0) { object in
                        let values = SimpleJSONPath.evaluate(column.jsonPath, in: object)
                        guard let first = values.first else { return .null }
                        if column.type == "date" { return Self.age(first) }
                        if values.count > 1 { return .string(values.map { $0.stringValue ?? $0.jsonString() }.joined(separator: ",")) }
                        return first
                    }
                }
        }
        func string(_ name: String, priority: Int = 0, _ cell: @escaping (JSONValue) -> String) -> Column {
            Column(name: name, type: "string", description: "", priority: priority) { .string(cell($0)) }
        }
        func integer(_ name: String, _ path: [String]) -> Column {
            Column(name: name, type: "integer", description: "", priority: 0) { .integer($0.value(at: path)?.integerValue ?? 0) }
        }
        switch (type.group, type.resource) {
        case ("", "namespaces"):
            return [nameColumn, string("Status") { $0.value(at: ["status", "phase"])?.stringValue ?? "" }, ageColumn]
        case ("", "pods"):
            return [
                nameColumn,
                string("Ready") { pod in
                    let total = pod.value(at: ["spec", "containers"])?.arrayValue?.count ?? 0
                    let ready = pod.value(at: ["status", "containerStatuses"])?.arrayValue?.filter { $0["ready"]?.boolValue == true }.count ?? 0
                    return "\(ready)/\(total)"
                },
                string("Status") { $0.value(at: ["status", "reason"])?.stringValue ?? $0.value(at: ["status", "phase"])?.stringValue ?? "Pending" },
                Column(name: "Restarts", type: "string", description: "", priority: 0) { pod in
                    .string(
                        String(
                            pod.value(at: ["status", "containerStatuses"])?.arrayValue?.reduce(Int64(0)) { $0 + ($1["restartCount"]?.integerValue ?? 0) } ?? 0))
                },
                ageColumn,
                string("IP", priority: 1) { $0.value(at: ["status", "podIP"])?.stringValue ?? "<none>" },
                string("Node", priority: 1) { $0.value(at: ["spec", "nodeName"])?.stringValue ?? "<none>" },
            ]
        case ("apps", "deployments"):
            return [
                nameColumn,
                string("Ready") { "\($0.value(at: ["status", "readyReplicas"])?.integerValue ?? 0)/\($0.value(at: ["spec", "replicas"])?.integerValue ?? 1)" },
                integer("Up-to-date", ["status", "updatedReplicas"]),
                integer("Available", ["status", "availableReplicas"]),
                ageColumn,
                string("Containers", priority: 1) { containerField($0, "name") },
                string("Images", priority: 1) { containerField($0, "image") },
                string("Selector", priority: 1) { selector($0) },
            ]
        case ("apps", "replicasets"):
            return [
                nameColumn, integer("Desired", ["spec", "replicas"]), integer("Current", ["status", "replicas"]),
                integer("Ready", ["status", "readyReplicas"]), ageColumn,
            ]
        case ("", "services"):
            return [
                nameColumn,
                string("Type") { $0.value(at: ["spec", "type"])?.stringValue ?? "ClusterIP" },
                string("Cluster-IP") { $0.value(at: ["spec", "clusterIP"])?.stringValue ?? "<none>" },
                string("External-IP") { _ in "<none>" },
                string("Port(s)") { service in
                    (service.value(at: ["spec", "ports"])?.arrayValue ?? []).map { "\($0["port"]?.integerValue ?? 0)/\($0["protocol"]?.stringValue ?? "TCP")" }
                        .joined(separator: ",")
                },
                ageColumn,
            ]
        case ("", "configmaps"):
            return [
                nameColumn,
                Column(name: "Data", type: "integer", description: "", priority: 0) {
                    .integer(Int64(($0["data"]?.objectValue?.count ?? 0) + ($0["binaryData"]?.objectValue?.count ?? 0)))
                }, ageColumn,
            ]
        case ("", "secrets"):
            return [
                nameColumn, string("Type") { $0["type"]?.stringValue ?? "Opaque" },
                Column(name: "Data", type: "integer", description: "", priority: 0) { .integer(Int64($0["data"]?.objectValue?.count ?? 0)) }, ageColumn,
            ]
        case ("batch", "jobs"):
            return [
                nameColumn,
                string("Status") { job in
                    let conditions = job.value(at: ["status", "conditions"])?.arrayValue ?? []
                    if conditions.contains(where: { $0["type"] == "Complete" && $0["status"] == "True" }) { return "Complete" }
                    if conditions.contains(where: { $0["type"] == "Failed" && $0["status"] == "True" }) { return "Failed" }
                    return "Running"
                },
                string("Completions") {
                    "\($0.value(at: ["status", "succeeded"])?.integerValue ?? 0)/\($0.value(at: ["spec", "completions"])?.integerValue ?? 1)"
                },
                ageColumn,
            ]
        case ("", "events"):
            return [
                Column(name: "Last Seen", type: "string", description: "", priority: 0) {
                    age($0["lastTimestamp"] ?? $0["eventTime"] ?? $0["metadata"]?["creationTimestamp"])
                },
                string("Type") { $0["type"]?.stringValue ?? "" },
                string("Reason") { $0["reason"]?.stringValue ?? "" },
                string("Object") {
                    "\(($0.value(at: ["involvedObject", "kind"])?.stringValue ?? "").lowercased())/\($0.value(at: ["involvedObject", "name"])?.stringValue ?? "")"
                },
                string("Message") { $0["message"]?.stringValue ?? "" },
            ]
        case ("apiextensions.k8s.io", "customresourcedefinitions"):
            return [nameColumn, Column(name: "Created At", type: "date", description: "", priority: 0) { $0["metadata"]?["creationTimestamp"] ?? "" }]
        case ("rbac.authorization.k8s.io", "roles"), ("rbac.authorization.k8s.io", "clusterroles"):
            return [nameColumn, Column(name: "Created At", type: "date", description: "", priority: 0) { $0["metadata"]?["creationTimestamp"] ?? "" }]
        case ("rbac.authorization.k8s.io", "rolebindings"), ("rbac.authorization.k8s.io", "clusterrolebindings"):
            func subjects(_ kind: String) -> (JSONValue) -> String {
                { binding in
                    (binding["subjects"]?.arrayValue ?? []).filter { $0["kind"]?.stringValue == kind }.map { subject in
                        let name = subject["name"]?.stringValue ?? ""
                        return kind == "ServiceAccount" ? "\(subject["namespace"]?.stringValue ?? "")/\(name)" : name
                    }.joined(separator: ", ")
                }
            }
            return [
                nameColumn, string("Role") { "\($0["roleRef"]?["kind"]?.stringValue ?? "")/\($0["roleRef"]?["name"]?.stringValue ?? "")" }, ageColumn,
                string("Users", priority: 1, subjects("User")), string("Groups", priority: 1, subjects("Group")),
                string("ServiceAccounts", priority: 1, subjects("ServiceAccount")),
            ]
        case ("policy", "poddisruptionbudgets"):
            return [
                nameColumn,
                string("Min Available") { $0.value(at: ["spec", "minAvailable"]).map { $0.stringValue ?? $0.jsonString() } ?? "N/A" },
                string("Max Unavailable") { $0.value(at: ["spec", "maxUnavailable"]).map { $0.stringValue ?? $0.jsonString() } ?? "N/A" },
                integer("Allowed Disruptions", ["status", "disruptionsAllowed"]),
                ageColumn,
            ]
        case ("networking.k8s.io", "networkpolicies"):
            return [
                nameColumn,
                string("Pod-Selector") { policy in
                    let labels = (policy.value(at: ["spec", "podSelector", "matchLabels"])?.objectValue ?? [:]).sorted { $0.key < $1.key }
                    return labels.isEmpty ? "<none>" : labels.map { "\($0.key)=\($0.value.stringValue ?? "")" }.joined(separator: ",")
                },
                ageColumn,
            ]
        case ("coordination.k8s.io", "leases"):
            return [nameColumn, string("Holder") { $0.value(at: ["spec", "holderIdentity"])?.stringValue ?? "" }, ageColumn]
        default:
            return [nameColumn, ageColumn]
        }
    }

    private static func containerField(_ object: JSONValue, _ field: String) -> String {
        (object.value(at: ["spec", "template", "spec", "containers"])?.arrayValue ?? []).compactMap { $0[field]?.stringValue }.joined(separator: ",")
    }

    private static func selector(_ object: JSONValue) -> String {
        (object.value(at: ["spec", "selector", "matchLabels"])?.objectValue ?? [:]).sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value.stringValue ?? "")" }.joined(separator: ",")
    }

    /// The age of a timestamp in kubectl's short form (`45s`, `4m30s`, `3h20m`, `26h`, `3d4h`).
    static func age(_ timestamp: JSONValue?, now: Date = Date()) -> JSONValue {
        guard let text = timestamp?.stringValue, let time = KubeTime(rfc3339: text) else { return "<unknown>" }
        return .string(humanDuration(now.timeIntervalSince(time.date)))
    }

    static func humanDuration(_ interval: TimeInterval) -> String {
        let seconds = Int(interval)
        if seconds < -1 { return "<invalid>" }
        if seconds < 0 { return "0s" }
        if seconds < 120 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 { return seconds % 60 == 0 ? "\(minutes)m" : "\(minutes)m\(seconds % 60)s" }
        if minutes < 180 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 8 { return minutes % 60 == 0 ? "\(hours)h" : "\(hours)h\(minutes % 60)m" }
        if hours < 48 { return "\(hours)h" }
        if hours < 24 * 8 { return hours % 24 == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(hours % 24)h" }
        if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
        if hours < 24 * 365 * 8 { let days = (hours / 24) % 365; return days == 0 ? "\(hours / 24 / 365)y" : "\(hours / 24 / 365)y\(days)d" }
        return "\(hours / 24 / 365)y"
    }
}

/// The JSONPath subset printer columns use: `.a.b`, `.a[0]`, `.a[*].b`, `.a[?(@.type=="Ready")].status`.
enum SimpleJSONPath {
    static func evaluate(_ path: String, in object: JSONValue) -> [JSONValue] {
        var current: [JSONValue] = [object]
        var rest = Substring(path.hasPrefix("{") ? String(path.dropFirst().dropLast()) : path)
        while !rest.isEmpty {
            if rest.hasPrefix(".") {
                rest = rest.dropFirst()
                let end = rest.firstIndex { $0 == "." || $0 == "[" } ?? rest.endIndex
                let key = String(rest[..<end])
                rest = rest[end...]
                current = current.compactMap { $0[key] }
            } else if rest.hasPrefix("[") {
                guard let close = closingBracket(rest) else { return [] }
                let inside = rest[rest.index(after: rest.startIndex)..<close]
                rest = rest[rest.index(after: close)...]
                current = current.flatMap { select(inside, from: $0) }
            } else {
                return []
            }
        }
        return current.filter { $0 != .null }
    }

    private static func closingBracket(_ text: Substring) -> Substring.Index? {
        var depth = 0
        for index in text.indices {
            if text[index] == "[" { depth += 1 }
            if text[index] == "]" { depth -= 1; if depth == 0 { return index } }
        }
        return nil
    }

    private static func select(_ selector: Substring, from value: JSONValue) -> [JSONValue] {
        guard let items = value.arrayValue else { return [] }
        if selector == "*" { return items }
        if let index = Int(selector) { return items.indices.contains(index) ? [items[index]] : [] }
        // ?(@.field=="value") or ?(@.field=='value')
        guard selector.hasPrefix("?(@."), selector.hasSuffix(")") else { return [] }
        let condition = selector.dropFirst(4).dropLast()
        guard let equals = condition.range(of: "==") else { return [] }
        let field = condition[..<equals.lowerBound].split(separator: ".").map(String.init)
        let expected = condition[equals.upperBound...].trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))
        return items.filter { item in
            guard let actual = item.value(at: field) else { return false }
            return (actual.stringValue ?? actual.jsonString()) == expected
        }
    }
}
