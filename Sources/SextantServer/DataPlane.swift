import Foundation
import KubeCore
import Logging
import NIOConcurrencyHelpers
import SextantModelRuntime

/// The model's serving state.
public enum ModelState: Sendable {
    /// Fetching, verifying or loading.
    case loading
    /// Serving.
    case ready(InferenceModel)
    /// Not serving, with the reason (shown in readiness responses).
    case failed(String)
}

/// Data-plane options.
public struct DataPlaneOptions: Sendable {
    /// Served model name.
    public var modelName: String
    /// Served model version.
    public var modelVersion: String
    /// Accept NaN/Infinity in float inputs.
    public var allowNaN: Bool
    /// Rows kept for drift.
    public var driftWindow: Int
    /// Latency samples kept for percentiles.
    public var latencyWindow: Int
    /// Predictions remembered for feedback.
    public var predictionMemory: Int
    /// Feedback rows kept for rolling accuracy.
    public var accuracyWindow: Int

    /// Creates options.
    public init(
        modelName: String, modelVersion: String = "1", allowNaN: Bool = false, driftWindow: Int = 1000,
        latencyWindow: Int = 1000, predictionMemory: Int = 10_000, accuracyWindow: Int = 1000
    ) {
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.allowNaN = allowNaN
        self.driftWindow = driftWindow
        self.latencyWindow = latencyWindow
        self.predictionMemory = predictionMemory
        self.accuracyWindow = accuracyWindow
    }
}

/// The transport-agnostic data plane: model state, inference, feedback and stats.
public final class DataPlane: Sendable {
    struct Counters {
        var state: ModelState = .loading
        var requests = 0
        var errors = 0
        var rows = 0
        var classCounts: [String: Int] = [:]
        var predictionValues: RollingWindow
        var latency: RollingWindow
        var drift: DriftWindow?
        var labelDrift: LabelWindow?
        var baselineClasses: [String: Double]?
        var memory: PredictionMemory
        var feedback: RollingWindow
        var regressionBuckets: [Double] = []
        var business = BusinessMetrics()
    }

    /// Options.
    public let options: DataPlaneOptions
    /// Metrics.
    public let metrics: ServerMetrics
    let logger: Logger
    private let box: NIOLockedValueBox<Counters>
    private let requestIDs = RequestIDGenerator()

    /// Creates a data plane in the `loading` state.
    public init(options: DataPlaneOptions, metrics: ServerMetrics = ServerMetrics(), logger: Logger) {
        self.options = options
        self.metrics = metrics
        self.logger = logger
        box = NIOLockedValueBox(
            Counters(
                predictionValues: RollingWindow(capacity: options.driftWindow), latency: RollingWindow(capacity: options.latencyWindow),
                memory: PredictionMemory(capacity: options.predictionMemory), feedback: RollingWindow(capacity: options.accuracyWindow)))
    }

    // MARK: Loading

    /// Fetches, verifies and loads the model (and the drift baseline), then becomes ready; on
    /// failure records the reason and stays not ready.
    public func load(modelURI: String, digest: String?, baselineURI: String?, fetcher: ModelFetcher) async {
        let start = ContinuousClock.now
        logger.info("loading model", metadata: ["model.uri": "\(modelURI)", "model.name": "\(options.modelName)"])
        do {
            let source = try ModelSource(uri: modelURI)
            let data = try await fetcher.fetch(source, digest: digest)
            let runtime: ONNXModel
            do { runtime = try ONNXModel(data: data) } catch { throw ModelLoadError.invalidModel("\(error)") }
            let model = InferenceModel(name: options.modelName, version: options.modelVersion, model: runtime)
            var baseline: DriftBaseline?
            if let baselineURI {
                let bytes = try await fetcher.fetch(try ModelSource(uri: baselineURI))
                do { baseline = try DriftBaseline.decode(bytes) } catch let error as ModelLoadError { throw error } catch {
                    throw ModelLoadError.invalidModel("cannot read drift baseline: \(error)")
                }
            }
            setReady(model, baseline: baseline)
            let seconds = Double((ContinuousClock.now - start).components.attoseconds) / 1e18 + Double((ContinuousClock.now - start).components.seconds)
            metrics.modelLoadSeconds.set(to: seconds)
            logger.info("model ready", metadata: ["model.name": "\(options.modelName)", "model.load_seconds": "\(seconds)"])
        } catch {
            fail("\(error)")
        }
    }

