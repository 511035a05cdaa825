/// Per-column parameters given as one value for all columns or one per column.
private func columnValue(_ values: [Float], _ column: Int) -> Float {
    values.count == 1 ? values[0] : values[column]
}

private func checkColumns(_ values: [Float], _ columns: Int, _ name: String, _ inputs: KernelInputs) throws {
    guard values.count == 1 || values.count == columns else {
        throw inputs.fail("'\(name)' has \(values.count) values for \(columns) input columns")
    }
}

/// `ai.onnx.ml.Scaler`: `Y = (X - offset) * scale`, per column, float output.
struct ScalerKernel: Kernel {
    let offset: [Float]
    let scale: [Float]

    init(_ context: KernelBuildContext) throws {
        try context.expectInputs(1...1)
        let a = context.attributes
        offset = try a.floats("offset") ?? [0]
        scale = try a.floats("scale") ?? [1]
        guard !offset.isEmpty, !scale.isEmpty else { throw a.invalid("scale", "offset and scale must not be empty") }
    }

    func run(_ inputs: KernelInputs) throws -> [Value] {
        let (tensor, x) = try inputs.floats(0)
        let (_, columns) = tensor.rowsAndColumns
        try checkColumns(offset, columns, "offset", inputs)
        try checkColumns(scale, columns, "scale", inputs)
        var y = x
        for i in y.indices {
            let c = i % max(columns, 1)
            y[i] = (x[i] - columnValue(offset, c)) * columnValue(scale, c)
        }
        return [.tensor(Tensor(unchecked: tensor.shape, .float(y)))]
    }
}

/// `ai.onnx.ml.Normalizer`: each row divided by its MAX, L1 or L2 norm (rows with a zero norm
/// are passed through), float output, as onnxruntime computes it.
struct NormalizerKernel: Kernel {
    enum Norm: String, Sendable { case max = "MAX", l1 = "L1", l2 = "L2" }
    let norm: Norm

    init(_ context: KernelBuildContext) throws {
        try context.expectInputs(1...1)
        let a = context.attributes
        let name = try a.string("norm", default: "MAX")
        guard let norm = Norm(rawValue: name) else { throw a.unsupported("norm", "'\(name)' is not one of MAX, L1, L2") }
        self.norm = norm
    }

    func run(_ inputs: KernelInputs) throws -> [Value] {
        let (tensor, x) = try inputs.floats(0)
        let (rows, columns) = tensor.rowsAndColumns
        var y = x
        for row in 0..<rows {
            let range = (row * columns)..<((row + 1) * columns)
            switch norm {
            case .max:
                var maximum = -Float.greatestFiniteMagnitude
                for i in range { maximum = Swift.max(maximum, x[i]) }
                if maximum != 0 { for i in range { y[i] = x[i] / maximum } }
            case .l1:
                var sum: Float = 0
                for i in range { sum += abs(x[i]) }
                if sum != 0 { for i in range { y[i] = x[i] / sum } }
            case .l2:
                var sum: Float = 0
                for i in range { sum += x[i] * x[i] }
                if sum != 0 {
                    for i in range {
                        let magnitude = (x[i] * x[i] / sum).squareRoot()
                        y[i] = x[i] < 0 ? -magnitude : magnitude
                    }
                }
            }
        }
        return [.tensor(Tensor(unchecked: tensor.shape, .float(y)))]
    }
}

/// `ai.onnx.ml.Imputer`: replaces `replaced_value_*` (NaN matches NaN) with per-column imputed values.
struct ImputerKernel: Kernel {
    let floatValues: [Float]
    let replacedFloat: Float
    let intValues: [Int64]
    let replacedInt: Int64

    init(_ context: KernelBuildContext) throws {
        try context.expectInputs(1...1)
        let a = context.attributes
        floatValues = try a.floats("imputed_value_floats") ?? []
        replacedFloat = try a.float("replaced_value_float", default: 0)
        intValues = try a.ints("imputed_value_int64s") ?? []
        replacedInt = try a.int("replaced_value_int64", default: 0)
        guard floatValues.isEmpty != intValues.isEmpty else {
            throw a.invalid("imputed_value_floats", "exactly one of imputed_value_floats or imputed_value_int64s is required")
        }
    }

