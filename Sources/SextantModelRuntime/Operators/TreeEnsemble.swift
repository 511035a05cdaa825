/// How votes of the trees are combined (`aggregate_function`).
enum TreeAggregate: String, Sendable {
    case sum = "SUM"
    case average = "AVERAGE"
    case min = "MIN"
    case max = "MAX"
}

/// The forest in both precisions: Float for float/int inputs (as onnxruntime compares float
/// inputs against float thresholds), Double for double inputs. A class: a kernel's closures
/// capture it with one reference count instead of copying every array's reference.
final class TreeEnsembleForests: Sendable {
    let float: FlatForest<Float>
    let double: FlatForest<Double>
    /// The float forest padded to perfect trees, when it qualifies (see `PerfectForest`).
    let perfect: PerfectForest?

    init(_ forest: FlatForest<Double>) {
        double = forest
        float = forest.converted(to: Float.self)
        perfect = PerfectForest(float)
    }

    /// The votes of every tree for every row, summed (or min/max) per target: `body` gets the
    /// row count, `scores` and `has` (`rows * targets`, row-major: whether any tree voted for a
    /// slot) and the tree count. The buffers are temporary (on the stack for small batches), so
    /// a call allocates nothing for them; they are valid only inside `body`.
    func withScores<Result>(
        _ input: Tensor, targets: Int, aggregate: TreeAggregate, op inputs: KernelInputs,
        _ body: (_ rows: Int, _ scores: UnsafeMutableBufferPointer<Double>, _ has: UnsafeMutableBufferPointer<Bool>, _ trees: Int) throws -> Result
    ) throws -> Result {
        let (rows, columns) = input.rowsAndColumns
        guard columns > double.maxFeature else {
            throw inputs.fail("input has \(columns) features, the trees read feature \(double.maxFeature)")
        }
        let count = rows * targets
        return try withTemporaryBuffer(repeating: false, count: count) { has in
            try withTemporaryBuffer(repeating: 0.0, count: count) { scores in
                if case .double(let x) = input.storage {
                    x.withUnsafeBufferPointer { Self.accumulate(double, nil, $0, rows, columns, targets, aggregate, scores, has) }
                    return try body(rows, scores, has, double.treeCount)
                }
                guard let x = input.convertedToFloats() else {
                    throw inputs.fail("input must be numeric, got \(input.elementType)")
                }
                withTemporaryBuffer(repeating: Float(0), count: count) { floatScores in
                    x.withUnsafeBufferPointer { Self.accumulate(float, perfect, $0, rows, columns, targets, aggregate, floatScores, has) }
                    for slot in 0..<count { scores[slot] = Double(floatScores[slot]) }
                }
                return try body(rows, scores, has, float.treeCount)
            }
        }
    }

    /// Sums the votes of a forest whose leaves all vote for the same targets, read next to the
    /// padded leaf slots (the common case: one weight per leaf, or one per class). Each row adds
    /// its trees in order, as the flat layout does.
    private static func sumDenseVotes(
        _ perfect: PerfectForest, _ x: UnsafeBufferPointer<Float>, _ rows: Int, _ columns: Int, _ targets: Int,
        _ scores: UnsafeMutableBufferPointer<Float>, _ has: UnsafeMutableBufferPointer<Bool>
    ) {
        let (width, first) = (perfect.voteWidth, perfect.firstVoteTarget)
        perfect.leafWeight.withUnsafeBufferPointer { weight in
            if width == 1 {
                perfect.findLeaves(
                    x: x, rows: rows, columns: columns, into: SingleVoteSum(weight: weight, scores: scores, first: first, stride: targets))
            } else {
                perfect.findLeaves(
                    x: x, rows: rows, columns: columns,
                    into: VoteRunSum(weight: weight, scores: scores, first: first, stride: targets, width: width))
            }
        }
        guard perfect.treeCount > 0 else { return }
        for row in 0..<rows {
            for k in 0..<width { has[row * targets + first + k] = true }
        }
    }

