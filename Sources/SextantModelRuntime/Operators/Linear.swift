/// Computes `scores[N, targets] = X[N, C] · coefficients[targets, C]ᵀ + intercepts`.
/// Dot products accumulate in Double: with large, cancelling terms a Float sum depends on the
/// summation order (onnxruntime's GEMM has its own), Double keeps the result near the exact one.
private func linearScores(
    _ x: [Float], rows: Int, columns: Int, coefficients: [Float], intercepts: [Float], targets: Int
) -> [Float] {
    var scores = [Float](repeating: 0, count: rows * targets)
    x.withUnsafeBufferPointer { x in
        coefficients.withUnsafeBufferPointer { w in
            scores.withUnsafeMutableBufferPointer { scores in
                for row in 0..<rows {
                    let xr = row * columns
                    for target in 0..<targets {
                        let wt = target * columns
                        var sum: Double = 0
                        for c in 0..<columns { sum += Double(x[xr + c]) * Double(w[wt + c]) }
                        scores[row * targets + target] = Float(sum + Double(intercepts.isEmpty ? 0 : intercepts[target]))
                    }
                }
            }
        }
    }
    return scores
}

/// `ai.onnx.ml.LinearClassifier`: X [N, C] → (label [N], scores float [N, classes]),
/// with onnxruntime's handling of the single-score binary case.
struct LinearClassifierKernel: Kernel {
    let coefficients: [Float]
    let intercepts: [Float]
    let labels: ClassLabels
    let transform: PostTransform
    let targets: Int
    let featureCount: Int

    init(_ context: KernelBuildContext) throws {
        try context.expectInputs(1...1)
        try context.expectOutputs(1...2)
        let a = context.attributes
        coefficients = try a.required("coefficients", a.floats)
        intercepts = try a.floats("intercepts") ?? []
        labels = try ClassLabels(a, ints: "classlabels_ints", strings: "classlabels_strings")
        transform = try PostTransform(a)
        _ = try a.int("multi_class")  // informative only; onnxruntime ignores it too
        targets = intercepts.isEmpty ? labels.count : intercepts.count
        guard targets > 0, coefficients.count % targets == 0 else {
            throw a.invalid("coefficients", "\(coefficients.count) values do not split into \(targets) classes")
        }
        featureCount = coefficients.count / targets
        if targets > 1 && targets != labels.count {
            throw a.invalid("intercepts", "\(targets) scores for \(labels.count) class labels")
        }
        if targets == 1 {
            // One score per row is binary classification: onnxruntime requires two labels and
            // produces nonsense (NaN) for PROBIT, so both are rejected here.
            guard labels.count == 2 else {
                throw a.invalid("classlabels_ints", "a single score per row needs exactly two class labels, got \(labels.count)")
            }
            guard transform != .probit else {
                throw a.unsupported("post_transform", "PROBIT with a single score per row")
            }
        }
    }

    func run(_ inputs: KernelInputs) throws -> [Value] {
        let (tensor, x) = try inputs.floats(0)
        let (rows, columns) = tensor.rowsAndColumns
        guard columns == featureCount else {
            throw inputs.fail("input has \(columns) features, the coefficients expect \(featureCount)")
        }
        let scores = linearScores(
            x, rows: rows, columns: columns, coefficients: coefficients,
            intercepts: intercepts, targets: targets)
        var labelIndex = [Int](repeating: 0, count: rows)
        let outputColumns: Int
        var output: [Float]
        if targets == 1 {
            // One score per row: positive → second label; two columns [1 - p, p] where p is the
            // logistic of the score for LOGISTIC and the raw score otherwise (as onnxruntime).
            outputColumns = 2
            output = []
            output.reserveCapacity(rows * 2)
            for row in 0..<rows {
                let score = scores[row]
                labelIndex[row] = score > 0 ? 1 : 0
                let p = transform == .logistic ? PostTransform.logistic(score) : score
                output.append(1 - p)
                output.append(p)
            }
        } else {
            outputColumns = targets
            output = scores
            output.withUnsafeMutableBufferPointer { output in
                for row in 0..<rows {
                    var best = 0
                    for k in 1..<targets where output[row * targets + k] > output[row * targets + best] { best = k }
                    labelIndex[row] = best
                    transform.applyToRow(UnsafeMutableBufferPointer(rebasing: output[(row * targets)..<((row + 1) * targets)]))
                }
            }
        }
        let labelTensor: Tensor
        switch labels {
        case .int64(let values):
            labelTensor = Tensor(unchecked: [rows], .int64(labelIndex.map { values[$0] }))
        case .string(let values):
            labelTensor = Tensor(unchecked: [rows], .string(labelIndex.map { values[$0] }))
        }
        return [.tensor(labelTensor), .tensor(Tensor(unchecked: [rows, outputColumns], .float(output)))]
    }
}

/// `ai.onnx.ml.LinearRegressor`: X [N, C] → Y float [N, targets].
struct LinearRegressorKernel: Kernel {
    let coefficients: [Float]
    let intercepts: [Float]
    let transform: PostTransform
    let targets: Int
    let featureCount: Int

    init(_ context: KernelBuildContext) throws {
        try context.expectInputs(1...1)
        try context.expectOutputs(1...1)
        let a = context.attributes
        coefficients = try a.required("coefficients", a.floats)
        intercepts = try a.floats("intercepts") ?? []
        let targets = try a.int("targets", default: 1)
        guard targets >= 1, coefficients.count % Int(targets) == 0 else {
            throw a.invalid("targets", "\(coefficients.count) coefficients do not split into \(targets) targets")
        }
        guard intercepts.isEmpty || intercepts.count == Int(targets) else {
            throw a.invalid("intercepts", "has \(intercepts.count) values for \(targets) targets")
        }
        self.targets = Int(targets)
        featureCount = coefficients.count / Int(targets)
        transform = try PostTransform(a)
    }

    func run(_ inputs: KernelInputs) throws -> [Value] {
        let (tensor, x) = try inputs.floats(0)
        let (rows, columns) = tensor.rowsAndColumns
        guard columns == featureCount else {
            throw inputs.fail("input has \(columns) features, the coefficients expect \(featureCount)")
        }
        var scores = linearScores(
            x, rows: rows, columns: columns, coefficients: coefficients,
            intercepts: intercepts, targets: targets)
        scores.withUnsafeMutableBufferPointer { scores in
            if targets == 1 {
                if transform == .probit {
                    for i in scores.indices { scores[i] = PostTransform.probit(scores[i]) }
                }
            } else {
                for row in 0..<rows {
                    transform.applyToRow(UnsafeMutableBufferPointer(rebasing: scores[(row * targets)..<((row + 1) * targets)]))
                }
            }
        }
        return [.tensor(Tensor(unchecked: [rows, targets], .float(scores)))]
    }
}
