import KubeCore

extension InferenceService {
    public func withDefaults() -> InferenceService {
        var copy = self
        var spec = copy.spec
        var rollout = spec.rollout ?? RolloutSpec()
        rollout.strategy = rollout.strategy ?? .canary
        rollout.steps = rollout.steps ?? InferenceService.defaultSteps
        rollout.stepInterval = rollout.stepInterval ?? "1m"
        rollout.autoPromote = rollout.autoPromote ?? true
        rollout.progressDeadline = rollout.progressDeadline ?? "10m"
        if var analysis = rollout.analysis {
            analysis.minRequestCount = analysis.minRequestCount ?? 50
            analysis.failureLimit = analysis.failureLimit ?? 2
            analysis.metrics = analysis.metrics?.map { metric in
                var metric = metric
                metric.relativeToStable = metric.relativeToStable ?? false
                return metric
            }
            rollout.analysis = analysis
        }
        if rollout.shadow != nil, rollout.shadow?.percent == nil { rollout.shadow?.percent = 100 }
        spec.rollout = rollout
        var traffic = spec.traffic ?? TrafficSpec()
        traffic.provider = traffic.provider ?? .router
        spec.traffic = traffic
        spec.replicas = spec.replicas ?? 1
        if spec.autoscaling != nil, spec.autoscaling?.minReplicas == nil { spec.autoscaling?.minReplicas = 1 }
        if spec.server != nil, spec.server?.port == nil { spec.server?.port = 8080 }
        if var experiment = spec.experiment {
            experiment.significance = experiment.significance ?? 0.05
            experiment.minSamples = experiment.minSamples ?? 100
            experiment.promoteWinner = experiment.promoteWinner ?? false
            experiment.direction = experiment.direction ?? .higherIsBetter
            spec.experiment = experiment
        }
        copy.spec = spec
        return copy
    }

    public func validate() -> [FieldError] {
        var errors: [FieldError] = []
        let name = metadata.name ?? ""
        if !NameRules.isDNS1035Label(name, maxLength: NameRules.inferenceServiceNameMaxLength) {
            errors.append(
                FieldError(
                    .invalid, "metadata.name",
                    "must be a DNS-1035 label (lower-case letters, digits, '-', starting with a letter) of at most \(NameRules.inferenceServiceNameMaxLength) characters",
                    badValue: .string(name)))
        }
        let path = FieldPath("spec")
        errors += NameRules.checkLabelReference(spec.modelName, path.child("modelName"))
        if let stage = spec.trackStage, !InferenceService.trackableStages.contains(stage) {
            errors.append(
                FieldError(.notSupported, path.child("trackStage"), "supported values: \"Staging\", \"Production\"", badValue: .string(stage.rawValue)))
        }
        if spec.trackStage != nil && spec.pinnedVersion != nil {
            errors.append(FieldError(.invalid, path, "set trackStage or pinnedVersion, not both"))
        }
        if let version = spec.pinnedVersion, version < 1 {
            errors.append(FieldError(.invalid, path.child("pinnedVersion"), "must be at least 1", badValue: .integer(version)))
        }
        if let rollout = spec.rollout { errors += rollout.validate(at: path.child("rollout")) }
        if let traffic = spec.traffic { errors += traffic.validate(at: path.child("traffic")) }
        if let replicas = spec.replicas, replicas < 0 {
            errors.append(FieldError(.invalid, path.child("replicas"), "must not be negative", badValue: .integer(Int64(replicas))))
        }
        if let autoscaling = spec.autoscaling { errors += autoscaling.validate(at: path.child("autoscaling")) }
        if let experiment = spec.experiment { errors += experiment.validate(at: path.child("experiment")) }
        if let server = spec.server { errors += server.validate(at: path.child("server")) }
        return errors
    }
}

extension RolloutSpec {
    func validate(at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if let steps {
            if steps.isEmpty { errors.append(FieldError(.required, path.child("steps"), "at least one step")) }
            if steps.count > 20 {
                errors.append(FieldError(.tooMany, path.child("steps"), "must have at most 20 items", badValue: .integer(Int64(steps.count))))
            }
            for (index, weight) in steps.enumerated() {
                if !(0...100).contains(weight) {
                    errors.append(
                        FieldError(.invalid, path.child("steps").index(index), "must be a percentage from 0 to 100", badValue: .integer(Int64(weight))))
                }
                if index > 0, weight <= steps[index - 1] {
                    errors.append(
                        FieldError(.invalid, path.child("steps").index(index), "steps must be strictly increasing", badValue: .integer(Int64(weight))))
                }
            }
        }
        errors += DurationString.check(stepInterval, path.child("stepInterval"), minimumSeconds: 1)
        errors += DurationString.check(progressDeadline, path.child("progressDeadline"), minimumSeconds: 1)
        if let analysis { errors += analysis.validate(at: path.child("analysis")) }
        if let percent = shadow?.percent, !(0...100).contains(percent) {
            errors.append(FieldError(.invalid, path.child("shadow").child("percent"), "must be a percentage from 0 to 100", badValue: .integer(Int64(percent))))
        }
        return errors
    }
}

