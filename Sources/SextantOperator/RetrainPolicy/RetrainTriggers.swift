import Foundation
import KubeCore
import SextantAPI

/// A measured serving signal and since when it has been past its threshold.
public struct SignalReading: Sendable, Equatable {
    public var value: Double?
    /// Whether the value is past the trigger's threshold.
    public var breaching: Bool
    /// Since when it has been past (the condition's transition time), when it is.
    public var since: KubeTime?

    public init(value: Double?, breaching: Bool, since: KubeTime?) {
        self.value = value
        self.breaching = breaching
        self.since = since
    }
}

/// What a RetrainPolicy's triggers say right now. Pure: the reconciler measures, this decides.
public enum RetrainTriggerEvaluation {
    /// A reason to start a run, or nil.
    public struct Decision: Sendable, Equatable {
        public var trigger: TriggerType
        public var message: String
        /// An on-demand request's annotation value, to record as handled.
        public var request: String?
    }

    /// The next time the schedule fires after the last run (or creation), or nil.
    public static func nextScheduleTime(_ policy: RetrainPolicy, after: Date) -> Date? {
        guard let schedule = policy.spec.triggers?.schedule, let cron = try? CronSchedule(parsing: schedule.cron) else { return nil }
        let zone = schedule.timeZone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
        return cron.next(after: after, in: zone)
    }

    public static func decide(
        _ policy: RetrainPolicy, now: KubeTime, drift: SignalReading?, accuracy: SignalReading?
    ) -> Decision? {
        let status = policy.status ?? RetrainPolicyStatus()
        if let request = policy.metadata.annotations?[RetrainPolicy.runRequestAnnotation], !request.isEmpty, request != status.lastHandledRequest {
            return Decision(trigger: .onDemand, message: "requested with \(RetrainPolicy.runRequestAnnotation)=\(request)", request: request)
        }
        if policy.spec.suspend == true { return nil }
        let cooldown = DurationString.seconds(policy.spec.cooldown ?? "1h") ?? 3600
        if let last = status.lastRunTime, now.date.timeIntervalSince(last.date) < cooldown { return nil }
        if let next = status.nextScheduleTime, now >= next {
            return Decision(trigger: .schedule, message: "schedule \(policy.spec.triggers?.schedule?.cron ?? "") fired at \(next)", request: nil)
        }
        if let trigger = policy.spec.triggers?.drift, let drift, drift.breaching, let since = drift.since {
            let needed = DurationString.seconds(trigger.for ?? "10m") ?? 600
            if now.date.timeIntervalSince(since.date) >= needed {
                return Decision(
                    trigger: .drift,
                    message:
                        "input drift (max PSI \(format(drift.value))) above \(format(trigger.threshold)) for \(trigger.for ?? "10m") on InferenceService \(trigger.inferenceService)",
                    request: nil)
            }
        }
        if let trigger = policy.spec.triggers?.accuracy, let accuracy, accuracy.breaching, let since = accuracy.since {
            let needed = DurationString.seconds(trigger.for ?? "10m") ?? 600
            if now.date.timeIntervalSince(since.date) >= needed {
                let metric = trigger.metric ?? .accuracy
                return Decision(
                    trigger: .accuracy,
                    message:
                        "online \(metric.rawValue) \(format(accuracy.value)) past \(format(trigger.threshold)) for \(trigger.for ?? "10m") on InferenceService \(trigger.inferenceService)",
                    request: nil)
            }
        }
        return nil
    }

    static func format(_ value: Double?) -> String {
        guard let value else { return "unknown" }
        return String(format: "%.4g", value)
    }
}
