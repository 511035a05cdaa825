import Foundation
import KubeCore
import SextantAPI
import Testing

@testable import SextantOperator

@Suite("Retrain triggers")
struct RetrainTriggersUnitTests {
    static let hourly = RetrainTriggers(schedule: ScheduleTrigger(cron: "0 * * * *"))
    static let signals = RetrainTriggers(
        drift: DriftTrigger(inferenceService: "fraud-api", threshold: 0.2),
        accuracy: AccuracyTrigger(inferenceService: "fraud-api", threshold: 0.9, for: "30m"))

    func decide(
        _ subject: RetrainPolicy, now: KubeTime = at(0), drift: SignalReading? = nil, accuracy: SignalReading? = nil
    ) -> RetrainTriggerEvaluation.Decision? {
        RetrainTriggerEvaluation.decide(subject, now: now, drift: drift, accuracy: accuracy)
    }

    @Test("an on-demand request runs once per annotation value, even when suspended or cooling down")
    func onDemand() {
        let request = [RetrainPolicy.runRequestAnnotation: "2027-01-15T08:00"]
        let fresh = decide(policy(annotations: request))
        #expect(fresh == .init(trigger: .onDemand, message: "requested with ml.sextant.dev/retrain-requested=2027-01-15T08:00", request: "2027-01-15T08:00"))
        #expect(decide(policy(annotations: request, status: RetrainPolicyStatus(lastHandledRequest: "2027-01-15T08:00"))) == nil)
        #expect(decide(policy(annotations: request, status: RetrainPolicyStatus(lastHandledRequest: "earlier")))?.trigger == .onDemand)
        #expect(decide(policy(annotations: [RetrainPolicy.runRequestAnnotation: ""])) == nil)
        #expect(decide(policy(suspend: true, annotations: request))?.trigger == .onDemand)
        #expect(decide(policy(annotations: request, status: RetrainPolicyStatus(lastRunTime: at(-60))))?.trigger == .onDemand)
        // It comes before every other trigger.
        let due = RetrainPolicyStatus(nextScheduleTime: at(-1))
        #expect(decide(policy(triggers: Self.hourly, annotations: request, status: due))?.trigger == .onDemand)
    }

    @Test("a due schedule fires unless suspended or cooling down")
    func schedule() {
        let due = RetrainPolicyStatus(lastRunTime: at(-7200), nextScheduleTime: at(0))
        let fired = decide(policy(triggers: Self.hourly, status: due))
        #expect(fired?.trigger == .schedule)
        #expect(fired?.message == "schedule 0 * * * * fired at 2027-01-15T08:00:00Z")
        #expect(fired?.request == nil)
        #expect(decide(policy(triggers: Self.hourly, status: RetrainPolicyStatus(nextScheduleTime: at(1)))) == nil)
        #expect(decide(policy(triggers: Self.hourly, status: RetrainPolicyStatus())) == nil)
        #expect(decide(policy(triggers: Self.hourly, suspend: true, status: due)) == nil)
    }

    @Test(
        "cooldown since the last run",
        arguments: [
            (String?.none, -3599.0, false), (nil, -3600, true), ("10m", -599, false), ("10m", -600, true), ("0s", 0, true),
        ])
    func cooldown(_ cooldown: String?, _ lastRun: Double, _ fires: Bool) {
        let status = RetrainPolicyStatus(lastRunTime: at(lastRun), nextScheduleTime: at(-1))
        #expect((decide(policy(triggers: Self.hourly, cooldown: cooldown, status: status)) != nil) == fires)
    }

    @Test(
        "drift fires after breaching for the `for` duration",
        arguments: [
            (SignalReading(value: 0.3, breaching: true, since: at(-600)), true),
            (SignalReading(value: 0.3, breaching: true, since: at(-599)), false),
            (SignalReading(value: 0.1, breaching: false, since: nil), false),
            (SignalReading(value: 0.3, breaching: true, since: nil), false),
        ])
    func drift(_ reading: SignalReading, _ fires: Bool) {
        let decision = decide(policy(triggers: Self.signals), drift: reading)
        #expect((decision != nil) == fires)
        if fires {
            #expect(decision?.trigger == .drift)
            #expect(decision?.message == "input drift (max PSI 0.3) above 0.2 for 10m on InferenceService fraud-api")
        }
        #expect(decide(policy(triggers: Self.hourly), drift: reading) == nil)
    }

