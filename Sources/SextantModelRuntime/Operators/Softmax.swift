import Foundation

/// Normalises a possibly negative `axis` against `rank`; `nil` when out of range (always for scalars).
func normalizedAxis(_ axis: Int64, rank: Int) -> Int? {
    let value = axis < 0 ? axis + Int64(rank) : axis
    return value >= 0 && value < Int64(rank) ? Int(value) : nil
}

/// `Softmax` / `LogSoftmax` on float and double. Opset ≥ 13: along `axis` (default -1);
/// before 13: over the input flattened to 2-D at `axis` (default 1).
struct SoftmaxKernel: Kernel {
    let axis: Int64
    let log: Bool
    let flattenSemantics: Bool

    init(_ context: KernelBuildContext, log: Bool) throws {
        try context.expectInputs(1...1)
        try context.expectOutputs(1...1)
        flattenSemantics = context.opsetVersion < 13
        axis = try context.attributes.int("axis", default: flattenSemantics ? 1 : -1)
        self.log = log
    }

    func run(_ inputs: KernelInputs) throws -> [Value] {
        let x = try inputs.tensor(0)
        guard let axis = normalizedAxis(axis, rank: x.rank) else {
            throw inputs.fail("axis \(self.axis) is out of range for shape \(x.shape)")
        }
        let outer: Int, length: Int, inner: Int
        if flattenSemantics {
            outer = x.shape.prefix(axis).reduce(1, *)
            length = x.shape.dropFirst(axis).reduce(1, *)
            inner = 1
        } else {
            outer = x.shape.prefix(axis).reduce(1, *)
            length = x.shape[axis]
            inner = x.shape.dropFirst(axis + 1).reduce(1, *)
        }
        switch x.storage {
        case .float(let v):
            return [.tensor(Tensor(unchecked: x.shape, .float(softmax(v, outer, length, inner, exp: expf, ln: logf))))]
        case .double(let v):
            return [.tensor(Tensor(unchecked: x.shape, .double(softmax(v, outer, length, inner, exp: Foundation.exp, ln: Foundation.log))))]
        default:
            throw inputs.fail("input must be float or double, got \(x.elementType)")
        }
    }

    private func softmax<T: FloatingPoint>(
        _ v: [T], _ outer: Int, _ length: Int, _ inner: Int, exp: (T) -> T, ln: (T) -> T
    ) -> [T] {
        var out = v
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * length * inner + i
                var maximum = -T.infinity
                for j in 0..<length { maximum = max(maximum, v[base + j * inner]) }
                var sum: T = 0
                for j in 0..<length {
                    let e = exp(v[base + j * inner] - maximum)
                    out[base + j * inner] = e
                    sum += e
                }
                if log {
                    let logSum = ln(sum)
                    for j in 0..<length { out[base + j * inner] = v[base + j * inner] - maximum - logSum }
                } else {
                    for j in 0..<length { out[base + j * inner] /= sum }
                }
            }
        }
        return out
    }
}

/// `ArgMax`: int64 indices of the largest value along `axis` (first or, with
/// `select_last_index`, last occurrence), keeping the axis as size 1 when `keepdims`.
struct ArgMaxKernel: Kernel {
    let axis: Int64
    let keepDims: Bool
    let selectLast: Bool

    init(_ context: KernelBuildContext) throws {
        try context.expectInputs(1...1)
        try context.expectOutputs(1...1)
        let a = context.attributes
        axis = try a.int("axis", default: 0)
        keepDims = try a.int("keepdims", default: 1) != 0
        selectLast = try a.int("select_last_index", default: 0) != 0
    }

    func run(_ inputs: KernelInputs) throws -> [Value] {
        let x = try inputs.tensor(0)
        guard x.rank >= 1, let axis = normalizedAxis(axis, rank: x.rank) else {
            throw inputs.fail("axis \(self.axis) is out of range for shape \(x.shape)")
        }
        guard x.shape[axis] > 0 else { throw inputs.fail("cannot take ArgMax over an empty axis") }
        let values: [Double]
        switch x.storage {
        case .float(let v): values = v.map { Double($0) }
        case .double(let v): values = v
        case .int64(let v): values = v.map { Double($0) }
        case .int32(let v): values = v.map { Double($0) }
        default: throw inputs.fail("input must be numeric, got \(x.elementType)")
        }
        let outer = x.shape.prefix(axis).reduce(1, *)
        let length = x.shape[axis]
        let inner = x.shape.dropFirst(axis + 1).reduce(1, *)
        var out = [Int64](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * length * inner + i
                var best = 0
                for j in 1..<length {
                    let value = values[base + j * inner], current = values[base + best * inner]
                    if value > current || (selectLast && value == current) { best = j }
                }
                out[o * inner + i] = Int64(best)
            }
        }
        var shape = x.shape
        if keepDims { shape[axis] = 1 } else { shape.remove(at: axis) }
        return [.tensor(Tensor(unchecked: shape, .int64(out)))]
    }
}
