/// Numpy-style (multidirectional) broadcasting of two shapes; `nil` when incompatible.
func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let rank = max(a.count, b.count)
    var result = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        if da == db || db == 1 {
            result[i] = da
        } else if da == 1 {
            result[i] = db
        } else {
            return nil
        }
    }
    return result
}

/// Row-major strides of `shape` aligned to `outShape`, with 0 for broadcast dimensions.
private func broadcastStrides(_ shape: [Int], to outShape: [Int]) -> [Int] {
    let offset = outShape.count - shape.count
    var strides = [Int](repeating: 0, count: outShape.count)
    var step = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[i + offset] = shape[i] == 1 ? 0 : step
        step *= shape[i]
    }
    return strides
}

/// Applies `op` elementwise over two broadcast operands. Fast paths for equal shapes, scalars
/// and a trailing block (bias rows); the general case walks an index odometer.
func broadcastApply<T>(
    _ a: [T], _ aShape: [Int], _ b: [T], _ bShape: [Int], _ outShape: [Int], _ op: (T, T) -> T
) -> [T] {
    let count = outShape.reduce(1, *)
    if aShape == bShape { return zip(a, b).map(op) }
    if b.count == 1, a.count == count { let s = b[0]; return a.map { op($0, s) } }
    if a.count == 1, b.count == count { let s = a[0]; return b.map { op(s, $0) } }
    // Trailing block: b's shape (without leading 1s) equals the trailing dims of the output.
    let bCore = Array(bShape.drop(while: { $0 == 1 }))
    if a.count == count, b.count > 0, !bCore.isEmpty, Array(outShape.suffix(bCore.count)) == bCore {
        let block = b.count
        var out = [T]()
        out.reserveCapacity(count)
        for start in stride(from: 0, to: count, by: block) {
            for j in 0..<block { out.append(op(a[start + j], b[j])) }
        }
        return out
    }
    let aStrides = broadcastStrides(aShape, to: outShape)
    let bStrides = broadcastStrides(bShape, to: outShape)
    var out = [T]()
    out.reserveCapacity(count)
    var index = [Int](repeating: 0, count: outShape.count)
    var ai = 0, bi = 0
    for _ in 0..<count {
        out.append(op(a[ai], b[bi]))
        var d = outShape.count - 1
        while d >= 0 {
            index[d] += 1
            ai += aStrides[d]
            bi += bStrides[d]
            if index[d] < outShape[d] { break }
            ai -= aStrides[d] * outShape[d]
            bi -= bStrides[d] * outShape[d]
            index[d] = 0
            d -= 1
        }
    }
    return out
}
