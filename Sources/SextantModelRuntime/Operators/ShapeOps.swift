extension TensorStorage {
    /// Gathers elements at `indices` into new storage of the same type.
    func gathering(_ indices: [Int]) -> TensorStorage {
        switch self {
        case .float(let v): return .float(indices.map { v[$0] })
        case .double(let v): return .double(indices.map { v[$0] })
        case .int64(let v): return .int64(indices.map { v[$0] })
        case .int32(let v): return .int32(indices.map { v[$0] })
        case .string(let v): return .string(indices.map { v[$0] })
        case .bool(let v): return .bool(indices.map { v[$0] })
        }
    }

    /// Concatenates storages of one element type; `nil` when the types differ.
    static func concatenating(_ parts: [TensorStorage]) -> TensorStorage? {
        guard let first = parts.first else { return nil }
        func all<T>(_ extract: (TensorStorage) -> [T]?) -> [T]? {
            var out: [T] = []
            for part in parts {
                guard let values = extract(part) else { return nil }
                out.append(contentsOf: values)
            }
            return out
        }
        switch first {
        case .float: return all { if case .float(let v) = $0 { v } else { nil } }.map(TensorStorage.float)
        case .double: return all { if case .double(let v) = $0 { v } else { nil } }.map(TensorStorage.double)
        case .int64: return all { if case .int64(let v) = $0 { v } else { nil } }.map(TensorStorage.int64)
        case .int32: return all { if case .int32(let v) = $0 { v } else { nil } }.map(TensorStorage.int32)
        case .string: return all { if case .string(let v) = $0 { v } else { nil } }.map(TensorStorage.string)
        case .bool: return all { if case .bool(let v) = $0 { v } else { nil } }.map(TensorStorage.bool)
        }
    }
}

/// `Identity`: passes its input through.
struct IdentityKernel: Kernel {
    init(_ context: KernelBuildContext) throws {
        try context.expectInputs(1...1)
    }

    func run(_ inputs: KernelInputs) throws -> [Value] {
        guard let value = inputs.values.first ?? nil else { throw inputs.fail("input 0 is required") }
        return [value]
    }
}

/// `Reshape`: the target shape comes from the int64 second input (opset ≥ 5) or the `shape`
/// attribute (opset < 5); 0 copies the input dimension (unless `allowzero`), -1 is inferred.
struct ReshapeKernel: Kernel {
    let attributeShape: [Int64]?
    let allowZero: Bool

    init(_ context: KernelBuildContext) throws {
        let a = context.attributes
        if context.opsetVersion < 5 {
            try context.expectInputs(1...1)
            attributeShape = try a.required("shape", a.ints)
        } else {
            try context.expectInputs(2...2)
            attributeShape = nil
        }
        allowZero = try a.int("allowzero", default: 0) != 0
    }

    func run(_ inputs: KernelInputs) throws -> [Value] {
        let x = try inputs.tensor(0)
        let requested: [Int64]
        if let attributeShape {
            requested = attributeShape
        } else {
            let shapeTensor = try inputs.tensor(1)
            guard case .int64(let values) = shapeTensor.storage, shapeTensor.rank == 1 else {
                throw inputs.fail("shape must be a 1-D int64 tensor, got \(shapeTensor.elementType) \(shapeTensor.shape)")
            }
            requested = values
        }
        var shape: [Int] = []
        var inferred: Int?
        for (i, dim) in requested.enumerated() {
            switch dim {
            case -1:
                guard inferred == nil else { throw inputs.fail("shape \(requested) has more than one -1") }
                inferred = i
                shape.append(1)
            case 0 where !allowZero:
                guard i < x.rank else { throw inputs.fail("shape \(requested) copies dimension \(i) the input lacks") }
                shape.append(x.shape[i])
            case 0...:
                guard dim <= Int64(Int32.max) else { throw inputs.fail("dimension \(dim) is too large") }
                shape.append(Int(dim))
            default:
                throw inputs.fail("invalid dimension \(dim) in shape \(requested)")
            }
        }
        guard let known = Tensor.elementCount(shape) else {
            throw inputs.fail("shape \(requested) is too large")
        }
        if let inferred {
            guard known > 0, x.count % known == 0 else {
                throw inputs.fail("cannot reshape \(x.shape) to \(requested)")
            }
            shape[inferred] = x.count / known
        }
        guard Tensor.elementCount(shape) == x.count else {
            throw inputs.fail("cannot reshape \(x.shape) (\(x.count) elements) to \(requested)")
        }
        return [.tensor(x.reshaped(shape))]
    }
}