extension AnalysisSpec {
    func validate(at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        for (index, metric) in (metrics ?? []).enumerated() {
            let here = path.child("metrics").index(index)
            errors += NameRules.checkLabelReference(metric.name, here.child("name"))
            if metric.min == nil && metric.max == nil {
                errors.append(FieldError(.required, here, "set min, max or both"))
            }
            if let min = metric.min, let max = metric.max, min > max {
                errors.append(FieldError(.invalid, here, "min must not exceed max", badValue: .number(min)))
            }
            if (metric.type == .prometheus) != (metric.query != nil) {
                errors.append(FieldError(.invalid, here.child("query"), "query is required for type Prometheus and allowed only there"))
            }
        }
        errors += duplicates((metrics ?? []).map(\.name), at: path.child("metrics"))
        if (metrics ?? []).contains(where: { $0.type == .prometheus }), prometheusURL == nil {
            errors.append(FieldError(.required, path.child("prometheusURL"), "metrics of type Prometheus need a Prometheus URL"))
        }
        if let count = minRequestCount, count < 0 {
            errors.append(FieldError(.invalid, path.child("minRequestCount"), "must not be negative", badValue: .integer(Int64(count))))
        }
        if let limit = failureLimit, limit < 0 {
            errors.append(FieldError(.invalid, path.child("failureLimit"), "must not be negative", badValue: .integer(Int64(limit))))
        }
        if let url = prometheusURL, !NameRules.matches(url, "^https?://[^\\s]+$") {
            errors.append(FieldError(.invalid, path.child("prometheusURL"), "must be an http:// or https:// URL", badValue: .string(url)))
        }
        return errors
    }
}

extension TrafficSpec {
    func validate(at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if provider == .gatewayAPI, gatewayAPI == nil {
            errors.append(FieldError(.required, path.child("gatewayAPI"), "gatewayAPI is required for provider GatewayAPI"))
        }
        if let gatewayAPI, gatewayAPI.parentRefs.isEmpty {
            errors.append(FieldError(.required, path.child("gatewayAPI").child("parentRefs"), "at least one Gateway"))
        }
        if let header = stickyHeader, !NameRules.matches(header, "^[A-Za-z0-9-]+$") {
            errors.append(FieldError(.invalid, path.child("stickyHeader"), "must be an HTTP header name", badValue: .string(header)))
        }
        return errors
    }
}

extension AutoscalingSpec {
    func validate(at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if maxReplicas < 1 {
            errors.append(FieldError(.invalid, path.child("maxReplicas"), "must be at least 1", badValue: .integer(Int64(maxReplicas))))
        }
        if let minReplicas, minReplicas < 1 {
            errors.append(FieldError(.invalid, path.child("minReplicas"), "must be at least 1", badValue: .integer(Int64(minReplicas))))
        }
        if let minReplicas, minReplicas > maxReplicas {
            errors.append(FieldError(.invalid, path.child("minReplicas"), "minReplicas must not exceed maxReplicas", badValue: .integer(Int64(minReplicas))))
        }
        if (targetConcurrency == nil) == (targetCPUUtilizationPercentage == nil) {
            errors.append(FieldError(.invalid, path, "set exactly one of targetConcurrency and targetCPUUtilizationPercentage"))
        }
        if let target = targetConcurrency, target < 1 {
            errors.append(FieldError(.invalid, path.child("targetConcurrency"), "must be at least 1", badValue: .integer(Int64(target))))
        }
        if let target = targetCPUUtilizationPercentage, !(1...100).contains(target) {
            errors.append(
                FieldError(.invalid, path.child("targetCPUUtilizationPercentage"), "must be a percentage from 1 to 100", badValue: .integer(Int64(target))))
        }
        return errors
    }
}

extension ServerSpec {
    func validate(at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if let image, image.isEmpty { errors.append(FieldError(.required, path.child("image"), "omit image to use the operator's default")) }
        if let resources { errors += resources.validate(at: path.child("resources")) }
        for (index, variable) in (env ?? []).enumerated() {
            let here = path.child("env").index(index)
            if !NameRules.matches(variable.name, EnvVar.namePattern) {
                errors.append(
                    FieldError(
                        .invalid, here.child("name"), "must consist of letters, digits, '_', '-' or '.', and not start with a digit",
                        badValue: .string(variable.name)))
            }
            if variable.value != nil && variable.valueFrom != nil {
                errors.append(FieldError(.invalid, here, "set value or valueFrom, not both"))
            }
        }
        errors += duplicates((env ?? []).map(\.name), at: path.child("env"))
        if let port, !(1...65535).contains(port) {
            errors.append(FieldError(.invalid, path.child("port"), "must be a port from 1 to 65535", badValue: .integer(Int64(port))))
        }
        return errors
    }
}
