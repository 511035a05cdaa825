/// `C[M, N] = A[M, K] · B[K, N]` (row-major, optional transposes), i-k-j loop order.
private func matrixMultiply<T: FloatingPoint>(
    _ a: UnsafeBufferPointer<T>, _ b: UnsafeBufferPointer<T>, m: Int, k: Int, n: Int,
    transA: Bool = false, transB: Bool = false, into c: UnsafeMutableBufferPointer<T>
) {
    for i in 0..<m {
        let row = i * n
        for j in 0..<n { c[row + j] = 0 }
        for p in 0..<k {
            let av = transA ? a[p * m + i] : a[i * k + p]
            if transB {
                for j in 0..<n { c[row + j] += av * b[j * k + p] }
            } else {
                let bRow = p * n
                for j in 0..<n { c[row + j] += av * b[bRow + j] }
            }
        }
    }
}

/// `MatMul` for float and double: 2-D, 1-D operands (numpy rules), and batched A against a
/// 2-D B or against a B with the same batch dimensions.
struct MatMulKernel: Kernel {
    init(_ context: KernelBuildContext) throws {
        try context.expectInputs(2...2)
        try context.expectOutputs(1...1)
    }

    func run(_ inputs: KernelInputs) throws -> [Value] {
        let a = try inputs.tensor(0)
        let b = try inputs.tensor(1)
        switch (a.storage, b.storage) {
        case (.float(let x), .float(let y)):
            let (shape, out) = try multiply(x, a.shape, y, b.shape, inputs)
            return [.tensor(Tensor(unchecked: shape, .float(out)))]
        case (.double(let x), .double(let y)):
            let (shape, out) = try multiply(x, a.shape, y, b.shape, inputs)
            return [.tensor(Tensor(unchecked: shape, .double(out)))]
        default:
            throw inputs.fail("operands must both be float or both double, got \(a.elementType) and \(b.elementType)")
        }
    }

    private func multiply<T: FloatingPoint>(
        _ x: [T], _ xShape: [Int], _ y: [T], _ yShape: [Int], _ inputs: KernelInputs
    ) throws -> ([Int], [T]) {
        guard !xShape.isEmpty, !yShape.isEmpty else { throw inputs.fail("operands must not be scalars") }
        let aShape = xShape.count == 1 ? [1, xShape[0]] : xShape
        let bShape = yShape.count == 1 ? [yShape[0], 1] : yShape
        let m = aShape[aShape.count - 2], k = aShape[aShape.count - 1]
        let k2 = bShape[bShape.count - 2], n = bShape[bShape.count - 1]
        guard k == k2 else { throw inputs.fail("inner dimensions differ: \(xShape) × \(yShape)") }
        let aBatch = Array(aShape.dropLast(2)), bBatch = Array(bShape.dropLast(2))
        var outShape: [Int]
        var out: [T]
        if bBatch.isEmpty {
            // Fold A's batch dimensions into rows.
            let rows = aBatch.reduce(1, *) * m
            out = [T](repeating: 0, count: rows * n)
            x.withUnsafeBufferPointer { a in
                y.withUnsafeBufferPointer { b in
                    out.withUnsafeMutableBufferPointer { c in
                        matrixMultiply(a, b, m: rows, k: k, n: n, into: c)
                    }
                }
            }
            outShape = aBatch + [m, n]
        } else if aBatch == bBatch || aBatch.isEmpty {
            let batches = bBatch.reduce(1, *)
            out = [T](repeating: 0, count: batches * m * n)
            x.withUnsafeBufferPointer { a in
                y.withUnsafeBufferPointer { b in
                    out.withUnsafeMutableBufferPointer { c in
                        for batch in 0..<batches {
                            let aStart = aBatch.isEmpty ? 0 : batch * m * k
                            matrixMultiply(
                                UnsafeBufferPointer(rebasing: a[aStart..<(aStart + m * k)]),
                                UnsafeBufferPointer(rebasing: b[(batch * k * n)..<((batch + 1) * k * n)]),
                                m: m, k: k, n: n,
                                into: UnsafeMutableBufferPointer(rebasing: c[(batch * m * n)..<((batch + 1) * m * n)]))
                        }
                    }
                }
            }
            outShape = bBatch + [m, n]
        } else {
            throw inputs.fail("batch dimensions \(aBatch) and \(bBatch) are not supported together")
        }
        if xShape.count == 1 { outShape.remove(at: outShape.count - 2) }
        if yShape.count == 1 { outShape.removeLast() }
        return (outShape, out)
    }
}

