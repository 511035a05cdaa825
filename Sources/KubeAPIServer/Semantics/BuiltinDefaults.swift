import KubeCore

/// Defaults the real server's strategies apply to built-in kinds on create, where controllers
/// or kubectl rely on them.
enum BuiltinDefaults {
    /// The defaults that are also applied to every update (the real server defaults on every
    /// decode); only kinds whose defaults cannot undo state a controller wrote.
    static func applyOnUpdate(_ object: JSONValue, _ type: ResourceType) -> JSONValue {
        switch (type.group, type.resource) {
        case ("", "services"), ("networking.k8s.io", "networkpolicies"): apply(object, type)
        default: object
        }
    }

    static func apply(_ object: JSONValue, _ type: ResourceType) -> JSONValue {
        var object = object
        switch (type.group, type.resource) {
        case ("", "namespaces"):
            let name = object["metadata"]?["name"] ?? ""
            let labels = JSONValue.setting(object["metadata"]?["labels"] ?? [:], ["kubernetes.io/metadata.name"], to: name)
            object["metadata"]?["labels"] = labels
            if object.value(at: ["spec", "finalizers"]) == nil { object = JSONValue.setting(object, ["spec", "finalizers"], to: ["kubernetes"]) }
            object["status"] = ["phase": "Active"]
        case ("apps", "deployments"):
            object = defaultValue(object, ["spec", "replicas"], 1)
            object = defaultValue(object, ["spec", "revisionHistoryLimit"], 10)
            object = defaultValue(object, ["spec", "progressDeadlineSeconds"], 600)
            object = defaultValue(object, ["spec", "strategy"], ["type": "RollingUpdate", "rollingUpdate": ["maxSurge": "25%", "maxUnavailable": "25%"]])
            object = defaultPodTemplate(object, ["spec", "template", "spec"], restartPolicy: "Always")
        case ("apps", "replicasets"):
            object = defaultValue(object, ["spec", "replicas"], 1)
            object = defaultPodTemplate(object, ["spec", "template", "spec"], restartPolicy: "Always")
        case ("batch", "jobs"):
            object = defaultValue(object, ["spec", "completions"], 1)
            object = defaultValue(object, ["spec", "parallelism"], 1)
            object = defaultValue(object, ["spec", "backoffLimit"], 6)
            object = defaultPodTemplate(object, ["spec", "template", "spec"], restartPolicy: nil)
        case ("", "pods"):
            object = defaultPodTemplate(object, ["spec"], restartPolicy: "Always")
            object = defaultValue(object, ["status", "phase"], "Pending")
        case ("", "services"):
            object = defaultValue(object, ["spec", "type"], "ClusterIP")
            object = defaultValue(object, ["spec", "sessionAffinity"], "None")
            var ports = object.value(at: ["spec", "ports"])?.arrayValue ?? []
            for index in ports.indices {
                if ports[index]["protocol"] == nil { ports[index]["protocol"] = "TCP" }
                if ports[index]["targetPort"] == nil { ports[index]["targetPort"] = ports[index]["port"] }
            }
            if !ports.isEmpty { object = JSONValue.setting(object, ["spec", "ports"], to: .array(ports)) }
        case ("", "secrets"):
            object = defaultValue(object, ["type"], "Opaque")
        case ("policy", "poddisruptionbudgets"):
            // The disruption controller's counters start at zero (they are not omitempty).
            object["status"] = ["currentHealthy": 0, "desiredHealthy": 0, "disruptionsAllowed": 0, "expectedPods": 0]
        case ("networking.k8s.io", "networkpolicies"):
            object = defaultNetworkPolicy(object)
        default:
            break
        }
        return object
    }

    /// `policyTypes` (Ingress always, Egress when egress rules exist) and TCP for rule ports.
    private static func defaultNetworkPolicy(_ object: JSONValue) -> JSONValue {
        guard object["spec"]?.objectValue != nil else { return object }
        var result = object
        for direction in ["ingress", "egress"] {
            guard var rules = result.value(at: ["spec", direction])?.arrayValue else { continue }
            for index in rules.indices {
                guard var ports = rules[index]["ports"]?.arrayValue else { continue }
                for portIndex in ports.indices where ports[portIndex]["protocol"] == nil { ports[portIndex]["protocol"] = "TCP" }
                rules[index]["ports"] = .array(ports)
            }
            result = JSONValue.setting(result, ["spec", direction], to: .array(rules))
        }
        if (result.value(at: ["spec", "policyTypes"])?.arrayValue ?? []).isEmpty {
            let egress = !(result.value(at: ["spec", "egress"])?.arrayValue ?? []).isEmpty
            result = JSONValue.setting(result, ["spec", "policyTypes"], to: egress ? ["Ingress", "Egress"] : ["Ingress"])
        }
        return result
    }

    private static func defaultValue(_ object: JSONValue, _ path: [String], _ value: JSONValue) -> JSONValue {
        object.value(at: path) == nil ? JSONValue.setting(object, path, to: value) : object
    }

    private static func defaultPodTemplate(_ object: JSONValue, _ path: [String], restartPolicy: String?) -> JSONValue {
        guard object.value(at: path) != nil else { return object }
        var result = object
        if let restartPolicy { result = defaultValue(result, path + ["restartPolicy"], .string(restartPolicy)) }
        result = defaultValue(result, path + ["terminationGracePeriodSeconds"], 30)
        result = defaultValue(result, path + ["dnsPolicy"], "ClusterFirst")
        var containers = result.value(at: path + ["containers"])?.arrayValue ?? []
        for index in containers.indices {
            if containers[index]["terminationMessagePath"] == nil { containers[index]["terminationMessagePath"] = "/dev/termination-log" }
            if containers[index]["terminationMessagePolicy"] == nil { containers[index]["terminationMessagePolicy"] = "File" }
            if containers[index]["imagePullPolicy"] == nil {
                let image = containers[index]["image"]?.stringValue ?? ""
                containers[index]["imagePullPolicy"] = image.hasSuffix(":latest") || !image.contains(":") ? "Always" : "IfNotPresent"
            }
        }
        if !containers.isEmpty { result = JSONValue.setting(result, path + ["containers"], to: .array(containers)) }
        return result
    }
}