    private static func accumulate<T: BinaryFloatingPoint & Sendable>(
        _ forest: FlatForest<T>, _ perfect: PerfectForest?, _ x: UnsafeBufferPointer<T>, _ rows: Int, _ columns: Int, _ targets: Int,
        _ aggregate: TreeAggregate, _ scores: UnsafeMutableBufferPointer<T>, _ has: UnsafeMutableBufferPointer<Bool>
    ) {
        forest.voteStart.withUnsafeBufferPointer { voteStart in
            forest.voteCount.withUnsafeBufferPointer { voteCount in
                forest.voteTarget.withUnsafeBufferPointer { voteTarget in
                    forest.voteWeight.withUnsafeBufferPointer { voteWeight in
                        // One vote loop for both layouts.
                        @inline(__always)
                        func vote(_ row: Int, _ leaf: Int) {
                            let start = Int(voteStart[leaf])
                            for vote in start..<(start + Int(voteCount[leaf])) {
                                let slot = row * targets + Int(voteTarget[vote])
                                let weight = voteWeight[vote]
                                switch aggregate {
                                case .sum, .average:
                                    scores[slot] += weight
                                case .min:
                                    if !has[slot] || weight < scores[slot] { scores[slot] = weight }
                                case .max:
                                    if !has[slot] || weight > scores[slot] { scores[slot] = weight }
                                }
                                has[slot] = true
                            }
                        }
                        // Only float forests have a perfect layout (the caller passes nil
                        // otherwise), so T is Float here and rebinding changes nothing.
                        if let perfect, T.self == Float.self {
                            x.withMemoryRebound(to: Float.self) { x in
                                if perfect.voteWidth > 0, aggregate == .sum || aggregate == .average {
                                    scores.withMemoryRebound(to: Float.self) { scores in
                                        Self.sumDenseVotes(perfect, x, rows, columns, targets, scores, has)
                                    }
                                    return
                                }
                                let trees = perfect.treeCount
                                withUnsafeTemporaryAllocation(of: Int32.self, capacity: rows * trees) { leaves in
                                    perfect.findLeaves(x: x, rows: rows, columns: columns, into: LeafRecorder(leaves: leaves, trees: trees))
                                    perfect.leaf.withUnsafeBufferPointer { leaf in
                                        for row in 0..<rows {
                                            for tree in 0..<trees { vote(row, Int(leaf[Int(leaves[row * trees + tree])])) }
                                        }
                                    }
                                }
                            }
                        } else {
                            forest.forEachLeaf(x: x, rows: rows, columns: columns, vote)
                        }
                    }
                }
            }
        }
    }
}

/// Runs `body` with a temporary buffer (on the stack when small) of `count` copies of `value`.
func withTemporaryBuffer<Element, Result>(
    repeating value: Element, count: Int, _ body: (UnsafeMutableBufferPointer<Element>) throws -> Result
) rethrows -> Result {
    try withUnsafeTemporaryAllocation(of: Element.self, capacity: count) { buffer in
        buffer.initialize(repeating: value)
        defer { buffer.deinitialize() }
        return try body(buffer)
    }
}

/// `ai.onnx.ml.TreeEnsembleRegressor`: X [N, C] → Y float [N, n_targets], as onnxruntime computes it.
struct TreeEnsembleRegressorKernel: Kernel {
    let forests: TreeEnsembleForests
    let targets: Int
    let aggregate: TreeAggregate
    let baseValues: [Double]
    let transform: PostTransform

    init(_ context: KernelBuildContext) throws {
        try context.expectInputs(1...1)
        try context.expectOutputs(1...1)
        let a = context.attributes
        let targets = try a.int("n_targets", default: 1)
        guard targets >= 1, targets <= 1 << 20 else { throw a.invalid("n_targets", "must be positive, got \(targets)") }
        self.targets = Int(targets)
        let aggregateName = try a.string("aggregate_function", default: "SUM")
        guard let aggregate = TreeAggregate(rawValue: aggregateName) else {
            throw a.unsupported("aggregate_function", "'\(aggregateName)' is not one of SUM, AVERAGE, MIN, MAX")
        }
        self.aggregate = aggregate
        baseValues = try a.doublesOrTensor("base_values") ?? []
        guard baseValues.count <= self.targets || baseValues.count == 1 else {
            throw a.invalid("base_values", "has \(baseValues.count) values for \(targets) targets")
        }
        transform = try PostTransform(a)
        forests = TreeEnsembleForests(try FlatForestBuilder.build(a, votePrefix: "target", targetCount: self.targets))
    }

