import KubeCore

/// The checks of built-in kinds that clients rely on being enforced. Not exhaustive: each
/// kind gets the rules whose absence would let a broken object reach a controller.
enum BuiltinValidation {
    static func validate(_ object: JSONValue, _ type: ResourceType) throws {
        let name = object["metadata"]?["name"]?.stringValue ?? ""
        var errors: [FieldError] = []
        switch (type.group, type.resource) {
        case ("apps", "deployments"), ("apps", "replicasets"):
            errors += selectorMatchesTemplate(object)
            errors += containers(object["spec"]?["template"]?["spec"], at: FieldPath("spec.template.spec"))
            if let replicas = object["spec"]?["replicas"], (replicas.integerValue ?? -1) < 0 {
                errors.append(FieldError(.invalid, "spec.replicas", "must be greater than or equal to 0", badValue: replicas))
            }
        case ("batch", "jobs"):
            errors += containers(object["spec"]?["template"]?["spec"], at: FieldPath("spec.template.spec"))
            let restart = object["spec"]?["template"]?["spec"]?["restartPolicy"]?.stringValue
            if restart != "Never" && restart != "OnFailure" {
                errors.append(
                    FieldError(
                        .notSupported, "spec.template.spec.restartPolicy", "supported values: \"OnFailure\", \"Never\"", badValue: .string(restart ?? "")))
            }
        case ("", "pods"):
            errors += containers(object["spec"], at: FieldPath("spec"))
        case ("apiextensions.k8s.io", "customresourcedefinitions"):
            errors += CustomResourceDefinitions.validate(object)
        case ("rbac.authorization.k8s.io", "rolebindings"), ("rbac.authorization.k8s.io", "clusterrolebindings"):
            errors += roleBinding(object, clusterScoped: type.resource == "clusterrolebindings")
        case ("policy", "poddisruptionbudgets"):
            if let spec = object["spec"], spec["minAvailable"] != nil, spec["maxUnavailable"] != nil {
                errors.append(FieldError(.invalid, "spec", "minAvailable and maxUnavailable cannot be both set", badValue: spec))
            }
        default:
            break
        }
        if !errors.isEmpty { throw APIError.invalid(type, name: name, errors: errors) }
    }

    /// The checks of an update that compare with the stored object (immutable fields).
    static func validateUpdate(_ object: JSONValue, old: JSONValue, _ type: ResourceType) throws {
        let name = object["metadata"]?["name"]?.stringValue ?? ""
        if type.group == "rbac.authorization.k8s.io", type.resource.hasSuffix("rolebindings"), object["roleRef"] != old["roleRef"] {
            throw APIError.invalid(type, name: name, errors: [FieldError(.invalid, "roleRef", "cannot change roleRef", badValue: object["roleRef"] ?? .null)])
        }
    }

    private static func roleBinding(_ object: JSONValue, clusterScoped: Bool) -> [FieldError] {
        var errors: [FieldError] = []
        let kinds = clusterScoped ? ["ClusterRole"] : ["Role", "ClusterRole"]
        let kind = object["roleRef"]?["kind"]?.stringValue ?? ""
        if object["roleRef"]?["apiGroup"]?.stringValue != "rbac.authorization.k8s.io" {
            errors.append(
                FieldError(.notSupported, "roleRef.apiGroup", "supported values: \"rbac.authorization.k8s.io\"", badValue: object["roleRef"]?["apiGroup"] ?? "")
            )
        }
        if !kinds.contains(kind) {
            errors.append(
                FieldError(.notSupported, "roleRef.kind", "supported values: " + kinds.map { "\"\($0)\"" }.joined(separator: ", "), badValue: .string(kind)))
        }
        if (object["roleRef"]?["name"]?.stringValue ?? "").isEmpty {
            errors.append(FieldError(.required, "roleRef.name", ""))
        }
        for (index, subject) in (object["subjects"]?.arrayValue ?? []).enumerated() {
            let path = FieldPath("subjects").index(index)
            if (subject["name"]?.stringValue ?? "").isEmpty { errors.append(FieldError(.required, path.child("name"), "")) }
            let subjectKind = subject["kind"]?.stringValue ?? ""
            if !["ServiceAccount", "User", "Group"].contains(subjectKind) {
                errors.append(
                    FieldError(.notSupported, path.child("kind"), "supported values: \"ServiceAccount\", \"User\", \"Group\"", badValue: .string(subjectKind)))
            } else if subjectKind == "ServiceAccount", (subject["namespace"]?.stringValue ?? "").isEmpty, clusterScoped {
                errors.append(FieldError(.required, path.child("namespace"), ""))
            }
        }
        return errors
    }

    private static func containers(_ podSpec: JSONValue?, at path: FieldPath) -> [FieldError] {
        guard let containers = podSpec?["containers"]?.arrayValue, !containers.isEmpty else {
            return [FieldError(.required, path.child("containers"), "")]
        }
        var errors: [FieldError] = []
        for (index, container) in containers.enumerated() {
            if (container["name"]?.stringValue ?? "").isEmpty { errors.append(FieldError(.required, path.child("containers").index(index).child("name"), "")) }
            if (container["image"]?.stringValue ?? "").isEmpty {
                errors.append(FieldError(.required, path.child("containers").index(index).child("image"), ""))
            }
        }
        return errors
    }

    private static func selectorMatchesTemplate(_ object: JSONValue) -> [FieldError] {
        guard let selector = object["spec"]?["selector"] else { return [FieldError(.required, "spec.selector", "")] }
        let labels = (object["spec"]?["template"]?["metadata"]?["labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        let matchLabels = (selector["matchLabels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        if matchLabels.isEmpty && selector["matchExpressions"] == nil {
            return [FieldError(.invalid, "spec.selector", "empty selector is invalid for deployment", badValue: selector)]
        }
        for (key, value) in matchLabels where labels[key] != value {
            return [
                FieldError(
                    .invalid, "spec.template.metadata.labels", "`selector` does not match template `labels`",
                    badValue: .object(labels.mapValues(JSONValue.string)))
            ]
        }
        return []
    }
}
