import KubeCore

/// An A/B experiment between versions: fixed traffic shares (sticky by `traffic.stickyHeader`
/// when set), a metric, and a statistical test that decides which version is better.
public struct ExperimentSpec: Codable, Sendable, Hashable {
    /// The versions compared, the first being the control, with traffic shares summing to 100.
    public var variants: [ExperimentVariant]
    /// What is compared.
    public var metric: ExperimentMetric
    /// Significance level of the test. Default 0.05 (divided among the comparisons with the control).
    public var significance: Double?
    /// Observations each variant needs before the verdict (requests, or labelled predictions for Accuracy). Default 100.
    public var minSamples: Int32?
    /// The longest the experiment runs; at its end the verdict is taken with what was observed.
    public var duration: String?
    /// Serve the winner alone once the verdict names one. Default false (report only).
    public var promoteWinner: Bool?
    /// For metric Business: the name posted with feedback (`"metrics": {"<name>": value}`).
    public var businessMetric: String?
    /// For metric Business: which way is better. Default HigherIsBetter.
    public var direction: MetricDirection?

    public init(
        variants: [ExperimentVariant], metric: ExperimentMetric, significance: Double? = nil, minSamples: Int32? = nil, duration: String? = nil,
        promoteWinner: Bool? = nil,
        businessMetric: String? = nil, direction: MetricDirection? = nil
    ) {
        self.businessMetric = businessMetric
        self.direction = direction
        self.variants = variants
        self.metric = metric
        self.significance = significance
        self.minSamples = minSamples
        self.duration = duration
        self.promoteWinner = promoteWinner
    }
}

/// One version in an experiment.
public struct ExperimentVariant: Codable, Sendable, Hashable {
    public var version: Int64
    /// Percentage of traffic.
    public var weight: Int32

    public init(version: Int64, weight: Int32) {
        self.version = version
        self.weight = weight
    }
}

/// Metrics an experiment compares, and the test each uses.
public enum ExperimentMetric: String, Codable, Sendable, CaseIterable, Hashable {
    /// Online accuracy from feedback labels (higher is better): two-proportion z-test.
    case accuracy = "Accuracy"
    /// Requests answered without a server error (higher is better): two-proportion z-test.
    case successRate = "SuccessRate"
    /// Request latency (lower is better): Welch's t-test.
    case latency = "Latency"
    /// A business metric posted with feedback (`businessMetric`, `direction`): Welch's t-test.
    case business = "Business"
}

/// The state and verdict of an experiment.
public struct ExperimentStatus: Codable, Sendable, Hashable {
    /// Running, Concluded (a winner) or Inconclusive (no significant difference).
    public var phase: ExperimentPhase
    public var startedAt: KubeTime
    /// What each variant showed so far.
    public var variants: [ExperimentVariantResult]
    /// The test used: TwoProportionZTest or WelchTTest.
    public var test: String
    /// The best comparison with the control: statistic, two-sided p-value, effect size.
    public var statistic: Double?
    public var pValue: Double?
    public var effectSize: Double?
    /// The version the verdict names.
    public var winner: Int64?
    public var concludedAt: KubeTime?
    public var message: String?

    public init(
        phase: ExperimentPhase, startedAt: KubeTime, variants: [ExperimentVariantResult], test: String, statistic: Double? = nil,
        pValue: Double? = nil, effectSize: Double? = nil, winner: Int64? = nil, concludedAt: KubeTime? = nil, message: String? = nil
    ) {
        self.phase = phase
        self.startedAt = startedAt
        self.variants = variants
        self.test = test
        self.statistic = statistic
        self.pValue = pValue
        self.effectSize = effectSize
        self.winner = winner
        self.concludedAt = concludedAt
        self.message = message
    }
}

/// Phases of an experiment.
public enum ExperimentPhase: String, Codable, Sendable, CaseIterable, Hashable {
    case running = "Running"
    case concluded = "Concluded"
    case inconclusive = "Inconclusive"
}

/// One variant's observations.
public struct ExperimentVariantResult: Codable, Sendable, Hashable {
    public var version: Int64
    public var weight: Int32
    public var samples: Int64
    /// The metric's value: a proportion (0–1) or a mean latency in ms.
    public var value: Double?

    public init(version: Int64, weight: Int32, samples: Int64, value: Double?) {
        self.version = version
        self.weight = weight
        self.samples = samples
        self.value = value
    }
}