    @Test("accuracy fires after breaching for its `for` duration")
    func accuracy() {
        let long = SignalReading(value: 0.81, breaching: true, since: at(-1800))
        let decision = decide(policy(triggers: Self.signals), accuracy: long)
        #expect(decision?.trigger == .accuracy)
        #expect(decision?.message == "online Accuracy 0.81 past 0.9 for 30m on InferenceService fraud-api")
        #expect(decide(policy(triggers: Self.signals), accuracy: SignalReading(value: 0.81, breaching: true, since: at(-1799))) == nil)
        #expect(decide(policy(triggers: Self.signals), accuracy: SignalReading(value: 0.95, breaching: false, since: nil)) == nil)
        // Drift is judged first; both are subject to the cooldown.
        let drifting = SignalReading(value: 0.5, breaching: true, since: at(-3600))
        #expect(decide(policy(triggers: Self.signals), drift: drifting, accuracy: long)?.trigger == .drift)
        #expect(decide(policy(triggers: Self.signals, status: RetrainPolicyStatus(lastRunTime: at(-60))), drift: drifting, accuracy: long) == nil)
        #expect(decide(policy(triggers: Self.signals, suspend: true), drift: drifting, accuracy: long) == nil)
    }

    @Test("the next schedule time in the schedule's time zone")
    func nextSchedule() throws {
        let utc = try #require(
            RetrainTriggerEvaluation.nextScheduleTime(policy(triggers: RetrainTriggers(schedule: ScheduleTrigger(cron: "0 3 * * *"))), after: epoch.date))
        #expect(KubeTime(utc).description == "2027-01-16T03:00:00Z")
        let berlin = try #require(
            RetrainTriggerEvaluation.nextScheduleTime(
                policy(triggers: RetrainTriggers(schedule: ScheduleTrigger(cron: "0 3 * * *", timeZone: "Europe/Berlin"))), after: epoch.date))
        #expect(KubeTime(berlin).description == "2027-01-16T02:00:00Z")
        #expect(RetrainTriggerEvaluation.nextScheduleTime(policy(), after: epoch.date) == nil)
        #expect(
            RetrainTriggerEvaluation.nextScheduleTime(policy(triggers: RetrainTriggers(schedule: ScheduleTrigger(cron: "not a cron"))), after: epoch.date)
                == nil)
    }
}

@Suite("Trainer result")
struct TrainerResultUnitTests {
    static let complete = """
        {"artifact": {"uri": "s3://models/fraud/v7/model.onnx", "format": "ONNX", "digest": "\(testDigest)"},
         "metrics": {"accuracy": 0.94, "f1": 0.9},
         "lineage": {"dataset": {"uri": "s3://data/fraud/2027-01.parquet"}, "source": {"repository": "git@example.com:fraud.git", "revision": "abc123"},
                     "hyperparameters": {"C": "1.0"}},
         "driftBaseline": {"uri": "s3://models/fraud/v7/baseline.json"}}
        """

    @Test("a complete result is parsed")
    func complete() throws {
        let result = try TrainerResult.parse(Self.complete.replacingOccurrences(of: "\n", with: " "))
        #expect(result.artifact == Artifact(uri: "s3://models/fraud/v7/model.onnx", format: .onnx, digest: testDigest))
        #expect(result.metrics == ["accuracy": 0.94, "f1": 0.9])
        #expect(result.lineage?.dataset?.uri == "s3://data/fraud/2027-01.parquet")
        #expect(result.lineage?.source == SourceReference(repository: "git@example.com:fraud.git", revision: "abc123"))
        #expect(result.lineage?.hyperparameters == ["C": "1.0"])
        #expect(result.driftBaseline?.uri == "s3://models/fraud/v7/baseline.json")
        #expect(result.error == nil)
        // Written over several lines, as a pretty-printer would.
        #expect(try TrainerResult.parse(Self.complete) == result)
    }

