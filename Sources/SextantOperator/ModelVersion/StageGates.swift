import SextantAPI

/// The Model's promotion gates for one stage, checked against a version: training-metric
/// bounds, no regression against the current Production version, explicit approval.
/// Pure, so each gate is table-tested.
public enum StageGates {
    /// Every gate the version fails, each as one sentence naming the metric and the numbers.
    /// Empty means the version may enter the stage.
    public static func failures(
        of version: ModelVersion, entering stage: ModelStage, model: Model, production: ModelVersion?
    ) -> [String] {
        let gate: StageGate? =
            switch stage {
            case .staging: model.spec.promotion?.staging
            case .production: model.spec.promotion?.production
            case .development, .archived: nil
            }
        guard let gate else { return [] }
        let metrics = version.spec.metrics ?? [:]
        var failures: [String] = []
        for bound in gate.metrics ?? [] {
            guard let value = metrics[bound.metric] else {
                failures.append("metric \(bound.metric) is missing (the \(stage.rawValue) gate needs it)")
                continue
            }
            if let min = bound.min, value < min { failures.append("\(bound.metric) \(format(value)) is below the minimum \(format(min))") }
            if let max = bound.max, value > max { failures.append("\(bound.metric) \(format(value)) is above the maximum \(format(max))") }
        }
        if let production, production.spec.version != version.spec.version {
            let current = production.spec.metrics ?? [:]
            for rule in gate.noRegression ?? [] {
                guard let value = metrics[rule.metric] else {
                    failures.append("metric \(rule.metric) is missing (no-regression gate against version \(production.spec.version))")
                    continue
                }
                // A Production version without the metric cannot be regressed against.
                guard let baseline = current[rule.metric] else { continue }
                let worsening = (rule.direction ?? .higherIsBetter) == .higherIsBetter ? baseline - value : value - baseline
                if worsening > rule.maxRegression + 1e-12 {
                    failures.append(
                        "\(rule.metric) \(format(value)) regresses by \(format(worsening)) against Production version \(production.spec.version) (\(format(baseline))); at most \(format(rule.maxRegression)) allowed"
                    )
                }
            }
        }
        if gate.requireApproval == true, (version.metadata.annotations?[ModelVersion.approvedByAnnotation] ?? "").isEmpty {
            failures.append("approval required: annotate with \(ModelVersion.approvedByAnnotation)=<name>")
        }
        return failures
    }

    static func format(_ value: Double) -> String {
        let rounded = (value * 1e6).rounded() / 1e6
        return rounded == rounded.rounded() && abs(rounded) < 1e15 ? String(Int64(rounded)) : String(rounded)
    }
}
