import KubeCore

/// Turning a CustomResourceDefinition into served resources, and checking it.
enum CustomResourceDefinitions {
    /// The resources a CRD serves: one per served version.
    static func resourceTypes(_ crd: JSONValue) -> [ResourceType] {
        guard let spec = crd["spec"], let group = spec["group"]?.stringValue, let names = spec["names"],
            let plural = names["plural"]?.stringValue, let kind = names["kind"]?.stringValue
        else { return [] }
        let namespaced = spec["scope"]?.stringValue != "Cluster"
        let versions = spec["versions"]?.arrayValue ?? []
        // Served versions, the storage version first so it is the preferred one in discovery.
        let ordered = versions.filter { $0["storage"]?.boolValue == true } + versions.filter { $0["storage"]?.boolValue != true }
        return ordered.compactMap { version -> ResourceType? in
            guard version["served"]?.boolValue == true, let name = version["name"]?.stringValue else { return nil }
            let schema = try? version["schema"]?["openAPIV3Schema"]?.decode(as: JSONSchemaProps.self)
            let columns = (try? version["additionalPrinterColumns"]?.decode(as: [CustomResourceDefinition.PrinterColumn].self)) ?? []
            var scale: ResourceType.ScalePaths?
            if let scaleSpec = version["subresources"]?["scale"] {
                scale = ResourceType.ScalePaths(
                    specReplicas: path(scaleSpec["specReplicasPath"]?.stringValue),
                    statusReplicas: path(scaleSpec["statusReplicasPath"]?.stringValue),
                    labelSelector: scaleSpec["labelSelectorPath"]?.stringValue.map(path))
            }
            return ResourceType(
                group: group, version: name, resource: plural,
                singular: names["singular"]?.stringValue ?? kind.lowercased(), kind: kind, namespaced: namespaced,
                shortNames: names["shortNames"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                categories: names["categories"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                hasStatus: version["subresources"]?["status"] != nil, scale: scale, schema: schema,
                printerColumns: columns, isCustom: true)
        }
    }

    /// `.spec.replicas` → ["spec", "replicas"]
    private static func path(_ jsonPath: String?) -> [String] {
        (jsonPath ?? "").split(separator: ".").map(String.init)
    }

    /// The status the CRD gets once its names are accepted and it is served.
    static func establishedStatus(_ crd: JSONValue, now: KubeTime) -> JSONValue {
        let names = crd["spec"]?["names"] ?? [:]
        var accepted = names
        if accepted["singular"] == nil, let kind = names["kind"]?.stringValue { accepted["singular"] = .string(kind.lowercased()) }
        if accepted["listKind"] == nil, let kind = names["kind"]?.stringValue { accepted["listKind"] = .string(kind + "List") }
        let storage = (crd["spec"]?["versions"]?.arrayValue ?? []).filter { $0["storage"]?.boolValue == true }.compactMap { $0["name"] }
        let previous = crd["status"]?["storedVersions"]?.arrayValue ?? []
        let stored = previous + storage.filter { !previous.contains($0) }
        func condition(_ type: String, _ reason: String, _ message: String) -> JSONValue {
            let existing = crd["status"]?["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == type }
            let time = existing?["status"] == "True" ? existing?["lastTransitionTime"] ?? .string(now.description) : .string(now.description)
            return ["type": .string(type), "status": "True", "reason": .string(reason), "message": .string(message), "lastTransitionTime": time]
        }
        return [
            "acceptedNames": accepted,
            "storedVersions": .array(stored),
            "conditions": [
                condition("NamesAccepted", "NoConflicts", "no conflicts found"),
                condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
            ],
        ]
    }

    /// The checks the real server applies that matter to CRD authors.
    static func validate(_ crd: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        let spec = crd["spec"] ?? [:]
        let group = spec["group"]?.stringValue ?? ""
        let plural = spec["names"]?["plural"]?.stringValue ?? ""
        if group.isEmpty { errors.append(FieldError(.required, "spec.group", "")) }
        if !group.contains(".") && !group.isEmpty {
            errors.append(FieldError(.invalid, "spec.group", "should be a domain with at least one dot", badValue: .string(group)))
        }
        if plural.isEmpty { errors.append(FieldError(.required, "spec.names.plural", "")) }
        if (spec["names"]?["kind"]?.stringValue ?? "").isEmpty { errors.append(FieldError(.required, "spec.names.kind", "")) }
        let name = crd["metadata"]?["name"]?.stringValue ?? ""
        if name != "\(plural).\(group)" {
            errors.append(FieldError(.invalid, "metadata.name", "must be spec.names.plural+\".\"+spec.group", badValue: .string(name)))
        }
        if !["Namespaced", "Cluster"].contains(spec["scope"]?.stringValue ?? "") {
            errors.append(FieldError(.notSupported, "spec.scope", "supported values: \"Cluster\", \"Namespaced\"", badValue: spec["scope"] ?? ""))
        }
        let versions = spec["versions"]?.arrayValue ?? []
        if versions.isEmpty { errors.append(FieldError(.required, "spec.versions", "must have exactly one version marked as storage version")) }
        if versions.filter({ $0["storage"]?.boolValue == true }).count != 1, !versions.isEmpty {
            errors.append(FieldError(.invalid, "spec.versions", "must have exactly one version marked as storage version"))
        }
        for (index, version) in versions.enumerated() {
            let path = FieldPath("spec.versions").index(index)
            guard let schemaJSON = version["schema"]?["openAPIV3Schema"] else {
                errors.append(FieldError(.required, path.child("schema.openAPIV3Schema"), "schemas are required"))
                continue
            }
            guard let schema = try? schemaJSON.decode(as: JSONSchemaProps.self) else {
                errors.append(FieldError(.invalid, path.child("schema.openAPIV3Schema"), "not a valid OpenAPI v3 schema"))
                continue
            }
            for violation in StructuralSchema.violations(of: schema) {
                errors.append(FieldError(.invalid, path.child("schema.openAPIV3Schema"), violation))
            }
            errors += ruleCompilationErrors(schema, at: path.child("schema.openAPIV3Schema"))
        }
        return errors
    }

    /// CEL rules that do not parse make the CRD invalid, as in Kubernetes.
    private static func ruleCompilationErrors(_ schema: JSONSchemaProps, at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        for (index, rule) in (schema.validations ?? []).enumerated() {
            if case .failure(let error) = CELValidation.compile(rule.rule) {
                errors.append(
                    FieldError(
                        .invalid, path.child("x-kubernetes-validations").index(index).child("rule"), "compilation failed: \(error)",
                        badValue: .string(rule.rule)))
            }
        }
        for (name, property) in schema.properties ?? [:] { errors += ruleCompilationErrors(property, at: path.child("properties").key(name)) }
        if let items = schema.items { errors += ruleCompilationErrors(items, at: path.child("items")) }
        if case .schema(let values) = schema.additionalProperties { errors += ruleCompilationErrors(values, at: path.child("additionalProperties")) }
        return errors
    }
}