    /// Marks the model ready (used by `load` and tests).
    public func setReady(_ model: InferenceModel, baseline: DriftBaseline?) {
        box.withLockedValue {
            $0.state = .ready(model)
            $0.drift = baseline.map { DriftWindow(baseline: $0, window: options.driftWindow) }
            $0.baselineClasses = baseline?.prediction?.classFractions
            $0.labelDrift = $0.baselineClasses == nil ? nil : LabelWindow(window: options.driftWindow)
            if let bins = baseline?.prediction?.bins, !bins.isEmpty { $0.regressionBuckets = bins }
        }
        metrics.modelReady.set(to: 1)
    }

    /// Marks the model failed with a reason.
    public func fail(_ reason: String) {
        box.withLockedValue { $0.state = .failed(reason) }
        metrics.modelReady.set(to: 0)
        logger.error("model not ready", metadata: ["model.name": "\(options.modelName)", "reason": "\(reason)"])
    }

    /// The current state.
    public var state: ModelState { box.withLockedValue { $0.state } }

    /// Readiness and, when not ready, why.
    public var readiness: (ready: Bool, reason: String?) {
        switch state {
        case .ready: return (true, nil)
        case .loading: return (false, "model is loading")
        case .failed(let reason): return (false, reason)
        }
    }

    /// The model, or a 503/404 error.
    public func model(named name: String, version: String? = nil) throws -> InferenceModel {
        guard name == options.modelName else { throw InferenceError(404, "model '\(name)' is not served here (serving '\(options.modelName)')") }
        if let version, version != options.modelVersion {
            throw InferenceError(404, "model '\(name)' has no version '\(version)' (serving '\(options.modelVersion)')")
        }
        switch state {
        case .ready(let model): return model
        case .loading: throw InferenceError(503, "model '\(name)' is loading")
        case .failed(let reason): throw InferenceError(503, "model '\(name)' is not ready: \(reason)")
        }
    }

    // MARK: Inference

