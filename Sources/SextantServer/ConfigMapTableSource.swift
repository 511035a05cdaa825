import Foundation
import KubeClient
import KubeRuntime
import Logging
import ServiceLifecycle

/// Follows a routing table kept in a ConfigMap through the Kubernetes API: lists and watches
/// the one ConfigMap (`fieldSelector=metadata.name=NAME`) with the runtime's `Watcher`, which
/// resumes from the last resourceVersion, re-lists after `410 Gone` and backs off on errors.
///
/// Guarantees:
/// - every valid change is swapped in atomically with `RouterState.replace`; requests in
///   flight keep the route they picked.
/// - a missing key or a table that does not decode keeps the previous table and logs one
///   error line per ConfigMap revision, naming the ConfigMap and the problem.
/// - until the first valid table arrives the state stays not ready, with the latest problem
///   (or "does not exist") as the reason.
/// - deleting the ConfigMap keeps the last table (a warning is logged).
public struct ConfigMapTableSource: ServiceLifecycle.Service {
    let api: Api<ConfigMap>
    let reference: ConfigMapTableReference
    let state: RouterState
    let watchTimeoutSeconds: Int
    let logger: Logger

    /// A source for `reference`, read with `client`, feeding `state`.
    public init(
        client: KubernetesClient, reference: ConfigMapTableReference, state: RouterState,
        watchTimeoutSeconds: Int = 290, logger: Logger
    ) {
        api = Api<ConfigMap>(client: client, namespace: reference.namespace)
        self.reference = reference
        self.state = state
        self.watchTimeoutSeconds = watchTimeoutSeconds
        var logger = logger
        logger[metadataKey: "k8s.object"] = "\(reference)"
        self.logger = logger
    }

    /// Watches until cancelled or graceful shutdown.
    public func run() async throws {
        var tracker = ConfigMapTableTracker(key: reference.key)
        let events = Watcher(
            api: api, fieldSelector: "metadata.name=\(reference.name)", watchTimeoutSeconds: watchTimeoutSeconds, logger: logger)
        for await event in events.cancelOnGracefulShutdown() {
            perform(tracker.handle(event))
        }
    }

    private func perform(_ action: ConfigMapTableTracker.Action) {
        let hasTable = state.readiness.ready
        switch action {
        case .none:
            break
        case .use(let table):
            if state.replace(table) {
                logger.info(
                    "routing table loaded from ConfigMap \(reference)", metadata: ["router.routes": "\(table.routes.map { "\($0.name)=\($0.weight)" })"])
            }
        case .reject(let problem):
            let outcome = hasTable ? "keeping the previous routing table" : "still no routing table"
            logger.error("ConfigMap \(reference): \(problem); \(outcome)")
            state.updateWaitingReason("ConfigMap \(reference): \(problem)")
        case .absent:
            if hasTable {
                logger.warning("ConfigMap \(reference) does not exist; keeping the current routing table")
            } else {
                logger.warning("ConfigMap \(reference) does not exist yet; not ready until it does")
                state.updateWaitingReason("ConfigMap \(reference) does not exist")
            }
        case .deleted:
            logger.warning("ConfigMap \(reference) was deleted; keeping the last routing table")
            state.updateWaitingReason("ConfigMap \(reference) does not exist")
        }
    }
}

/// Turns watcher events about one ConfigMap into what the router should do. Pure, so its
/// rules are tested without an API server; `ConfigMapTableSource` performs the actions.
struct ConfigMapTableTracker: Sendable {
    /// What to do after an event.
    enum Action: Equatable, Sendable {
        /// Nothing changed (an unchanged revision, a list in progress, still absent).
        case none
        /// A new revision with a valid table.
        case use(RoutingTable)
        /// A new revision without a usable table: the problem.
        case reject(String)
        /// The first list found no such ConfigMap.
        case absent
        /// The ConfigMap was deleted (seen as an event, or missing from a re-list).
        case deleted
    }

    let key: String
    /// The resourceVersion of the last revision handled, so a re-list does not repeat it.
    private var lastVersion: String?
    /// Whether the ConfigMap exists; nil before the first list.
    private var exists: Bool?
    /// Whether the list in progress included the ConfigMap.
    private var listed = false

    init(key: String) {
        self.key = key
    }

    mutating func handle(_ event: WatcherEvent<ConfigMap>) -> Action {
        switch event {
        case .initStarted:
            listed = false
            return .none
        case .initApply(let map):
            listed = true
            return revision(map)
        case .initDone:
            guard !listed else { return .none }
            let previously = exists
            exists = false
            lastVersion = nil
            switch previously {
            case nil: return .absent
            case true?: return .deleted
            case false?: return .none
            }
        case .apply(let map):
            return revision(map)
        case .delete:
            exists = false
            lastVersion = nil
            return .deleted
        }
    }

    private mutating func revision(_ map: ConfigMap) -> Action {
        exists = true
        if let version = map.metadata.resourceVersion, version == lastVersion { return .none }
        lastVersion = map.metadata.resourceVersion
        switch Self.table(in: map, key: key) {
        case .success(let table): return .use(table)
        case .failure(let problem): return .reject(problem.description)
        }
    }

    /// The routing table under `key` of `data` (or base64 `binaryData`), decoded and validated.
    static func table(in map: ConfigMap, key: String) -> Result<RoutingTable, RouterError> {
        let bytes: Data
        if let text = map.data?[key] {
            bytes = Data(text.utf8)
        } else if let encoded = map.binaryData?[key] {
            guard let decoded = Data(base64Encoded: encoded) else { return .failure(RouterError("binaryData key '\(key)' is not base64")) }
            bytes = decoded
        } else {
            let keys = Set((map.data ?? [:]).keys).union((map.binaryData ?? [:]).keys).sorted()
            return .failure(RouterError("no key '\(key)'" + (keys.isEmpty ? " (the ConfigMap has no data)" : " (keys: \(keys.joined(separator: ", ")))")))
        }
        do {
            return .success(try RoutingTable.decode(bytes))
        } catch {
            return .failure(RouterError("key '\(key)' is not a valid routing table: \(describe(error))"))
        }
    }

    /// A one-line description of a decoding or validation error.
    static func describe(_ error: any Error) -> String {
        func path(_ context: DecodingError.Context, _ last: (any CodingKey)? = nil) -> String {
            let keys = context.codingPath + (last.map { [$0] } ?? [])
            let text = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.isEmpty ? "the document" : String(text.drop { $0 == "." })
        }
        switch error {
        case let error as RouterError:
            return error.description
        case DecodingError.dataCorrupted(let context):
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            let summary = context.debugDescription.hasSuffix(".") ? String(context.debugDescription.dropLast()) : context.debugDescription
            return "\(summary)\(underlying.map { " (\($0))" } ?? "")"
        case DecodingError.keyNotFound(let key, let context):
            return "missing \(path(context, key))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "\(path(context)): \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }
}