    func run(_ inputs: KernelInputs) throws -> [Value] {
        let tensor = try inputs.tensor(0)
        let (_, columns) = tensor.rowsAndColumns
        switch tensor.storage {
        case .float(let x):
            guard !floatValues.isEmpty else { throw inputs.fail("float input needs imputed_value_floats") }
            try checkColumns(floatValues, columns, "imputed_value_floats", inputs)
            let matchNaN = replacedFloat.isNaN
            var y = x
            for i in y.indices where matchNaN ? x[i].isNaN : x[i] == replacedFloat {
                y[i] = columnValue(floatValues, i % max(columns, 1))
            }
            return [.tensor(Tensor(unchecked: tensor.shape, .float(y)))]
        case .int64(let x):
            guard !intValues.isEmpty else { throw inputs.fail("int64 input needs imputed_value_int64s") }
            guard intValues.count == 1 || intValues.count == columns else {
                throw inputs.fail("'imputed_value_int64s' has \(intValues.count) values for \(columns) input columns")
            }
            var y = x
            for i in y.indices where x[i] == replacedInt {
                y[i] = intValues.count == 1 ? intValues[0] : intValues[i % max(columns, 1)]
            }
            return [.tensor(Tensor(unchecked: tensor.shape, .int64(y)))]
        default:
            throw inputs.fail("input must be float or int64, got \(tensor.elementType)")
        }
    }
}

/// `ai.onnx.ml.Binarizer`: `x > threshold ? 1 : 0`, keeping the input's float/double type.
struct BinarizerKernel: Kernel {
    let threshold: Float

    init(_ context: KernelBuildContext) throws {
        try context.expectInputs(1...1)
        threshold = try context.attributes.float("threshold", default: 0)
    }

    func run(_ inputs: KernelInputs) throws -> [Value] {
        let tensor = try inputs.tensor(0)
        switch tensor.storage {
        case .float(let x):
            return [.tensor(Tensor(unchecked: tensor.shape, .float(x.map { $0 > threshold ? 1 : 0 })))]
        case .double(let x):
            let limit = Double(threshold)
            return [.tensor(Tensor(unchecked: tensor.shape, .double(x.map { $0 > limit ? 1 : 0 })))]
        default:
            throw inputs.fail("input must be float or double, got \(tensor.elementType)")
        }
    }
}

/// `ai.onnx.ml.OneHotEncoder`: X [...] → float [..., categories]. With `zeros = 0` an unknown
/// category is an error, otherwise an all-zero row.
struct OneHotEncoderKernel: Kernel {
    let intCategories: [Int64: Int]
    let stringCategories: [String: Int]
    let categoryCount: Int
    let zerosForUnknown: Bool