extension ExperimentSpec {
    static var schema: JSONSchemaProps {
        .object(
            "An A/B experiment between versions, decided by a statistical test.", required: ["variants", "metric"],
            properties: [
                "variants": .array(
                    "The versions compared (the first is the control) with traffic shares summing to 100.",
                    of: .object(
                        "A version and its traffic share.", required: ["version", "weight"],
                        properties: [
                            "version": .integer("Version number.", minimum: 1, format: "int64"),
                            "weight": .integer("Percentage of traffic.", minimum: 0, maximum: 100),
                        ]),
                    minItems: 2, maxItems: 10, listType: "atomic"
                )
                .validated("self.map(v, v.weight).sum() == 100", message: "variant weights must sum to 100"),
                "metric": .enumeration(ExperimentMetric.self, "Accuracy and SuccessRate use a two-proportion z-test; Latency and Business use Welch's t-test."),
                "businessMetric": .string("For metric Business: the metric name posted with feedback.", pattern: "^[A-Za-z][A-Za-z0-9_.-]{0,62}$"),
                "direction": .enumeration(MetricDirection.self, "For metric Business: which way is better.").defaulted(to: "HigherIsBetter"),
                "significance": .number("Significance level.", minimum: 0.0001, maximum: 0.5).defaulted(to: 0.05),
                "minSamples": .integer("Observations per variant before the verdict.", minimum: 2).defaulted(to: 100),
                "duration": DurationString.schema("The longest the experiment runs."),
                "promoteWinner": .boolean("Serve the winner alone once the verdict names one.").defaulted(to: false),
            ]
        )
        .validated("self.metric != 'Business' || has(self.businessMetric)", message: "metric Business needs businessMetric")
    }

    func validate(at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if metric == .business, businessMetric == nil {
            errors.append(FieldError(.required, path.child("businessMetric"), "metric Business needs businessMetric"))
        }
        if variants.count < 2 {
            errors.append(FieldError(.invalid, path.child("variants"), "an experiment needs at least two variants"))
        }
        if variants.map({ Int($0.weight) }).reduce(0, +) != 100 {
            errors.append(FieldError(.invalid, path.child("variants"), "variant weights must sum to 100"))
        }
        if Set(variants.map(\.version)).count != variants.count {
            errors.append(FieldError(.duplicate, path.child("variants"), "each version may appear once"))
        }
        for (index, variant) in variants.enumerated() {
            if variant.version < 1 {
                errors.append(
                    FieldError(.invalid, path.child("variants").index(index).child("version"), "must be at least 1", badValue: .integer(variant.version)))
            }
            if !(0...100).contains(variant.weight) {
                errors.append(
                    FieldError(
                        .invalid, path.child("variants").index(index).child("weight"), "must be a percentage from 0 to 100",
                        badValue: .integer(Int64(variant.weight))))
            }
        }
        if let significance, !(significance > 0 && significance < 0.5) {
            errors.append(FieldError(.invalid, path.child("significance"), "must be between 0 and 0.5", badValue: .number(significance)))
        }
        errors += DurationString.check(duration, path.child("duration"), minimumSeconds: 1)
        return errors
    }
}

extension ExperimentStatus {
    static var schema: JSONSchemaProps {
        .object(
            "The state and verdict of the experiment.", required: ["phase", "startedAt", "variants", "test"],
            properties: [
                "phase": .enumeration(ExperimentPhase.self, "Running, Concluded or Inconclusive."),
                "startedAt": .string("When it started.", format: "date-time"),
                "variants": .array(
                    "What each variant showed.",
                    of: .object(
                        "One variant's observations.", required: ["version", "weight", "samples"],
                        properties: [
                            "version": .integer("Version number.", minimum: 1, format: "int64"),
                            "weight": .integer("Percentage of traffic.", minimum: 0, maximum: 100),
                            "samples": .integer("Observations.", minimum: 0, format: "int64"),
                            "value": .number("The metric: a proportion or a mean latency in ms."),
                        ])),
                "test": .string("TwoProportionZTest or WelchTTest."),
                "statistic": .number("z or t of the deciding comparison."),
                "pValue": .number("Two-sided p-value of the deciding comparison."),
                "effectSize": .number("Cohen's h (proportions) or d (means)."),
                "winner": .integer("The version the verdict names.", minimum: 1, format: "int64"),
                "concludedAt": .string("When the verdict was taken.", format: "date-time"),
                "message": .string("The verdict in words."),
            ])
    }
}
