/// The Kubernetes permissions the operator's code uses, declared next to it (as kubebuilder's
/// RBAC markers are): the Helm chart's and the manifests' ClusterRole are generated from this
/// list, and a test checks they match. Add a rule here when a reconciler starts calling
/// something new.
public enum OperatorPermissions {
    /// One RBAC policy rule.
    public struct Rule: Sendable, Hashable {
        public var apiGroups: [String]
        public var resources: [String]
        public var verbs: [String]
        /// Why the operator needs it.
        public var reason: String
    }

    static let read = ["get", "list", "watch"]
    static let write = ["create", "update", "patch", "delete"]

    /// Everything the operator calls, in any namespace it watches.
    public static let rules: [Rule] = [
        Rule(
            apiGroups: ["ml.sextant.dev"], resources: ["models", "modelversions", "inferenceservices", "retrainpolicies"],
            verbs: read + ["update", "patch"], reason: "caches the four kinds; adds and removes the Model finalizer"),
        Rule(
            apiGroups: ["ml.sextant.dev"], resources: ["models/status", "modelversions/status", "inferenceservices/status", "retrainpolicies/status"],
            verbs: ["get", "update", "patch"], reason: "writes status"),
        Rule(
            apiGroups: ["ml.sextant.dev"], resources: ["modelversions"], verbs: ["create", "delete"],
            reason: "registers retrained versions; prunes archived versions past retention"),
        Rule(
            apiGroups: ["ml.sextant.dev"], resources: ["inferenceservices/finalizers", "retrainpolicies/finalizers"], verbs: ["update"],
            reason: "owner references with blockOwnerDeletion on the objects it creates"),
        Rule(apiGroups: ["apps"], resources: ["deployments"], verbs: read + write, reason: "server and router Deployments per InferenceService"),
        Rule(apiGroups: [""], resources: ["services", "configmaps"], verbs: read + write, reason: "per-version and stable Services; router tables"),
        Rule(apiGroups: [""], resources: ["pods"], verbs: read, reason: "crash loops and readiness of serving pods; trainer termination messages"),
        Rule(apiGroups: [""], resources: ["serviceaccounts"], verbs: ["get", "create", "patch"], reason: "the router's service account"),
        Rule(
            apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles", "rolebindings"], verbs: ["get", "create", "patch"],
            reason: "lets each router read its own routing-table ConfigMap"),
        Rule(apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: read + write, reason: "autoscaling per version"),
        Rule(apiGroups: ["batch"], resources: ["jobs"], verbs: read + ["create", "delete"], reason: "retraining runs and their history"),
        Rule(apiGroups: ["gateway.networking.k8s.io"], resources: ["httproutes"], verbs: ["get", "create", "patch"], reason: "traffic provider GatewayAPI"),
        Rule(apiGroups: [""], resources: ["events"], verbs: ["create", "patch"], reason: "Events on transitions"),
        Rule(apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"], reason: "leader election"),
    ]
}