    init(_ context: KernelBuildContext) throws {
        try context.expectInputs(1...1)
        let a = context.attributes
        let ints = try a.ints("cats_int64s") ?? []
        let strings = try a.strings("cats_strings") ?? []
        guard ints.isEmpty != strings.isEmpty else {
            throw a.invalid("cats_int64s", "exactly one of cats_int64s or cats_strings is required")
        }
        intCategories = Dictionary(ints.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        stringCategories = Dictionary(strings.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        categoryCount = max(ints.count, strings.count)
        zerosForUnknown = try a.int("zeros", default: 1) != 0
    }

    func run(_ inputs: KernelInputs) throws -> [Value] {
        let tensor = try inputs.tensor(0)
        let indices: [Int?]
        switch tensor.storage {
        case .string(let x):
            indices = x.map { stringCategories[$0] }
        case .int64(let x):
            indices = x.map { intCategories[$0] }
        case .int32(let x):
            indices = x.map { intCategories[Int64($0)] }
        case .float(let x):
            indices = x.map { value in Int64(exactly: value.rounded(.towardZero)).flatMap { intCategories[$0] } }
        case .double(let x):
            indices = x.map { value in Int64(exactly: value.rounded(.towardZero)).flatMap { intCategories[$0] } }
        case .bool:
            throw inputs.fail("input must be int64, string, float or double, got bool")
        }
        var y = [Float](repeating: 0, count: indices.count * categoryCount)
        for (i, index) in indices.enumerated() {
            if let index {
                y[i * categoryCount + index] = 1
            } else if !zerosForUnknown {
                throw inputs.fail("value at position \(i) is not a known category and zeros = 0")
            }
        }
        return [.tensor(Tensor(unchecked: tensor.shape + [categoryCount], .float(y)))]
    }
}

/// `ai.onnx.ml.ArrayFeatureExtractor`: selects columns `Y` (int64) of the last dimension of `X`.
/// A 1-D `X` gives `[1, len(Y)]`, as in onnxruntime.
struct ArrayFeatureExtractorKernel: Kernel {
    init(_ context: KernelBuildContext) throws {
        try context.expectInputs(2...2)
    }

    func run(_ inputs: KernelInputs) throws -> [Value] {
        let x = try inputs.tensor(0)
        let indexTensor = try inputs.tensor(1)
        guard let indices = indexTensor.integerValues() else {
            throw inputs.fail("indices must be int64, got \(indexTensor.elementType)")
        }
        guard let stride = x.shape.last, x.rank >= 1 else { throw inputs.fail("X must have at least one dimension") }
        for index in indices where index < 0 || index >= Int64(stride) {
            throw inputs.fail("index \(index) is outside the last dimension of size \(stride)")
        }
        let outer = stride == 0 ? 0 : x.count / stride
        let shape = x.rank == 1 ? [1, indices.count] : Array(x.shape.dropLast()) + [indices.count]
        func pick<T>(_ values: [T]) -> [T] {
            var out: [T] = []
            out.reserveCapacity(outer * indices.count)
            for row in 0..<outer {
                for index in indices { out.append(values[row * stride + Int(index)]) }
            }
            return out
        }
        let storage: TensorStorage
        switch x.storage {
        case .float(let v): storage = .float(pick(v))
        case .double(let v): storage = .double(pick(v))
        case .int64(let v): storage = .int64(pick(v))
        case .int32(let v): storage = .int32(pick(v))
        case .string(let v): storage = .string(pick(v))
        case .bool(let v): storage = .bool(pick(v))
        }
        return [.tensor(Tensor(unchecked: shape, storage))]
    }
}

/// `ai.onnx.ml.FeatureVectorizer`: concatenates inputs [N, C_i] into float [N, Σ inputdimensions],
/// truncating or zero-padding each input to its declared width.
struct FeatureVectorizerKernel: Kernel {
    let dimensions: [Int]

    init(_ context: KernelBuildContext) throws {
        let a = context.attributes
        let dimensions = try a.required("inputdimensions", a.ints)
        guard dimensions.count == context.node.input.count, dimensions.allSatisfy({ $0 >= 0 && $0 < 1 << 24 }) else {
            throw a.invalid("inputdimensions", "needs one non-negative width per input (\(context.node.input.count) inputs)")
        }
        self.dimensions = dimensions.map { Int($0) }
    }

    func run(_ inputs: KernelInputs) throws -> [Value] {
        let parts = try (0..<dimensions.count).map { try inputs.floats($0) }
        let rows = parts.first?.tensor.rowsAndColumns.rows ?? 0
        let width = dimensions.reduce(0, +)
        var y = [Float](repeating: 0, count: rows * width)
        var offset = 0
        for (part, dimension) in zip(parts, dimensions) {
            let (partRows, columns) = part.tensor.rowsAndColumns
            guard partRows == rows else { throw inputs.fail("inputs have different row counts (\(rows) and \(partRows))") }
            for row in 0..<rows {
                for c in 0..<min(columns, dimension) { y[row * width + offset + c] = part.values[row * columns + c] }
            }
            offset += dimension
        }
        return [.tensor(Tensor(unchecked: [rows, width], .float(y)))]
    }
}