/// `Flatten`: to 2-D `[prod(dims before axis), prod(dims from axis)]`.
struct FlattenKernel: Kernel {
    let axis: Int64

    init(_ context: KernelBuildContext) throws {
        try context.expectInputs(1...1)
        axis = try context.attributes.int("axis", default: 1)
    }

    func run(_ inputs: KernelInputs) throws -> [Value] {
        let x = try inputs.tensor(0)
        let axis = self.axis < 0 ? self.axis + Int64(x.rank) : self.axis
        guard axis >= 0, axis <= Int64(x.rank) else {
            throw inputs.fail("axis \(self.axis) is out of range for shape \(x.shape)")
        }
        let split = Int(axis)
        return [.tensor(x.reshaped([x.shape.prefix(split).reduce(1, *), x.shape.dropFirst(split).reduce(1, *)]))]
    }
}

/// `Concat` along `axis` (required) of tensors with one element type.
struct ConcatKernel: Kernel {
    let axis: Int64

    init(_ context: KernelBuildContext) throws {
        guard !context.node.input.isEmpty else { throw ModelRuntimeError.invalidGraph("\(context.op) has no inputs") }
        let a = context.attributes
        axis = try a.required("axis", a.int)
    }

    func run(_ inputs: KernelInputs) throws -> [Value] {
        let parts = try (0..<inputs.count).map { try inputs.tensor($0) }
        let first = parts[0]
        guard let axis = normalizedAxis(axis, rank: first.rank), first.rank > 0 else {
            throw inputs.fail("axis \(self.axis) is out of range for shape \(first.shape)")
        }
        for part in parts {
            guard part.rank == first.rank,
                part.shape.enumerated().allSatisfy({ $0.offset == axis || $0.element == first.shape[$0.offset] })
            else {
                throw inputs.fail("shapes \(parts.map(\.shape)) do not match outside axis \(axis)")
            }
        }
        let outer = first.shape.prefix(axis).reduce(1, *)
        var shape = first.shape
        shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        // Interleave blocks: for each outer index, each part's contiguous block along axis...end.
        var pieces: [TensorStorage] = []
        pieces.reserveCapacity(outer * parts.count)
        for o in 0..<outer {
            for part in parts {
                let block = part.shape.dropFirst(axis).reduce(1, *)
                pieces.append(part.storage.gathering(Array((o * block)..<((o + 1) * block))))
            }
        }
        guard Set(parts.map(\.elementType)).count == 1 else {
            throw inputs.fail("inputs have different element types: \(parts.map(\.elementType))")
        }
        let combined = outer == 1 ? TensorStorage.concatenating(parts.map(\.storage)) : TensorStorage.concatenating(pieces)
        let storage = combined ?? first.storage.gathering([])  // nil only when there is nothing to join
        return [.tensor(Tensor(unchecked: shape, storage))]
    }
}

/// Reads `axes` from the attribute (before `inputFromOpset`) or the optional int64 second input.
private struct AxesSource: Sendable {
    let attribute: [Int64]?
    let fromInput: Bool

    init(_ context: KernelBuildContext, inputFromOpset: Int64) throws {
        if context.opsetVersion >= inputFromOpset {
            try context.expectInputs(1...2)
            attribute = nil
            fromInput = true
        } else {
            try context.expectInputs(1...1)
            attribute = try context.attributes.ints("axes")
            fromInput = false
        }
    }

    func axes(_ inputs: KernelInputs) throws -> [Int64]? {
        guard fromInput else { return attribute }
        guard let tensor = try inputs.optionalTensor(1) else { return nil }
        guard case .int64(let values) = tensor.storage else {
            throw inputs.fail("axes must be int64, got \(tensor.elementType)")
        }
        return values
    }
}