    func run(_ inputs: KernelInputs) throws -> [Value] {
        try forests.withScores(try inputs.tensor(0), targets: targets, aggregate: aggregate, op: inputs) { rows, scores, has, trees in
            let output = [Float](unsafeUninitializedCapacity: rows * targets) { output, initialized in
                output.initialize(repeating: 0)
                initialized = rows * targets
                if targets == 1 {
                    // onnxruntime's single-target path: base_values[0] is the origin, only PROBIT applies.
                    let origin = baseValues.count == 1 ? baseValues[0] : 0
                    for row in 0..<rows {
                        let value: Double
                        switch aggregate {
                        case .sum: value = scores[row] + origin
                        case .average: value = scores[row] / Double(trees) + origin
                        case .min, .max: value = has[row] ? scores[row] + origin : origin
                        }
                        output[row] = transform == .probit ? PostTransform.probit(Float(value)) : Float(value)
                    }
                    return
                }
                let useBase = baseValues.count == targets
                for row in 0..<rows {
                    for target in 0..<targets {
                        let slot = row * targets + target
                        var value = scores[slot]
                        if aggregate == .average { value /= Double(trees) }
                        if useBase { value += baseValues[target] }
                        output[slot] = has[slot] ? Float(value) : 0
                    }
                    transform.applyToRow(UnsafeMutableBufferPointer(rebasing: output[(row * targets)..<((row + 1) * targets)]))
                }
            }
            return [.tensor(Tensor(unchecked: [rows, targets], .float(output)))]
        }
    }
}

/// `ai.onnx.ml.TreeEnsembleClassifier`: X [N, C] → (label [N], probabilities float [N, classes]),
/// reproducing onnxruntime's binary-case handling (votes for one class only produce two columns).
struct TreeEnsembleClassifierKernel: Kernel {
    let forests: TreeEnsembleForests
    let labels: ClassLabels
    let baseValues: [Double]
    let transform: PostTransform
    /// Two classes and every vote for the same class id.
    let binaryCase: Bool
    let weightsAllPositive: Bool

    init(_ context: KernelBuildContext) throws {
        try context.expectInputs(1...1)
        try context.expectOutputs(1...2)
        let a = context.attributes
        labels = try ClassLabels(a, ints: "classlabels_int64s", strings: "classlabels_strings")
        guard labels.count >= 2 else {
            throw a.unsupported("classlabels_int64s", "a classifier needs at least two class labels")
        }
        baseValues = try a.doublesOrTensor("base_values") ?? []
        guard baseValues.count <= labels.count else {
            throw a.invalid("base_values", "has \(baseValues.count) values for \(labels.count) classes")
        }
        transform = try PostTransform(a)
        let forest = try FlatForestBuilder.build(a, votePrefix: "class", targetCount: labels.count)
        binaryCase = labels.count == 2 && Set(forest.voteTarget).count == 1
        weightsAllPositive = forest.voteWeight.allSatisfy { $0 >= 0 }
        forests = TreeEnsembleForests(forest)
    }

    func run(_ inputs: KernelInputs) throws -> [Value] {
        let classes = labels.count
        return try forests.withScores(try inputs.tensor(0), targets: classes, aggregate: .sum, op: inputs) { rows, scores, has, _ in
            var labelOutput = LabelOutput(labels, rows: rows)
            let output = [Float](unsafeUninitializedCapacity: rows * classes) { output, initialized in
                output.initialize(repeating: 0)
                initialized = rows * classes
                for row in 0..<rows {
                    let first = row * classes
                    let rowOut = UnsafeMutableBufferPointer(rebasing: output[first..<(first + classes)])
                    if classes > 2 {
                        for (k, base) in baseValues.enumerated() {
                            scores[first + k] = has[first + k] ? scores[first + k] + base : base
                            has[first + k] = true
                        }
                        var best = -1
                        for k in 0..<classes where has[first + k] && (best == -1 || scores[first + k] > scores[first + best]) {
                            best = k
                        }
                        labelOutput.append(index: max(best, 0))
                        for k in 0..<classes { rowOut[k] = has[first + k] ? Float(scores[first + k]) : 0 }
                        transform.applyToRow(rowOut)
                    } else {
                        let (index, raw) = finalizeBinary(
                            score0: scores[first], has0: has[first],
                            score1: scores[first + 1], has1: has[first + 1], into: rowOut)
                        labelOutput.append(index: index, raw: raw)
                    }
                }
            }
            return [.tensor(labelOutput.tensor), .tensor(Tensor(unchecked: [rows, classes], .float(output)))]
        }
    }

