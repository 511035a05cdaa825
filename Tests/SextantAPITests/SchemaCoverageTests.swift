import KubeCore
import Testing

@testable import SextantAPI

/// The schemas are written next to the Swift types; these tests prove the two agree in both
/// directions: every field a fully populated object encodes is in the schema (nothing would be
/// pruned), and every field in the schema is produced by some Swift field.
@Suite("Schemas cover the Swift types exactly")
struct SchemaCoverageTests {
    /// Per kind, fully populated objects; mutually exclusive fields need more than one.
    static let full: [(String, [JSONValue], JSONSchemaProps)] = [
        ("Model", [try! JSONValue(encoding: Model.full())], Model.openAPISchema),
        ("ModelVersion", [try! JSONValue(encoding: ModelVersion.full())], ModelVersion.openAPISchema),
        (
            "InferenceService",
            [try! JSONValue(encoding: InferenceService.full()), try! JSONValue(encoding: InferenceService.fullAlternative())],
            InferenceService.openAPISchema
        ),
        ("RetrainPolicy", [try! JSONValue(encoding: RetrainPolicy.full())], RetrainPolicy.openAPISchema),
    ]

    @Test("a fully populated object validates, and pruning removes nothing", arguments: full.map(\.0))
    func fullObjectsValidate(kind: String) throws {
        let (_, objects, schema) = try #require(Self.full.first { $0.0 == kind })
        for json in objects {
            let errors = SchemaValidator.validate(json, against: schema, at: "")
            #expect(errors.isEmpty, "\(errors.summary)")
            let (_, removed) = SchemaRewriting.prune(json, schema: schema)
            #expect(removed.isEmpty, "fields unknown to the schema: \(removed)")
        }
    }

    @Test("every schema field is produced by the Swift type", arguments: full.map(\.0))
    func everySchemaFieldIsUsed(kind: String) throws {
        let (_, objects, schema) = try #require(Self.full.first { $0.0 == kind })
        var schemaPaths = Set<String>()
        collect(schema, "", into: &schemaPaths)
        var valuePaths = Set<String>()
        for json in objects { collect(json, schema, "", into: &valuePaths) }
        let unused = schemaPaths.subtracting(valuePaths).filter { !$0.hasPrefix(".metadata") && $0 != ".apiVersion" && $0 != ".kind" }
        #expect(unused.isEmpty, "schema fields no Swift field fills: \(unused.sorted())")
    }

    @Test("a full object survives a JSON round trip unchanged")
    func roundTrip() throws {
        #expect(try JSONValue(encoding: Model.full()).decode(as: Model.self) == Model.full())
        #expect(try JSONValue(encoding: ModelVersion.full()).decode(as: ModelVersion.self) == ModelVersion.full())
        #expect(try JSONValue(encoding: InferenceService.full()).decode(as: InferenceService.self) == InferenceService.full())
        #expect(try JSONValue(encoding: RetrainPolicy.full()).decode(as: RetrainPolicy.self) == RetrainPolicy.full())
    }

    /// Leaf paths of a schema: `.spec.rollout.steps[]`, `.spec.metrics{}`; preserved objects stop the walk.
    private func collect(_ schema: JSONSchemaProps, _ path: String, into paths: inout Set<String>) {
        if let properties = schema.properties, !properties.isEmpty {
            for (name, property) in properties { collect(property, "\(path).\(name)", into: &paths) }
        } else if let items = schema.items {
            collect(items, path + "[]", into: &paths)
        } else if case .schema(let values) = schema.additionalProperties {
            collect(values, path + "{}", into: &paths)
        } else {
            paths.insert(path)
        }
    }

    /// The same leaf paths, as far as a value reaches them.
    private func collect(_ value: JSONValue, _ schema: JSONSchemaProps, _ path: String, into paths: inout Set<String>) {
        if let properties = schema.properties, !properties.isEmpty, let members = value.objectValue {
            for (name, member) in members {
                if let property = properties[name] { collect(member, property, "\(path).\(name)", into: &paths) }
            }
        } else if let items = schema.items, let elements = value.arrayValue {
            for element in elements { collect(element, items, path + "[]", into: &paths) }
        } else if case .schema(let values) = schema.additionalProperties, let members = value.objectValue {
            for member in members.values { collect(member, values, path + "{}", into: &paths) }
        } else {
            paths.insert(path)
        }
    }
}

@Suite("Defaulting")
struct DefaultingTests {
    /// The schema's defaults, applied as the API server would, must equal the Swift defaults.
    func check<T: SextantResource>(_ object: T) throws {
        let schemaDefaulted = SchemaRewriting.applyDefaults(try JSONValue(encoding: object), schema: T.openAPISchema)
        let swiftDefaulted = try JSONValue(encoding: object.withDefaults())
        #expect(schemaDefaulted == swiftDefaulted, "\(T.kind): schema \(schemaDefaulted.jsonString()) vs Swift \(swiftDefaulted.jsonString())")
        #expect(object.withDefaults().withDefaults() == object.withDefaults(), "defaulting is idempotent")
    }

    @Test("schema defaults and Swift defaults agree, on minimal and on full objects")
    func agree() throws {
        try check(Model.minimal())
        try check(Model.full())
        var withRetention = Model.minimal()
        withRetention.spec.retention = RetentionPolicy()
        withRetention.spec.promotion = PromotionPolicy(production: StageGate(noRegression: [RegressionGate(metric: "auc", maxRegression: 0)]))
        try check(withRetention)
        try check(ModelVersion.minimal())
        try check(ModelVersion.full())
        try check(InferenceService.minimal())
        try check(InferenceService.full())
        var partial = InferenceService.minimal()
        partial.spec.rollout = RolloutSpec(analysis: AnalysisSpec(metrics: [AnalysisMetric(name: "x", type: .successRate, min: 99)]), shadow: ShadowSpec())
        partial.spec.autoscaling = AutoscalingSpec(maxReplicas: 3, targetCPUUtilizationPercentage: 70)
        partial.spec.server = ServerSpec(image: "x")
        try check(partial)
        try check(RetrainPolicy.minimal())
        try check(RetrainPolicy.full())
        var triggers = RetrainPolicy.minimal()
        triggers.spec.triggers = RetrainTriggers(
            schedule: ScheduleTrigger(cron: "@daily"), drift: DriftTrigger(inferenceService: "churn", threshold: 0.1),
            accuracy: AccuracyTrigger(inferenceService: "churn", threshold: 0.9))
        try check(triggers)
    }

    @Test("the documented defaults")
    func values() {
        let service = InferenceService.minimal().withDefaults()
        #expect(service.spec.rollout?.strategy == .canary)
        #expect(service.spec.rollout?.steps == [10, 25, 50, 100])
        #expect(service.spec.rollout?.stepInterval == "1m")
        #expect(service.spec.rollout?.autoPromote == true)
        #expect(service.spec.traffic?.provider == .router)
        #expect(service.spec.replicas == 1)
        #expect(service.spec.trackStage == nil && service.spec.pinnedVersion == nil)
        let version = ModelVersion.minimal().withDefaults()
        #expect(version.spec.stage == .development)
        #expect(version.spec.artifact.format == .onnx)
        let policy = RetrainPolicy.minimal().withDefaults()
        #expect(policy.spec.concurrencyPolicy == .forbid)
        #expect(policy.spec.newVersionStage == .development)
        #expect(policy.spec.cooldown == "1h")
        #expect(policy.spec.successfulJobsHistoryLimit == 3 && policy.spec.failedJobsHistoryLimit == 1)
        #expect(policy.spec.suspend == false)
    }
}