/// `Squeeze`: removes the listed size-1 axes, or every size-1 axis when none are given.
struct SqueezeKernel: Kernel {
    private let axes: AxesSource

    init(_ context: KernelBuildContext) throws {
        axes = try AxesSource(context, inputFromOpset: 13)
    }

    func run(_ inputs: KernelInputs) throws -> [Value] {
        let x = try inputs.tensor(0)
        let remove: Set<Int>
        if let list = try axes.axes(inputs) {
            remove = Set(
                try list.map { axis in
                    guard let a = normalizedAxis(axis, rank: x.rank), x.shape[a] == 1 else {
                        throw inputs.fail("cannot squeeze axis \(axis) of shape \(x.shape)")
                    }
                    return a
                })
        } else {
            remove = Set(x.shape.indices.filter { x.shape[$0] == 1 })
        }
        return [.tensor(x.reshaped(x.shape.indices.filter { !remove.contains($0) }.map { x.shape[$0] }))]
    }
}

/// `Unsqueeze`: inserts size-1 axes at the listed positions of the output.
struct UnsqueezeKernel: Kernel {
    private let axes: AxesSource

    init(_ context: KernelBuildContext) throws {
        axes = try AxesSource(context, inputFromOpset: 13)
        if !axes.fromInput && axes.attribute == nil {
            throw context.attributes.invalid("axes", "required but missing")
        }
    }

    func run(_ inputs: KernelInputs) throws -> [Value] {
        let x = try inputs.tensor(0)
        guard let list = try axes.axes(inputs) else { throw inputs.fail("axes are required") }
        let rank = x.rank + list.count
        let positions = Set(
            try list.map { axis in
                guard let a = normalizedAxis(axis, rank: rank) else {
                    throw inputs.fail("axis \(axis) is out of range for output rank \(rank)")
                }
                return a
            })
        guard positions.count == list.count else { throw inputs.fail("axes \(list) repeat an axis") }
        var shape: [Int] = []
        var source = x.shape.makeIterator()
        for i in 0..<rank {
            if positions.contains(i) { shape.append(1) } else if let dim = source.next() { shape.append(dim) }
        }
        return [.tensor(x.reshaped(shape))]
    }
}

/// `Gather` along `axis` with int32/int64 indices (negative indices count from the end).
struct GatherKernel: Kernel {
    let axis: Int64

    init(_ context: KernelBuildContext) throws {
        try context.expectInputs(2...2)
        axis = try context.attributes.int("axis", default: 0)
    }

    func run(_ inputs: KernelInputs) throws -> [Value] {
        let data = try inputs.tensor(0)
        let indexTensor = try inputs.tensor(1)
        guard let rawIndices = indexTensor.integerValues() else {
            throw inputs.fail("indices must be int32 or int64, got \(indexTensor.elementType)")
        }
        guard data.rank >= 1, let axis = normalizedAxis(axis, rank: data.rank) else {
            throw inputs.fail("axis \(self.axis) is out of range for shape \(data.shape)")
        }
        let size = data.shape[axis]
        let indices = try rawIndices.map { index -> Int in
            let value = index < 0 ? index + Int64(size) : index
            guard value >= 0, value < Int64(size) else {
                throw inputs.fail("index \(index) is out of range for axis \(axis) of size \(size)")
            }
            return Int(value)
        }
        let outer = data.shape.prefix(axis).reduce(1, *)
        let inner = data.shape.dropFirst(axis + 1).reduce(1, *)
        var positions: [Int] = []
        positions.reserveCapacity(outer * indices.count * inner)
        for o in 0..<outer {
            for index in indices {
                let start = (o * size + index) * inner
                positions.append(contentsOf: start..<(start + inner))
            }
        }
        let shape = Array(data.shape.prefix(axis)) + indexTensor.shape + Array(data.shape.dropFirst(axis + 1))
        return [.tensor(Tensor(unchecked: shape, data.storage.gathering(positions)))]
    }
}
