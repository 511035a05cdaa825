import Foundation
import KubeClient
import KubeCore
import Logging

/// Records core/v1 Events about objects, aggregating repeats: the same reason, message and type
/// for the same object within ten minutes bumps `count` and `lastTimestamp` of the existing
/// Event instead of creating another. Failures are logged, never thrown: events are advice.
public actor EventRecorder {
    public enum EventType: String, Sendable { case normal = "Normal", warning = "Warning" }

    private struct Seen {
        var name: String
        var count: Int32
        var last: ContinuousClock.Instant
    }

    private let client: KubernetesClient
    private let component: String
    private let instance: String
    private let logger: Logger
    private var seen: [String: Seen] = [:]
    private let window: Duration

    public init(
        client: KubernetesClient, component: String, instance: String = ProcessInfo.processInfo.hostName, window: Duration = .seconds(600),
        logger: Logger = Logger(label: "sextant.events")
    ) {
        self.client = client
        self.component = component
        self.instance = instance
        self.window = window
        self.logger = logger
    }

    /// Records an event about `object`.
    public func record<K: Resource>(_ object: K, type: EventType, reason: String, message: String) async {
        let namespace = object.metadata.namespace ?? "default"
        let key = "\(object.metadata.uid ?? object.metadata.name ?? "")|\(type.rawValue)|\(reason)|\(message)"
        let events = Api<Event>(client: client, namespace: namespace)
        let now = KubeTime.now()
        if var previous = seen[key], ContinuousClock.now - previous.last < window {
            previous.count += 1
            previous.last = ContinuousClock.now
            seen[key] = previous
            do {
                _ = try await events.patch(previous.name, .merge(["count": .integer(Int64(previous.count)), "lastTimestamp": .string(now.description)]))
                return
            } catch {
                logger.debug("could not update event; creating a new one", metadata: ["error": "\(error)"])
            }
        }
        let name = "\(object.metadata.name ?? "object").\(String(UInt64(Date().timeIntervalSince1970 * 1_000_000_000), radix: 16))"
        var event = Event(
            metadata: ObjectMeta(name: name, namespace: namespace),
            involvedObject: ObjectReference(
                apiVersion: K.apiVersion, kind: K.kind, namespace: object.metadata.namespace, name: object.metadata.name, uid: object.metadata.uid),
            reason: reason, message: message, type: type.rawValue)
        event.involvedObject.resourceVersion = object.metadata.resourceVersion
        event.count = 1
        event.firstTimestamp = now
        event.lastTimestamp = now
        event.source = Event.EventSource(component: component)
        event.reportingComponent = component
        event.reportingInstance = instance
        do {
            _ = try await events.create(event)
            seen[key] = Seen(name: name, count: 1, last: ContinuousClock.now)
        } catch {
            logger.warning(
                "could not record event", metadata: ["k8s.object": "\(namespace)/\(object.metadata.name ?? "")", "reason": "\(reason)", "error": "\(error)"])
        }
    }
}