/// `Gemm`: `Y = alpha · A' · B' + beta · C`, float and double, C broadcast to [M, N].
struct GemmKernel: Kernel {
    let alpha: Float
    let beta: Float
    let transA: Bool
    let transB: Bool

    init(_ context: KernelBuildContext) throws {
        try context.expectInputs(2...3)
        try context.expectOutputs(1...1)
        let a = context.attributes
        alpha = try a.float("alpha", default: 1)
        beta = try a.float("beta", default: 1)
        transA = try a.int("transA", default: 0) != 0
        transB = try a.int("transB", default: 0) != 0
        _ = try a.int("broadcast")  // opset < 7; C is always broadcast to [M, N]
    }

    func run(_ inputs: KernelInputs) throws -> [Value] {
        let a = try inputs.tensor(0)
        let b = try inputs.tensor(1)
        let c = try inputs.optionalTensor(2)
        guard a.rank == 2, b.rank == 2 else { throw inputs.fail("A and B must be 2-D, got \(a.shape) and \(b.shape)") }
        let m = transA ? a.shape[1] : a.shape[0], k = transA ? a.shape[0] : a.shape[1]
        let k2 = transB ? b.shape[1] : b.shape[0], n = transB ? b.shape[0] : b.shape[1]
        guard k == k2 else { throw inputs.fail("inner dimensions differ: \(a.shape) × \(b.shape)") }
        if let c, broadcastShape(c.shape, [m, n]) != [m, n] {
            throw inputs.fail("C of shape \(c.shape) does not broadcast to [\(m), \(n)]")
        }
        switch (a.storage, b.storage, c?.storage) {
        case (.float(let x), .float(let y), .none):
            return [.tensor(Tensor(unchecked: [m, n], .float(compute(x, y, nil, [], m, k, n, alpha, beta))))]
        case (.float(let x), .float(let y), .float(let z)?):
            return [.tensor(Tensor(unchecked: [m, n], .float(compute(x, y, z, c?.shape ?? [], m, k, n, alpha, beta))))]
        case (.double(let x), .double(let y), .none):
            return [.tensor(Tensor(unchecked: [m, n], .double(compute(x, y, nil, [], m, k, n, Double(alpha), Double(beta)))))]
        case (.double(let x), .double(let y), .double(let z)?):
            return [.tensor(Tensor(unchecked: [m, n], .double(compute(x, y, z, c?.shape ?? [], m, k, n, Double(alpha), Double(beta)))))]
        default:
            throw inputs.fail("A, B and C must all be float or all double")
        }
    }

    private func compute<T: FloatingPoint>(
        _ x: [T], _ y: [T], _ z: [T]?, _ zShape: [Int], _ m: Int, _ k: Int, _ n: Int, _ alpha: T, _ beta: T
    ) -> [T] {
        var out = [T](repeating: 0, count: m * n)
        x.withUnsafeBufferPointer { a in
            y.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { c in
                    matrixMultiply(a, b, m: m, k: k, n: n, transA: transA, transB: transB, into: c)
                }
            }
        }
        if alpha != 1 { out = out.map { $0 * alpha } }
        if let z, beta != 0 {
            let scaled = beta == 1 ? z : z.map { $0 * beta }
            out = broadcastApply(out, [m, n], scaled, zShape, [m, n], +)
        }
        return out
    }
}
