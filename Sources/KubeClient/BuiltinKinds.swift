import Foundation
import KubeCore

/// Where a built-in kind lives: what `JSONBodiedObject` needs to be a `Resource`.
public protocol BuiltinKind: Sendable {
    static var group: String { get }
    static var version: String { get }
    static var plural: String { get }
    static var kind: String { get }
    static var namespaced: Bool { get }
}

/// A built-in object whose spec and status are carried as JSON: the operator builds them from
/// pure functions and reads a few status fields, so full Swift models of every field are not
/// needed. `spec` and `status` keep every field the server sends.
public struct JSONBodiedObject<Kind: BuiltinKind>: Resource, Hashable {
    public static var group: String { Kind.group }
    public static var version: String { Kind.version }
    public static var plural: String { Kind.plural }
    public static var kind: String { Kind.kind }
    public static var namespaced: Bool { Kind.namespaced }

    public var metadata: ObjectMeta
    public var spec: JSONValue?
    public var status: JSONValue?

    public init(metadata: ObjectMeta, spec: JSONValue? = nil, status: JSONValue? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    enum CodingKeys: String, CodingKey { case metadata, spec, status }
}

/// The JSON-bodied built-in kinds.
public enum BuiltinKinds {
    public enum Deployment: BuiltinKind {
        public static let group = "apps", version = "v1", plural = "deployments", kind = "Deployment", namespaced = true
    }
    public enum Service: BuiltinKind {
        public static let group = "", version = "v1", plural = "services", kind = "Service", namespaced = true
    }
    public enum Pod: BuiltinKind {
        public static let group = "", version = "v1", plural = "pods", kind = "Pod", namespaced = true
    }
    public enum Job: BuiltinKind {
        public static let group = "batch", version = "v1", plural = "jobs", kind = "Job", namespaced = true
    }
    public enum HorizontalPodAutoscaler: BuiltinKind {
        public static let group = "autoscaling", version = "v2", plural = "horizontalpodautoscalers", kind = "HorizontalPodAutoscaler", namespaced = true
    }
    public enum Namespace: BuiltinKind {
        public static let group = "", version = "v1", plural = "namespaces", kind = "Namespace", namespaced = false
    }
}

/// `apps/v1` Deployment.
public typealias Deployment = JSONBodiedObject<BuiltinKinds.Deployment>
/// `v1` Service.
public typealias Service = JSONBodiedObject<BuiltinKinds.Service>
/// `v1` Pod.
public typealias Pod = JSONBodiedObject<BuiltinKinds.Pod>
/// `batch/v1` Job.
public typealias Job = JSONBodiedObject<BuiltinKinds.Job>
/// `autoscaling/v2` HorizontalPodAutoscaler.
public typealias HorizontalPodAutoscaler = JSONBodiedObject<BuiltinKinds.HorizontalPodAutoscaler>
/// `v1` Namespace.
public typealias Namespace = JSONBodiedObject<BuiltinKinds.Namespace>

/// `v1` ConfigMap.
public struct ConfigMap: Resource, Hashable {
    public static let group = "", version = "v1", plural = "configmaps", kind = "ConfigMap"
    public static let namespaced = true
    public var metadata: ObjectMeta
    public var data: [String: String]?
    public var binaryData: [String: String]?

    public init(metadata: ObjectMeta, data: [String: String]? = nil) {
        self.metadata = metadata
        self.data = data
    }
}

/// `v1` Secret; `data` values are base64, `stringData` is write-only plain text.
public struct Secret: Resource, Hashable {
    public static let group = "", version = "v1", plural = "secrets", kind = "Secret"
    public static let namespaced = true
    public var metadata: ObjectMeta
    public var type: String?
    public var data: [String: String]?
    public var stringData: [String: String]?

    public init(metadata: ObjectMeta, type: String? = nil, data: [String: String]? = nil, stringData: [String: String]? = nil) {
        self.metadata = metadata
        self.type = type
        self.data = data
        self.stringData = stringData
    }
}

/// `coordination.k8s.io/v1` Lease, used for leader election.
public struct Lease: Resource, Hashable {
    public static let group = "coordination.k8s.io", version = "v1", plural = "leases", kind = "Lease"
    public static let namespaced = true
    public var metadata: ObjectMeta
    public var spec: Spec?

    public struct Spec: Codable, Sendable, Hashable {
        public var holderIdentity: String?
        public var leaseDurationSeconds: Int32?
        public var acquireTime: MicroTime?
        public var renewTime: MicroTime?
        public var leaseTransitions: Int32?

        public init(
            holderIdentity: String? = nil, leaseDurationSeconds: Int32? = nil, acquireTime: MicroTime? = nil, renewTime: MicroTime? = nil,
            leaseTransitions: Int32? = nil
        ) {
            self.holderIdentity = holderIdentity
            self.leaseDurationSeconds = leaseDurationSeconds
            self.acquireTime = acquireTime
            self.renewTime = renewTime
            self.leaseTransitions = leaseTransitions
        }
    }

    public init(metadata: ObjectMeta, spec: Spec? = nil) {
        self.metadata = metadata
        self.spec = spec
    }
}

/// `v1` Event, what `kubectl describe` shows.
public struct Event: Resource, Hashable {
    public static let group = "", version = "v1", plural = "events", kind = "Event"
    public static let namespaced = true
    public var metadata: ObjectMeta
    public var involvedObject: ObjectReference
    public var reason: String?
    public var message: String?
    /// `Normal` or `Warning`.
    public var type: String?
    public var count: Int32?
    public var firstTimestamp: KubeTime?
    public var lastTimestamp: KubeTime?
    public var source: EventSource?
    public var reportingComponent: String?
    public var reportingInstance: String?

    public struct EventSource: Codable, Sendable, Hashable {
        public var component: String?
        public init(component: String?) { self.component = component }
    }

    public init(metadata: ObjectMeta, involvedObject: ObjectReference, reason: String?, message: String?, type: String?) {
        self.metadata = metadata
        self.involvedObject = involvedObject
        self.reason = reason
        self.message = message
        self.type = type
    }
}

/// `v1` ObjectReference.
public struct ObjectReference: Codable, Sendable, Hashable {
    public var apiVersion: String?
    public var kind: String?
    public var namespace: String?
    public var name: String?
    public var uid: String?
    public var resourceVersion: String?
    public var fieldPath: String?

    public init(apiVersion: String? = nil, kind: String? = nil, namespace: String? = nil, name: String? = nil, uid: String? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
    }
}

/// `metav1.MicroTime`: RFC 3339 with microseconds, as Leases use.
public struct MicroTime: Codable, Sendable, Hashable, Comparable {
    public let date: Date

    public init(_ date: Date) { self.date = date }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) {
            self.date = date
        } else if let date = try? Date.ISO8601FormatStyle().parse(text) {
            self.date = date
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\"\(text)\" is not an RFC 3339 time")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        var style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        style.timeZone = TimeZone(identifier: "UTC")!
        try container.encode(date.formatted(style))
    }

    public static func < (lhs: MicroTime, rhs: MicroTime) -> Bool { lhs.date < rhs.date }
}
