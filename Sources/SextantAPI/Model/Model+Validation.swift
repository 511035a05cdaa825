import KubeCore

extension Model {
    /// Default archived versions kept when `retention` does not say.
    public static let defaultArchivedVersionsToKeep: Int32 = 10

    public func withDefaults() -> Model {
        var copy = self
        if copy.spec.retention != nil, copy.spec.retention?.archivedVersionsToKeep == nil {
            copy.spec.retention?.archivedVersionsToKeep = Model.defaultArchivedVersionsToKeep
        }
        if var promotion = copy.spec.promotion {
            promotion.staging = promotion.staging?.withDefaults()
            promotion.production = promotion.production?.withDefaults()
            copy.spec.promotion = promotion
        }
        return copy
    }

    public func validate() -> [FieldError] {
        var errors = NameRules.checkLabelReference(metadata.name ?? "", "metadata.name")
        let spec = FieldPath("spec")
        if self.spec.owner.isEmpty {
            errors.append(FieldError(.required, spec.child("owner"), "name the team or person responsible"))
        }
        if let signature = self.spec.signature {
            errors += signature.validate(at: spec.child("signature"))
        }
        if let staging = self.spec.promotion?.staging {
            errors += staging.validate(at: spec.child("promotion").child("staging"))
        }
        if let production = self.spec.promotion?.production {
            errors += production.validate(at: spec.child("promotion").child("production"))
        }
        if let keep = self.spec.retention?.archivedVersionsToKeep, keep < 0 {
            errors.append(
                FieldError(.invalid, spec.child("retention").child("archivedVersionsToKeep"), "must not be negative", badValue: .integer(Int64(keep))))
        }
        return errors
    }
}

extension StageGate {
    func withDefaults() -> StageGate {
        var copy = self
        if copy.requireApproval == nil { copy.requireApproval = false }
        copy.noRegression = copy.noRegression?.map { gate in
            var gate = gate
            if gate.direction == nil { gate.direction = .higherIsBetter }
            return gate
        }
        return copy
    }

    func validate(at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        for (index, gate) in (metrics ?? []).enumerated() {
            let here = path.child("metrics").index(index)
            errors += MetricNames.check(gate.metric, here.child("metric"))
            if gate.min == nil && gate.max == nil {
                errors.append(FieldError(.required, here, "set min, max or both"))
            }
            if let min = gate.min, let max = gate.max, min > max {
                errors.append(FieldError(.invalid, here, "min must not exceed max", badValue: .number(min)))
            }
        }
        errors += duplicates((metrics ?? []).map(\.metric), at: path.child("metrics"))
        for (index, gate) in (noRegression ?? []).enumerated() {
            let here = path.child("noRegression").index(index)
            errors += MetricNames.check(gate.metric, here.child("metric"))
            if gate.maxRegression < 0 || !gate.maxRegression.isFinite {
                errors.append(FieldError(.invalid, here.child("maxRegression"), "must be a number >= 0", badValue: .number(gate.maxRegression)))
            }
        }
        errors += duplicates((noRegression ?? []).map(\.metric), at: path.child("noRegression"))
        return errors
    }
}

extension ModelSignature {
    func validate(at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        for (label, tensors) in [("inputs", inputs), ("outputs", outputs)] {
            let listPath = path.child(label)
            if tensors.isEmpty { errors.append(FieldError(.required, listPath, "at least one tensor")) }
            for (index, tensor) in tensors.enumerated() {
                let here = listPath.index(index)
                if tensor.name.isEmpty { errors.append(FieldError(.required, here.child("name"), "")) }
                for (dimensionIndex, dimension) in tensor.shape.enumerated() where dimension < -1 {
                    errors.append(
                        FieldError(.invalid, here.child("shape").index(dimensionIndex), "must be -1 (variable) or a size >= 0", badValue: .integer(dimension)))
                }
                if tensor.shape.count > 8 {
                    errors.append(FieldError(.tooMany, here.child("shape"), "must have at most 8 items", badValue: .integer(Int64(tensor.shape.count))))
                }
            }
            errors += duplicates(tensors.map(\.name), at: listPath)
        }
        return errors
    }
}

/// Reports the second and later occurrences of a key in a list keyed by that value.
func duplicates(_ keys: [String], at path: FieldPath) -> [FieldError] {
    var seen = Set<String>()
    var errors: [FieldError] = []
    for (index, key) in keys.enumerated() where !seen.insert(key).inserted {
        errors.append(FieldError(.duplicate, path.index(index), "", badValue: .string(key)))
    }
    return errors
}