    /// Runs a V2 request body; returns the JSON response.
    ///
    /// - Parameter headerLength: `Inference-Header-Content-Length` when the binary tensor
    ///   extension is used: the JSON is the first `headerLength` bytes, binary tensors follow.
    public func inferV2(name: String, version: String?, body: [UInt8], headerLength: Int? = nil) throws -> [UInt8] {
        let model = try model(named: name, version: version)
        var json = body
        var binary: ArraySlice<UInt8>?
        if let headerLength {
            guard headerLength >= 0, headerLength <= body.count else {
                throw InferenceError.badRequest("Inference-Header-Content-Length \(headerLength) exceeds the body (\(body.count) bytes)")
            }
            json = Array(body.prefix(headerLength))
            binary = body.dropFirst(headerLength)
        }
        let request = try TensorCodec.decodeV2(json, model: model, allowNaN: options.allowNaN, binary: binary)
        let (id, sequence) = request.id.map { ($0, nil) } ?? requestIDs.nextWithSequence()
        let outputs = try run(model, inputs: request.inputs, id: id, sequence: sequence)
        let names = request.outputs ?? model.tensorOutputs.map(\.name)
        var out: [UInt8] = []
        out.reserveCapacity(256 + outputs.tensors.reduce(0) { $0 + $1.tensor.count * 12 })
        out.append(contentsOf: #"{"id":"#.utf8)
        JSONValue.writeString(id, into: &out)
        out.append(contentsOf: #","model_name":"#.utf8)
        JSONValue.writeString(model.name, into: &out)
        out.append(contentsOf: #","model_version":"#.utf8)
        JSONValue.writeString(model.version, into: &out)
        out.append(contentsOf: #","outputs":["#.utf8)
        var first = true
        for name in names {
            guard let tensor = outputs[name] else { continue }
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(contentsOf: #"{"name":"#.utf8)
            JSONValue.writeString(name, into: &out)
            out.append(contentsOf: #","datatype":""#.utf8)
            out.append(contentsOf: tensor.elementType.v2Name.utf8)
            out.append(contentsOf: #"","shape":["#.utf8)
            for (index, dim) in tensor.shape.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: String(dim).utf8)
            }
            out.append(contentsOf: #"],"data":"#.utf8)
            TensorCodec.appendData(tensor, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: "]}".utf8)
        return out
    }

    /// Runs a V1 predict body; returns the JSON response and the request id.
    public func predictV1(name: String, body: [UInt8]) throws -> (json: [UInt8], id: String) {
        let model = try model(named: name)
        let object = try TensorCodec.parseObject(body)
        let input = try TensorCodec.decodeV1(object, model: model, allowNaN: options.allowNaN)
        let (id, sequence) = object["id"]?.stringValue.map { ($0, nil) } ?? requestIDs.nextWithSequence()
        let outputs = try run(model, inputs: [input], id: id, sequence: sequence)
        guard let primary = outputs[model.primaryOutput] else { throw InferenceError(500, "output '\(model.primaryOutput)' missing") }
        var out = Array(#"{"predictions":"#.utf8)
        let rows = primary.shape.first ?? 1
        let perRow = rows > 0 ? primary.count / rows : 0
        if perRow == 1 || primary.rank <= 1 {
            TensorCodec.appendData(primary, to: &out)
        } else {
            // Nested rows: one row of the flat data at a time.
            out.append(UInt8(ascii: "["))
            for row in 0..<rows {
                if row > 0 { out.append(UInt8(ascii: ",")) }
                TensorCodec.appendData(primary, range: (row * perRow)..<((row + 1) * perRow), to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "}"))
        return (out, id)
    }

    /// Runs the model and observes the prediction; `sequence` is set when the server made `id`.
    private func run(_ model: InferenceModel, inputs: [DecodedInput], id: String, sequence: UInt64?) throws -> ModelOutputs {
        // The decoders give every model input exactly once; the model takes them in its order.
        let ordered = model.model.inputs.compactMap { input in inputs.first { $0.name == input.name }?.tensor }
        let values: [Value]
        do {
            values = try model.model.run(ordered)
        } catch let error as ModelRuntimeError {
            throw InferenceError(400, "\(error)")
        }
        var tensors = ModelOutputs()
        for (output, value) in zip(model.model.outputs, values) { if let tensor = value.tensor { tensors.tensors.append((output.name, tensor)) } }
        observe(model: model, inputs: inputs, outputs: tensors, id: id, sequence: sequence)
        return tensors
    }

    private func observe(model: InferenceModel, inputs: [DecodedInput], outputs: ModelOutputs, id: String, sequence: UInt64?) {
        let primary = outputs[model.primaryOutput]
        let labels = model.isClassifier ? primary.flatMap(TensorCodec.rowLabels) : nil
        let values = model.isClassifier ? nil : primary.flatMap(TensorCodec.rowValues)
        let rows = primary?.shape.first ?? inputs.first?.tensor.shape.first ?? 0
        metrics.rows.increment(by: Int64(rows))
        // Rows per label; a model has few classes, so a list is cheaper than a dictionary.
        var counts: [(label: String, count: Int)] = []
        for label in labels ?? [] {
            if let index = counts.firstIndex(where: { $0.label == label }) {
                counts[index].count += 1
            } else {
                counts.append((label, 1))
            }
        }
        let drift: [FeatureDrift]? = box.withLockedValue { state in
            state.rows += rows
            for (label, count) in counts { state.classCounts[label, default: 0] += count }
            if let labels {
                state.memory.remember(id, sequence: sequence, .labels(labels))
                state.labelDrift?.push(labels)
            } else if let values {
                for value in values { state.predictionValues.add(value) }
                state.memory.remember(id, sequence: sequence, .values(values))
            }
            guard state.drift != nil, let input = inputs.first?.tensor, input.rank == 2 else { return nil }
            let width = input.shape[1]
            switch input.storage {
            case .float(let values): state.drift!.push(rows: input.shape[0], width: width) { Double(values[$0]) }
            case .double(let values): state.drift!.push(rows: input.shape[0], width: width) { values[$0] }
            default: return nil
            }
            return state.drift!.drift()
        }
        for (label, count) in counts { metrics.predicted(classLabel: label, count: count) }
        if let values {
            let buckets = box.withLockedValue { $0.regressionBuckets }
            for value in values { metrics.predicted(value: value, buckets: buckets.isEmpty ? Self.defaultValueBuckets : buckets) }
        }
        if let drift { metrics.drift(drift) }
    }

    static let defaultValueBuckets: [Double] = [-1000, -100, -10, -1, -0.1, 0, 0.1, 1, 10, 100, 1000]

    /// Records one finished inference request for stats.
    public func recordInference(seconds: Double, failed: Bool) {
        box.withLockedValue {
            $0.requests += 1
            if failed { $0.errors += 1 }
            $0.latency.add(seconds)
        }
    }

    // MARK: Feedback

    /// Accepts `{"id":..,"label":..}` or `{"feedback":[...]}`; returns a JSON summary.
    public func feedback(name: String, body: [UInt8]) throws -> String {
        let model = try model(named: name)
        let object = try TensorCodec.parseObject(body)
        let items: [[String: JSONValue]]
        if let batch = object["feedback"] {
            guard let list = batch.arrayValue?.compactMap(\.objectValue), list.count == batch.arrayValue?.count else {
                throw InferenceError.badRequest("'feedback' must be an array of {id, label} objects")
            }
            items = list
        } else {
            items = [object]
        }
        var matched = 0
        var unknown: [String] = []
        for (index, item) in items.enumerated() {
            guard let id = item["id"]?.stringValue else { throw InferenceError.badRequest("feedback[\(index)].id must be a string") }
            let businessValues = item["metrics"]?.objectValue
            if item["metrics"] != nil, businessValues == nil { throw InferenceError.badRequest("feedback[\(index)].metrics must be an object of numbers") }
            guard item["label"] != nil || businessValues != nil else { throw InferenceError.badRequest("feedback[\(index)] needs a label, metrics, or both") }
            let labels: [JSONValue] = item["label"].map { $0.arrayValue ?? [$0] } ?? []
            let generatedSequence = requestIDs.sequence(of: id)
            let outcome: [Double]? = try box.withLockedValue { state -> [Double]? in
                guard let remembered = state.memory.lookup(id) ?? generatedSequence.flatMap(state.memory.lookup(sequence:)) else {
                    return nil
                }
                if let businessValues, let refusal = state.business.add(businessValues) {
                    throw InferenceError.badRequest("feedback[\(index)].metrics: \(refusal)")
                }
                var results: [Double] = []
                switch remembered {
                case .labels(let predicted):
                    for (row, truth) in labels.enumerated() where row < predicted.count {
                        let truthString: String
                        switch truth {
                        case .string(let string): truthString = string
                        case .integer(let integer): truthString = String(integer)
                        case .number(let number): truthString = number == number.rounded() && abs(number) < 9e18 ? String(Int64(number)) : "\(number)"
                        default: throw InferenceError.badRequest("feedback[\(index)].label must be a label or an array of labels")
                        }
                        results.append(truthString == predicted[row] ? 1 : 0)
                    }
                case .values(let predicted):
                    for (row, truth) in labels.enumerated() where row < predicted.count {
                        guard let number = truth.doubleValue else {
                            throw InferenceError.badRequest("feedback[\(index)].label must be a number or an array of numbers")
                        }
                        results.append(abs(number - predicted[row]))
                    }
                }
                for result in results { state.feedback.add(result) }
                return results
            }
            if outcome == nil {
                unknown.append(id)
                metrics.feedback(result: "unknown_id")
            } else {
                matched += 1
                metrics.feedback(result: "matched")
            }
        }
        let accuracy = box.withLockedValue { $0.feedback.mean }
        let metric = model.isClassifier ? "accuracy" : "mae"
        if let accuracy { metrics.accuracy(metric: metric, value: accuracy) }
        var json = "{\"accepted\":\(matched),\"unknownIds\":[\(unknown.map(TensorCodec.jsonString).joined(separator: ","))]"
        json += ",\"accuracy\":{\"metric\":\"\(metric)\",\"value\":\(accuracy.map { "\($0)" } ?? "null")}}"
        return json
    }

    // MARK: Stats

    /// The JSON stats document for the operator (`GET /v2/models/{name}/stats`).
    public func stats() -> ServerStats {
        let isClassifier: Bool? = {
            if case .ready(let m) = state { return m.isClassifier }; return nil
        }()
        return box.withLockedValue { state in
            let drift = state.drift?.drift()
            let ready: Bool
            var reason: String?
            switch state.state {
            case .ready: ready = true
            case .loading: ready = false; reason = "model is loading"
            case .failed(let why): ready = false; reason = why
            }
            let distribution: ServerStats.Distribution
            if isClassifier == false {
                distribution = .init(
                    type: "regression", classCounts: nil, count: state.predictionValues.count, mean: state.predictionValues.mean,
                    p05: state.predictionValues.percentile(0.05), p50: state.predictionValues.percentile(0.5),
                    p95: state.predictionValues.percentile(0.95))
            } else {
                distribution = .init(
                    type: "classification", classCounts: state.classCounts, count: state.classCounts.values.reduce(0, +),
                    mean: nil, p05: nil, p50: nil, p95: nil)
            }
            return ServerStats(
                model: options.modelName, version: options.modelVersion, ready: ready, reason: reason,
                requests: state.requests, errors: state.errors,
                latency: .init(
                    p50: state.latency.percentile(0.5), p95: state.latency.percentile(0.95), p99: state.latency.percentile(0.99),
                    window: state.latency.count, unit: "seconds"),
                rows: state.rows, predictionDistribution: distribution,
                drift: drift.map {
                    .init(
                        features: $0, maxPSI: $0.compactMap(\.psi).max(), window: state.drift?.window ?? 0,
                        predictionPSI: state.baselineClasses.flatMap { state.labelDrift?.psi(baseline: $0) })
                },
                accuracy: .init(metric: isClassifier == false ? "mae" : "accuracy", value: state.feedback.mean, count: state.feedback.count),
                business: state.business.byName.isEmpty ? nil : state.business.byName.mapValues { .init(count: $0.count, mean: $0.mean, variance: $0.variance) }
            )
        }
    }
}

/// `GET /v2/models/{name}/stats`: the signals the operator reads.
public struct ServerStats: Codable, Sendable {
    public struct Latency: Codable, Sendable {
        public var p50: Double?
        public var p95: Double?
        public var p99: Double?
        public var window: Int
        public var unit: String
    }

    public struct Distribution: Codable, Sendable {
        public var type: String
        public var classCounts: [String: Int]?
        public var count: Int
        public var mean: Double?
        public var p05: Double?
        public var p50: Double?
        public var p95: Double?
    }

    public struct Drift: Codable, Sendable {
        public var features: [FeatureDrift]
        public var maxPSI: Double?
        public var window: Int
        /// PSI of the predicted class labels against the baseline's class fractions (classifiers).
        public var predictionPSI: Double?
    }

    public struct Accuracy: Codable, Sendable {
        public var metric: String
        public var value: Double?
        public var count: Int
    }

    public var model: String
    public var version: String
    public var ready: Bool
    public var reason: String?
    public var requests: Int
    public var errors: Int
    public var latency: Latency
    public var rows: Int
    public var predictionDistribution: Distribution
    public var drift: Drift?
    public var accuracy: Accuracy
    /// Business metrics posted with feedback, by name.
    public var business: [String: Business]?

    public struct Business: Codable, Sendable {
        public var count: Int
        public var mean: Double
        public var variance: Double?
    }
}

/// A run's tensor outputs in the model's order; a model has a few, so finding one by name is a
/// short scan (no hashing on the request path).
struct ModelOutputs {
    var tensors: [(name: String, tensor: Tensor)] = []

    subscript(name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }
}
