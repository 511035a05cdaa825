/// The three states of a condition (`metav1.ConditionStatus`).
public enum ConditionStatus: String, Codable, Sendable, CaseIterable {
    case `true` = "True"
    case `false` = "False"
    case unknown = "Unknown"
}

/// `metav1.Condition`: one aspect of an object's current state, with positive polarity
/// (`Ready=True` is good) and a CamelCase reason.
public struct Condition: Codable, Sendable, Hashable {
    /// CamelCase type, e.g. `Ready`, `ArtifactVerified`.
    public var type: String
    /// True, False or Unknown.
    public var status: ConditionStatus
    /// The generation of the spec this condition was computed from.
    public var observedGeneration: Int64?
    /// When `status` last changed.
    public var lastTransitionTime: KubeTime
    /// CamelCase, machine-readable cause of the last transition.
    public var reason: String
    /// Human-readable details; may be empty.
    public var message: String

    /// Creates a condition.
    public init(
        type: String, status: ConditionStatus, reason: String, message: String = "",
        observedGeneration: Int64? = nil, lastTransitionTime: KubeTime = .now()
    ) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.observedGeneration = observedGeneration
        self.lastTransitionTime = lastTransitionTime
    }
}

extension Array where Element == Condition {
    /// The condition of the given type, if present.
    public subscript(type type: String) -> Condition? {
        first { $0.type == type }
    }

    /// Sets a condition with Kubernetes transition semantics: `lastTransitionTime` moves only
    /// when the status changes; reason, message and observed generation are always updated.
    /// Returns whether anything changed.
    @discardableResult
    public mutating func set(_ condition: Condition) -> Bool {
        guard let index = firstIndex(where: { $0.type == condition.type }) else {
            append(condition)
            return true
        }
        var updated = condition
        if self[index].status == condition.status {
            updated.lastTransitionTime = self[index].lastTransitionTime
        }
        guard self[index] != updated else { return false }
        self[index] = updated
        return true
    }

    /// Whether the condition of the given type is present with status True.
    public func isTrue(_ type: String) -> Bool {
        self[type: type]?.status == .true
    }
}
