import SextantAPI

/// Label and annotation keys the operator writes, and the names of the objects it creates.
/// Names are deterministic so a reconcile can find its children without remembering them.
public enum OperatorLabels {
    /// `app.kubernetes.io/managed-by: sextant-operator` on everything the operator creates;
    /// the operator's caches of built-in kinds select on it.
    public static let managedBy = "app.kubernetes.io/managed-by"
    public static let managedByValue = "sextant-operator"
    public static let managedSelector = "\(managedBy)=\(managedByValue)"
    /// `app.kubernetes.io/name`: `sextant-server` or `sextant-router`.
    public static let appName = "app.kubernetes.io/name"
    public static let component = "app.kubernetes.io/component"
    /// The InferenceService a Deployment, Service or pod belongs to.
    public static let inferenceService = "ml.sextant.dev/inference-service"
    /// The model name (ModelVersions created by retraining, serving pods).
    public static let model = "ml.sextant.dev/model"
    /// The model version a serving Deployment, Service or pod runs.
    public static let version = "ml.sextant.dev/version"
    /// The RetrainPolicy a Job belongs to.
    public static let retrainPolicy = "ml.sextant.dev/retrain-policy"
    /// On Jobs: the version number the run will register.
    public static let versionAnnotation = "ml.sextant.dev/version"
    /// On Jobs: what started the run.
    public static let triggerAnnotation = "ml.sextant.dev/trigger"

    /// The server-side apply field manager of every write.
    public static let fieldManager = "sextant-operator"
}

/// Names of the objects an InferenceService owns.
public enum ServingNames {
    /// Deployment, Service and HPA of one version: `<service>-v<version>`.
    public static func version(_ service: String, _ version: Int64) -> String { "\(service)-v\(version)" }
    /// The router's Deployment and its routing-table ConfigMap: `<service>-router`.
    public static func router(_ service: String) -> String { "\(service)-router" }
    /// The stable Service clients use, and the HTTPRoute: `<service>`.
    public static func stable(_ service: String) -> String { service }
}