    @Test("only the artifact is required")
    func minimal() throws {
        let result = try TrainerResult.parse(#"  {"artifact": {"uri": "file:///models/m.onnx", "digest": "\#(testDigest)"}}"# + "\n\n")
        #expect(result.artifact.uri == "file:///models/m.onnx")
        #expect(result.metrics == nil)
        #expect(result.lineage == nil)
    }

    @Test("hyper-parameters are recorded as strings")
    func hyperparameters() throws {
        let text =
            #"{"artifact": {"uri": "s3://b/k", "digest": "\#(testDigest)"}, "lineage": {"hyperparameters": {"C": 1.5, "depth": 6, "layers": [64, 32], "solver": "lbfgs", "shuffle": true}}}"#
        let result = try TrainerResult.parse(text)
        #expect(result.lineage?.hyperparameters == ["C": "1.5", "depth": "6", "layers": "[64,32]", "solver": "lbfgs", "shuffle": "true"])
    }

    @Test("log lines before the JSON are skipped")
    func logLinesFirst() throws {
        let single =
            "epoch 1 loss 0.4\nepoch 2 loss 0.2\n{\"level\": \"info\"} is not the result either\n"
            + #"{"artifact": {"uri": "s3://b/k", "digest": "\#(testDigest)"}, "metrics": {"accuracy": 0.9}}"#
        #expect(try TrainerResult.parse(single).metrics == ["accuracy": 0.9])
        let structuredLogs = #"{"level": "info", "msg": "training"}"# + "\n" + #"{"artifact": {"uri": "s3://b/k", "digest": "\#(testDigest)"}}"#
        #expect(try TrainerResult.parse(structuredLogs).artifact.uri == "s3://b/k")
        let pretty = "epoch 1 loss 0.4\nsaving model\n" + Self.complete
        #expect(try TrainerResult.parse(pretty).artifact.uri == "s3://models/fraud/v7/model.onnx")
    }

    struct Rejection: Sendable, CustomTestStringConvertible {
        var label: String
        var message: String
        var error: String
        var testDescription: String { label }
    }

    static let rejections: [Rejection] = [
        Rejection(
            label: "empty", message: " \n", error: "the trainer wrote no termination message (expected one JSON object with artifact.uri and artifact.digest)"),
        Rejection(label: "error field", message: #"{"error": "out of memory"}"#, error: "the trainer reported an error: out of memory"),
        Rejection(
            label: "error after logs", message: "loading data\n" + #"{"error": "dataset not found"}"#, error: "the trainer reported an error: dataset not found"
        ),
        Rejection(label: "no artifact", message: #"{"metrics": {"accuracy": 0.9}}"#, error: "termination message has no artifact.uri"),
        Rejection(label: "no digest", message: #"{"artifact": {"uri": "s3://b/k"}}"#, error: "termination message has no artifact.digest"),
        Rejection(
            label: "bad digest", message: #"{"artifact": {"uri": "s3://b/k", "digest": "sha256:ABC"}}"#,
            error: "artifact.digest sha256:ABC is not sha256: followed by 64 lower-case hex digits"),
        Rejection(
            label: "not JSON", message: "Traceback (most recent call last):\nKeyError: 'label'",
            error: "termination message is not JSON: Traceback (most recent call last):\nKeyError: 'label'"),
        Rejection(label: "a JSON array", message: "[1, 2]", error: "termination message is not JSON: [1, 2]"),
    ]

    @Test("unusable messages are rejected with a reason", arguments: rejections)
    func rejected(_ test: Rejection) {
        #expect(throws: TrainerResult.Invalid.self) { try TrainerResult.parse(test.message) }
        do {
            _ = try TrainerResult.parse(test.message)
        } catch {
            #expect("\(error)" == test.error)
        }
    }

    @Test("fields of the wrong type do not match the contract")
    func wrongTypes() {
        do {
            _ = try TrainerResult.parse(#"{"artifact": {"uri": "s3://b/k", "digest": "\#(testDigest)"}, "metrics": {"accuracy": "high"}}"#)
            Issue.record("parsed a result with a string metric")
        } catch {
            #expect("\(error)".hasPrefix("termination message does not match the trainer contract: "))
        }
    }
}

@Suite("Retrain Job builder")
struct RetrainJobBuilderUnitTests {
    static let twoContainers: JSONValue = [
        "backoffLimit": 1,
        "template": [
            "metadata": ["labels": ["team": "fraud"]],
            "spec": [
                "restartPolicy": "Never",
                "containers": [
                    [
                        "name": "train", "image": "trainer:1",
                        "env": [["name": "SEXTANT_OUTPUT_URI", "value": "s3://override"], ["name": "EPOCHS", "value": "5"]],
                    ],
                    ["name": "sidecar", "image": "uploader:1"],
                ],
            ],
        ],
    ]

    func env(_ container: JSONValue?) -> [String: String] {
        Dictionary(uniqueKeysWithValues: (container?["env"]?.arrayValue ?? []).map { ($0["name"]?.stringValue ?? "", $0["value"]?.stringValue ?? "") })
    }

    @Test("every container gets the run's environment without losing what the template sets")
    func environment() throws {
        let job = RetrainJobBuilder.job(for: policy(jobSpec: Self.twoContainers), version: 7, trigger: .drift, dataset: "s3://data/fraud.parquet", now: epoch)
        let containers = try #require(job.spec?.value(at: ["template", "spec", "containers"])?.arrayValue)
        #expect(containers.count == 2)
        let run = "fraud-retrain-v7-tro8w0"
        let expected = [
            "SEXTANT_MODEL": "fraud", "SEXTANT_VERSION": "7", "SEXTANT_OUTPUT_URI": "s3://models/fraud/v7/model.onnx", "SEXTANT_NAMESPACE": "ml",
            "SEXTANT_RUN": run, "SEXTANT_TRIGGER": "Drift", "SEXTANT_DATASET": "s3://data/fraud.parquet",
        ]
        #expect(env(containers[1]) == expected)
        var trainer = expected
        trainer["SEXTANT_OUTPUT_URI"] = "s3://override"
        trainer["EPOCHS"] = "5"
        #expect(env(containers[0]) == trainer)
        #expect(containers[0]["env"]?.arrayValue?.count == 8)
        #expect(containers[0]["env"]?.arrayValue?.prefix(2).map { $0["name"] } == ["SEXTANT_OUTPUT_URI", "EPOCHS"])
        #expect(containers[0]["image"] == "trainer:1")

        let noDataset = RetrainJobBuilder.job(for: policy(), version: 1, trigger: .onDemand, dataset: nil, now: epoch)
        let only = try #require(noDataset.spec?.value(at: ["template", "spec", "containers"])?.arrayValue?.first)
        #expect(env(only)["SEXTANT_DATASET"] == nil)
        #expect(env(only)["SEXTANT_TRIGGER"] == "OnDemand")
    }

    @Test("name, labels, annotations and owner")
    func metadata() {
        let template = TemplateMetadata(labels: ["team": "fraud"], annotations: ["note": "nightly"])
        let job = RetrainJobBuilder.job(
            for: policy(jobSpec: Self.twoContainers, jobMetadata: template), version: 7, trigger: .schedule, dataset: nil, now: epoch)
        #expect(job.metadata.name == "fraud-retrain-v7-tro8w0")
        #expect(job.metadata.namespace == "ml")
        #expect(
            job.metadata.labels == [
                "team": "fraud", "app.kubernetes.io/managed-by": "sextant-operator", "ml.sextant.dev/retrain-policy": "fraud-retrain",
                "ml.sextant.dev/model": "fraud",
            ])
        #expect(job.metadata.annotations == ["note": "nightly", "ml.sextant.dev/version": "7", "ml.sextant.dev/trigger": "Schedule"])
        #expect(
            job.metadata.ownerReferences == [
                OwnerReference(
                    apiVersion: "ml.sextant.dev/v1alpha1", kind: "RetrainPolicy", name: "fraud-retrain",
                    uid: "uid-fraud-retrain", controller: true, blockOwnerDeletion: true)
            ])
        #expect(job.spec?["backoffLimit"] == 1)
        #expect(job.spec?.value(at: ["template", "spec", "restartPolicy"]) == "Never")
        #expect(job.spec?.value(at: ["template", "metadata", "labels"]) == ["team": "fraud", "ml.sextant.dev/retrain-policy": "fraud-retrain"])
        // A template without pod metadata gets the policy label too.
        let plain = RetrainJobBuilder.job(for: policy(), version: 2, trigger: .schedule, dataset: nil, now: at(36))
        #expect(plain.spec?.value(at: ["template", "metadata", "labels"]) == ["ml.sextant.dev/retrain-policy": "fraud-retrain"])
        #expect(plain.metadata.name == "fraud-retrain-v2-tro8x0")
    }

    @Test(
        "output URI placeholders are filled",
        arguments: [
            ("s3://models/{model}/v{version}/model.onnx", "s3://models/fraud/v3/model.onnx"),
            ("s3://b/{namespace}/{model}/{run}/{version}.onnx", "s3://b/ml/fraud/fraud-retrain-v3-tro8w0/3.onnx"),
            ("pvc://models/{model}-{version}-{version}", "pvc://models/fraud-3-3"),
        ])
    func outputURI(_ template: String, _ uri: String) throws {
        let job = RetrainJobBuilder.job(for: policy(outputTemplate: template), version: 3, trigger: .schedule, dataset: nil, now: epoch)
        let container = try #require(job.spec?.value(at: ["template", "spec", "containers"])?.arrayValue?.first)
        #expect(env(container)["SEXTANT_OUTPUT_URI"] == uri)
    }
}
