/// Settings of the operator that are not part of any object: images, namespaces, timings.
public struct OperatorConfiguration: Sendable {
    /// The Sextant server image used when an InferenceService names none.
    public var serverImage: String
    /// The image of router pods (the same binary in `route` mode); the server image by default.
    public var routerImage: String?
    /// Namespaces to watch; empty means all.
    public var namespaces: [String]
    /// How often artifacts are checked again while a version waits for them.
    public var artifactRecheckInterval: Duration
    /// Reconciles running at once per controller.
    public var concurrency: Int
    /// How often serving signals (drift, online accuracy) are read for RetrainPolicy triggers.
    public var signalInterval: Duration = .seconds(30)

    public init(
        serverImage: String = OperatorConfiguration.defaultServerImage, routerImage: String? = nil, namespaces: [String] = [],
        artifactRecheckInterval: Duration = .seconds(30), concurrency: Int = 4
    ) {
        self.serverImage = serverImage
        self.routerImage = routerImage
        self.namespaces = namespaces
        self.artifactRecheckInterval = artifactRecheckInterval
        self.concurrency = concurrency
    }

    /// `ghcr.io/sextant-ml/sextant-server:0.1.0`
    public static let defaultServerImage = "ghcr.io/sextant-ml/sextant-server:0.1.0"
}
