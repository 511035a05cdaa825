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
                errors.append(FieldError(.notSupported, "spec.template.spec.restartPolicy", "supported values: \"OnFailure\", \"Never\"", badValue: .string(restart ?? "")))
            }
        case ("", "pods"):
            errors += containers(object["spec"], at: FieldPath("spec"))
        case ("apiextensions.k8s.io", "customresourcedefinitions"):
            errors += CustomResourceDefinitions.validate(object)
        default:
            break
        }
        if !errors.isEmpty { throw APIError.invalid(type, name: name, errors: errors) }
    }

    private static func containers(_ podSpec: JSONValue?, at path: FieldPath) -> [FieldError] {
        guard let containers = podSpec?["containers"]?.arrayValue, !containers.isEmpty else {
            return [FieldError(.required, path.child("containers"), "")]
        }
        var errors: [FieldError] = []
        for (index, container) in containers.enumerated() {
            if (container["name"]?.stringValue ?? "").isEmpty { errors.append(FieldError(.required, path.child("containers").index(index).child("name"), "")) }
            if (container["image"]?.stringValue ?? "").isEmpty { errors.append(FieldError(.required, path.child("containers").index(index).child("image"), "")) }
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
            return [FieldError(.invalid, "spec.template.metadata.labels", "`selector` does not match template `labels`", badValue: .object(labels.mapValues(JSONValue.string)))]
        }
        return []
    }
}
