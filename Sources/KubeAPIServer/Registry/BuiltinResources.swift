import KubeCore

/// The built-in kinds this server serves: what the operator, the local runtime and kubectl use.
enum BuiltinResources {
    static let all: [ResourceType] = [
        ResourceType(
            group: "", version: "v1", resource: "namespaces", singular: "namespace", kind: "Namespace", namespaced: false, shortNames: ["ns"], hasStatus: true,
            selectableFields: ["status.phase": ["status", "phase"]]),
        ResourceType(group: "", version: "v1", resource: "configmaps", singular: "configmap", kind: "ConfigMap", namespaced: true, shortNames: ["cm"]),
        ResourceType(group: "", version: "v1", resource: "secrets", singular: "secret", kind: "Secret", namespaced: true, selectableFields: ["type": ["type"]]),
        ResourceType(
            group: "", version: "v1", resource: "services", singular: "service", kind: "Service", namespaced: true, shortNames: ["svc"], categories: ["all"],
            hasStatus: true),
        ResourceType(
            group: "", version: "v1", resource: "serviceaccounts", singular: "serviceaccount", kind: "ServiceAccount", namespaced: true, shortNames: ["sa"]),
        ResourceType(
            group: "", version: "v1", resource: "pods", singular: "pod", kind: "Pod", namespaced: true, shortNames: ["po"], categories: ["all"],
            hasStatus: true,
            selectableFields: [
                "status.phase": ["status", "phase"], "spec.nodeName": ["spec", "nodeName"], "spec.serviceAccountName": ["spec", "serviceAccountName"],
            ]),
        ResourceType(
            group: "", version: "v1", resource: "events", singular: "event", kind: "Event", namespaced: true, shortNames: ["ev"],
            selectableFields: [
                "involvedObject.kind": ["involvedObject", "kind"], "involvedObject.namespace": ["involvedObject", "namespace"],
                "involvedObject.name": ["involvedObject", "name"], "involvedObject.uid": ["involvedObject", "uid"],
                "involvedObject.apiVersion": ["involvedObject", "apiVersion"], "involvedObject.resourceVersion": ["involvedObject", "resourceVersion"],
                "involvedObject.fieldPath": ["involvedObject", "fieldPath"], "reason": ["reason"], "reportingComponent": ["reportingComponent"],
                "source": ["source", "component"], "type": ["type"],
            ]),
        ResourceType(
            group: "events.k8s.io", version: "v1", resource: "events", singular: "event", kind: "Event", namespaced: true, shortNames: ["ev"],
            selectableFields: [
                "regarding.kind": ["regarding", "kind"], "regarding.name": ["regarding", "name"], "regarding.uid": ["regarding", "uid"], "reason": ["reason"],
                "type": ["type"],
            ]),
        ResourceType(
            group: "apps", version: "v1", resource: "deployments", singular: "deployment", kind: "Deployment", namespaced: true, shortNames: ["deploy"],
            categories: ["all"], hasStatus: true,
            scale: .init(specReplicas: ["spec", "replicas"], statusReplicas: ["status", "replicas"], labelSelector: nil)),
        ResourceType(
            group: "apps", version: "v1", resource: "replicasets", singular: "replicaset", kind: "ReplicaSet", namespaced: true, shortNames: ["rs"],
            categories: ["all"], hasStatus: true,
            scale: .init(specReplicas: ["spec", "replicas"], statusReplicas: ["status", "replicas"], labelSelector: nil)),
        ResourceType(
            group: "batch", version: "v1", resource: "jobs", singular: "job", kind: "Job", namespaced: true, categories: ["all"], hasStatus: true,
            selectableFields: ["status.successful": ["status", "succeeded"]]),
        ResourceType(
            group: "batch", version: "v1", resource: "cronjobs", singular: "cronjob", kind: "CronJob", namespaced: true, shortNames: ["cj"],
            categories: ["all"], hasStatus: true),
        ResourceType(group: "coordination.k8s.io", version: "v1", resource: "leases", singular: "lease", kind: "Lease", namespaced: true),
        ResourceType(group: "discovery.k8s.io", version: "v1", resource: "endpointslices", singular: "endpointslice", kind: "EndpointSlice", namespaced: true),
        ResourceType(
            group: "autoscaling", version: "v2", resource: "horizontalpodautoscalers", singular: "horizontalpodautoscaler", kind: "HorizontalPodAutoscaler",
            namespaced: true, shortNames: ["hpa"], categories: ["all"], hasStatus: true),
        ResourceType(
            group: "networking.k8s.io", version: "v1", resource: "networkpolicies", singular: "networkpolicy", kind: "NetworkPolicy", namespaced: true,
            shortNames: ["netpol"]),
        ResourceType(
            group: "policy", version: "v1", resource: "poddisruptionbudgets", singular: "poddisruptionbudget", kind: "PodDisruptionBudget", namespaced: true,
            shortNames: ["pdb"], hasStatus: true),
        // RBAC objects are stored and served, not enforced (see docs/apiserver.md).
        ResourceType(group: "rbac.authorization.k8s.io", version: "v1", resource: "roles", singular: "role", kind: "Role", namespaced: true),
        ResourceType(
            group: "rbac.authorization.k8s.io", version: "v1", resource: "rolebindings", singular: "rolebinding", kind: "RoleBinding", namespaced: true),
        ResourceType(
            group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterroles", singular: "clusterrole", kind: "ClusterRole", namespaced: false),
        ResourceType(
            group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterrolebindings", singular: "clusterrolebinding", kind: "ClusterRoleBinding",
            namespaced: false),
        ResourceType(
            group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions", singular: "customresourcedefinition",
            kind: "CustomResourceDefinition", namespaced: false, shortNames: ["crd", "crds"], categories: ["api-extensions"], hasStatus: true),
    ]

    /// The preferred group order of discovery, as the real server lists it.
    static let groupOrder = [
        "", "apps", "events.k8s.io", "autoscaling", "batch", "networking.k8s.io", "policy", "rbac.authorization.k8s.io",
        "coordination.k8s.io", "discovery.k8s.io", "apiextensions.k8s.io",
    ]

    static let customResourceDefinitions = all.first { $0.resource == "customresourcedefinitions" }!
    static let namespaces = all.first { $0.resource == "namespaces" }!
}
