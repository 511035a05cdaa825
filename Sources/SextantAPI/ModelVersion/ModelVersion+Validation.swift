import KubeCore

extension ModelVersion {
    public func withDefaults() -> ModelVersion {
        var copy = self
        if copy.spec.stage == nil { copy.spec.stage = .development }
        if copy.spec.artifact.format == nil { copy.spec.artifact.format = .onnx }
        let requests = copy.spec.smokeTest?.requests?.map { request in
            var request = request
            request.tolerance = request.tolerance ?? 0.0001
            return request
        }
        copy.spec.smokeTest?.requests = requests
        return copy
    }

    public func validate() -> [FieldError] {
        var errors = NameRules.checkLabelReference(metadata.name ?? "", "metadata.name")
        let path = FieldPath("spec")
        errors += NameRules.checkLabelReference(spec.modelName, path.child("modelName"))
        if spec.version < 1 {
            errors.append(FieldError(.invalid, path.child("version"), "must be at least 1", badValue: .integer(spec.version)))
        }
        errors += ArtifactURI.check(spec.artifact.uri, path.child("artifact").child("uri"))
        errors += ArtifactURI.checkDigest(spec.artifact.digest, path.child("artifact").child("digest"))
        for name in (spec.metrics ?? [:]).keys.sorted() {
            errors += MetricNames.check(name, path.child("metrics").key(name))
            if let value = spec.metrics?[name], !value.isFinite {
                errors.append(FieldError(.invalid, path.child("metrics").key(name), "must be a finite number", badValue: .number(value)))
            }
        }
        if let smokeTest = spec.smokeTest {
            let here = path.child("smokeTest")
            if let uri = smokeTest.uri { errors += ArtifactURI.check(uri, here.child("uri")) }
            for (index, request) in (smokeTest.requests ?? []).enumerated() {
                if request.name.isEmpty { errors.append(FieldError(.required, here.child("requests").index(index).child("name"), "")) }
                if request.inputs.isEmpty {
                    errors.append(FieldError(.required, here.child("requests").index(index).child("inputs"), "at least one input tensor"))
                }
                if let tolerance = request.tolerance, !(tolerance >= 0) {
                    errors.append(
                        FieldError(.invalid, here.child("requests").index(index).child("tolerance"), "must not be negative", badValue: .number(tolerance)))
                }
            }
        }
        if let lineage = spec.lineage {
            let here = path.child("lineage")
            if let dataset = lineage.dataset {
                errors += ArtifactURI.checkDataset(dataset.uri, here.child("dataset").child("uri"))
                if let digest = dataset.digest { errors += ArtifactURI.checkDigest(digest, here.child("dataset").child("digest")) }
            }
            if let source = lineage.source, source.repository.isEmpty {
                errors.append(FieldError(.required, here.child("source").child("repository"), ""))
            }
            if let job = lineage.trainingJob { errors += NameRules.checkLabelReference(job, here.child("trainingJob")) }
        }
        if let baseline = spec.driftBaseline {
            errors += ArtifactURI.check(baseline.uri, path.child("driftBaseline").child("uri"))
            if let digest = baseline.digest { errors += ArtifactURI.checkDigest(digest, path.child("driftBaseline").child("digest")) }
        }
        return errors
    }

    /// Errors for an update from `old` to `self`: the identity and the artifact never change.
    public func validateUpdate(from old: ModelVersion) -> [FieldError] {
        var errors: [FieldError] = []
        let path = FieldPath("spec")
        if spec.modelName != old.spec.modelName {
            errors.append(FieldError(.invalid, path.child("modelName"), "modelName is immutable", badValue: .string(spec.modelName)))
        }
        if spec.version != old.spec.version {
            errors.append(FieldError(.invalid, path.child("version"), "version is immutable", badValue: .integer(spec.version)))
        }
        if spec.artifact.uri != old.spec.artifact.uri || spec.artifact.digest != old.spec.artifact.digest
            || (spec.artifact.format ?? .onnx) != (old.spec.artifact.format ?? .onnx)
        {
            errors.append(FieldError(.invalid, path.child("artifact"), "artifact is immutable: register a new version instead"))
        }
        return errors
    }
}
