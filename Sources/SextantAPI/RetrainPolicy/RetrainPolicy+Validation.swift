import Foundation
import KubeCore

extension RetrainPolicy {
    public func withDefaults() -> RetrainPolicy {
        var copy = self
        var spec = copy.spec
        if spec.triggers?.schedule != nil, spec.triggers?.schedule?.timeZone == nil { spec.triggers?.schedule?.timeZone = "UTC" }
        if spec.triggers?.drift != nil, spec.triggers?.drift?.for == nil { spec.triggers?.drift?.for = "10m" }
        if spec.triggers?.accuracy != nil {
            if spec.triggers?.accuracy?.metric == nil { spec.triggers?.accuracy?.metric = .accuracy }
            if spec.triggers?.accuracy?.for == nil { spec.triggers?.accuracy?.for = "10m" }
        }
        spec.newVersionStage = spec.newVersionStage ?? .development
        spec.concurrencyPolicy = spec.concurrencyPolicy ?? .forbid
        spec.cooldown = spec.cooldown ?? "1h"
        spec.successfulJobsHistoryLimit = spec.successfulJobsHistoryLimit ?? 3
        spec.failedJobsHistoryLimit = spec.failedJobsHistoryLimit ?? 1
        spec.suspend = spec.suspend ?? false
        copy.spec = spec
        return copy
    }

    public func validate() -> [FieldError] {
        var errors = NameRules.checkLabelReference(metadata.name ?? "", "metadata.name")
        let path = FieldPath("spec")
        errors += NameRules.checkLabelReference(spec.modelName, path.child("modelName"))
        if let triggers = spec.triggers { errors += triggers.validate(at: path.child("triggers")) }
        errors += RetrainPolicy.validateJobSpec(spec.jobTemplate.spec, at: path.child("jobTemplate").child("spec"))
        errors += RetrainPolicy.validateTemplate(spec.output.artifactURITemplate, at: path.child("output").child("artifactURITemplate"))
        if let stage = spec.newVersionStage, !RetrainPolicy.newVersionStages.contains(stage) {
            errors.append(
                FieldError(.notSupported, path.child("newVersionStage"), "supported values: \"Development\", \"Staging\"", badValue: .string(stage.rawValue)))
        }
        errors += DurationString.check(spec.cooldown, path.child("cooldown"))
        for (label, limit) in [("successfulJobsHistoryLimit", spec.successfulJobsHistoryLimit), ("failedJobsHistoryLimit", spec.failedJobsHistoryLimit)] {
            if let limit, limit < 0 {
                errors.append(FieldError(.invalid, path.child(label), "must not be negative", badValue: .integer(Int64(limit))))
            }
        }
        return errors
    }

    /// The JobSpec must have `template.spec.containers` with a name and an image each.
    static func validateJobSpec(_ jobSpec: JSONValue, at path: FieldPath) -> [FieldError] {
        guard jobSpec.objectValue != nil else {
            return [FieldError(.typeInvalid, path, "must be a batch/v1 JobSpec object", badValue: .string(jobSpec.typeName))]
        }
        let containersPath = path.child("template").child("spec").child("containers")
        guard let containers = jobSpec.value(at: ["template", "spec", "containers"])?.arrayValue, !containers.isEmpty else {
            return [FieldError(.required, containersPath, "the training pod needs at least one container")]
        }
        var errors: [FieldError] = []
        for (index, container) in containers.enumerated() {
            let name = container["name"]?.stringValue ?? ""
            errors += NameRules.checkLabelReference(name, containersPath.index(index).child("name"))
            if (container["image"]?.stringValue ?? "").isEmpty {
                errors.append(FieldError(.required, containersPath.index(index).child("image"), ""))
            }
        }
        return errors
    }

    /// The template must contain `{version}`, use only known placeholders, and expand to a valid URI.
    static func validateTemplate(_ template: String, at path: FieldPath) -> [FieldError] {
        guard template.contains("{version}") else {
            return [FieldError(.invalid, path, "artifactURITemplate must contain {version}", badValue: .string(template))]
        }
        var expanded = template
        for placeholder in RetrainOutput.placeholders { expanded = expanded.replacingOccurrences(of: placeholder, with: "x1") }
        if let unknown = expanded.range(of: "\\{[^}]*\\}", options: .regularExpression) {
            return [
                FieldError(
                    .invalid, path, "unknown placeholder \(expanded[unknown]); use {model}, {version}, {namespace} or {run}", badValue: .string(template))
            ]
        }
        if !ArtifactURI.check(expanded, path).isEmpty {
            return [
                FieldError(
                    .invalid, path, "must expand to s3://bucket/key, http(s)://host/path, pvc://claim/path or file:///absolute/path",
                    badValue: .string(template))
            ]
        }
        return []
    }
}

extension RetrainTriggers {
    func validate(at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if let schedule {
            do {
                _ = try CronSchedule(parsing: schedule.cron)
            } catch {
                errors.append(FieldError(.invalid, path.child("schedule").child("cron"), "\(error)", badValue: .string(schedule.cron)))
            }
            if let zone = schedule.timeZone, TimeZone(identifier: zone) == nil {
                errors.append(FieldError(.invalid, path.child("schedule").child("timeZone"), "unknown IANA time zone", badValue: .string(zone)))
            }
        }
        if let drift {
            let here = path.child("drift")
            if !NameRules.isDNS1035Label(drift.inferenceService) {
                errors.append(FieldError(.invalid, here.child("inferenceService"), "must name an InferenceService", badValue: .string(drift.inferenceService)))
            }
            if drift.threshold < 0 || !drift.threshold.isFinite {
                errors.append(FieldError(.invalid, here.child("threshold"), "must be a number >= 0", badValue: .number(drift.threshold)))
            }
            errors += DurationString.check(drift.for, here.child("for"))
        }
        if let accuracy {
            let here = path.child("accuracy")
            if !NameRules.isDNS1035Label(accuracy.inferenceService) {
                errors.append(
                    FieldError(.invalid, here.child("inferenceService"), "must name an InferenceService", badValue: .string(accuracy.inferenceService)))
            }
            if accuracy.threshold < 0 || !accuracy.threshold.isFinite {
                errors.append(FieldError(.invalid, here.child("threshold"), "must be a number >= 0", badValue: .number(accuracy.threshold)))
            }
            if (accuracy.metric ?? .accuracy) == .accuracy, accuracy.threshold > 1 {
                errors.append(
                    FieldError(.invalid, here.child("threshold"), "an Accuracy threshold is a fraction from 0 to 1", badValue: .number(accuracy.threshold)))
            }
            errors += DurationString.check(accuracy.for, here.child("for"))
        }
        return errors
    }
}