    /// onnxruntime's two-class finalisation. Returns the label index, or a raw int64 label for the
    /// non-binary-case fallback where onnxruntime writes 1 / 0 whatever the class labels are.
    private func finalizeBinary(
        score0: Double, has0: Bool, score1: Double, has1: Bool, into out: UnsafeMutableBufferPointer<Float>
    ) -> (Int, Int64?) {
        var s0 = score0, s1 = score1
        var h1 = has1
        var secondClassMode = -1
        var single = false
        if baseValues.count == 2 {
            if h1 {
                s1 = baseValues[1] + s0
                s0 = -s1
                h1 = true
            } else {
                s1 += baseValues[1]
                s0 += baseValues[0]
            }
        } else if baseValues.count == 1 {
            s0 += baseValues[0]
            single = !h1
        } else {
            secondClassMode = 3
            single = !h1
        }

        let positive: Double = (!single && h1) ? s1 : (has0 ? s0 : 0)
        var index = 0
        var raw: Int64?
        if binaryCase {
            if weightsAllPositive {
                secondClassMode = positive > 0.5 ? 0 : 1
            } else {
                secondClassMode = positive > 0 ? 2 : 3
            }
            index = secondClassMode == 0 || secondClassMode == 2 ? 1 : 0
        } else {
            index = positive > 0 ? 1 : 0
            if case .int64 = labels { raw = Int64(index) }
        }

        if !single {
            out[0] = has0 ? Float(s0) : 0
            out[1] = h1 ? Float(s1) : 0
            transform.applyToRow(out)
            return (index, raw)
        }
        let value = has0 ? Float(s0) : 0
        if transform == .probit {
            out[0] = PostTransform.probit(value)
            out[1] = 0
            return (index, raw)
        }
        switch secondClassMode {
        case 0, 1:
            out[0] = 1 - value
            out[1] = value
        case 2, 3:
            if transform == .logistic {
                out[0] = PostTransform.logistic(-value)
                out[1] = PostTransform.logistic(value)
            } else {
                out[0] = -value
                out[1] = value
            }
        default:
            out[0] = value
            out[1] = 0
        }
        return (index, raw)
    }
}

/// Class labels of a classifier: int64 or string, exactly one of the two attributes.
/// A classifier's label output built row by row: the class label at each row's winning index,
/// or a raw int64 label where onnxruntime writes one whatever the labels are.
struct LabelOutput {
    private let labels: ClassLabels
    private var int64s: [Int64] = []
    private var strings: [String] = []

    init(_ labels: ClassLabels, rows: Int) {
        self.labels = labels
        switch labels {
        case .int64: int64s.reserveCapacity(rows)
        case .string: strings.reserveCapacity(rows)
        }
    }

    mutating func append(index: Int, raw: Int64? = nil) {
        switch labels {
        case .int64(let values): int64s.append(raw ?? values[index])
        case .string(let values): strings.append(values[index])
        }
    }

    /// The labels appended, as a rank-1 tensor.
    var tensor: Tensor {
        switch labels {
        case .int64: return Tensor(unchecked: [int64s.count], .int64(int64s))
        case .string: return Tensor(unchecked: [strings.count], .string(strings))
        }
    }
}

enum ClassLabels: Sendable {
    case int64([Int64])
    case string([String])

    init(_ a: NodeAttributes, ints: String, strings: String) throws {
        let intLabels = try a.ints(ints) ?? []
        let stringLabels = try a.strings(strings) ?? []
        switch (intLabels.isEmpty, stringLabels.isEmpty) {
        case (false, true): self = .int64(intLabels)
        case (true, false): self = .string(stringLabels)
        case (false, false): throw a.invalid(ints, "both \(ints) and \(strings) are set")
        case (true, true): throw a.invalid(ints, "one of \(ints) or \(strings) is required")
        }
    }

    var count: Int {
        switch self {
        case .int64(let v): return v.count
        case .string(let v): return v.count
        }
    }
}
