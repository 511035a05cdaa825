/// A tree ensemble with every tree padded to the same depth and stored breadth-first from slot
/// 1, so a node's children are found by arithmetic instead of loads: the children of slot `n`
/// are `2n` (true branch) and `2n + 1` (false branch), and every row takes exactly `depth` steps.
///
/// A leaf shallower than `depth` is grown into a subtree whose inner slots test nothing that
/// matters (feature 0, threshold 0) and whose leaves all name the same original leaf, so whichever
/// way a row goes below it, it ends at that leaf. Built from a `FlatForest` whose branches all
/// share one mode (BRANCH_LEQ or BRANCH_LT, missing-value tracking per node allowed) and whose
/// padded size stays within a budget; other forests keep the flat layout.
///
/// Rows step through the trees level by level: the next slot of many independent walks (rows of a
/// batch, or the trees of a single row) is computed in one pass, so the processor overlaps them
/// instead of waiting on one chain of loads at a time. Branch tests compare integer keys that
/// order like the floats (`orderKey`); BRANCH_LT thresholds are stored as the key below theirs,
/// so every test is `key <= limit`, and the next slot is `2n` plus whether the test failed
/// (a compare and an add with carry; no branch).
struct PerfectForest: Sendable {
    /// Levels of branches every tree has (0 when every tree is a single leaf).
    let depth: Int
    let treeCount: Int
    /// Slots per tree: `2^depth`, the inner slots `1 ..< 2^depth` and slot 0, unused.
    let slotsPerTree: Int
    /// `treeCount * slotsPerTree` entries, tree by tree, breadth-first within a tree: the
    /// feature index in the high 32 bits and the limit key in the low 32 (see `pack`), so one
    /// load fetches both.
    let node: [UInt64]
    /// Per slot, whether a NaN feature takes the true branch; empty when no node tracks.
    let tracksMissing: [Bool]
    /// `treeCount * 2^depth` entries: the `FlatForest` leaf each padded leaf slot stands for.
    let leaf: [Int32]
    /// When every leaf votes for the same run of targets `firstVoteTarget ..< firstVoteTarget +
    /// voteWidth`, one weight per target in order (one vote for one class or target, or one per
    /// class), the votes copied next to each leaf slot: `leafWeight[slot * voteWidth + k]`.
    /// `voteWidth` is 0 when leaves vote differently.
    let voteWidth: Int
    let firstVoteTarget: Int
    let leafWeight: [Float]

    /// Inner slots the padded layout may use per node of the flat one, and at least this many
    /// slots in all, so small forests always qualify.
    static var growthLimit: Int { 8 }
    static var smallForestSlots: Int { 1 << 16 }
    static var maximumDepth: Int { 20 }

    /// The padded layout of `forest`, or nil when its branch modes differ or padding would use
    /// too much memory.
    init?(_ forest: FlatForest<Float>) {
        guard let mode = forest.uniformMode, !forest.roots.isEmpty, !forest.threshold.contains(where: \.isNaN) else {
            return nil
        }
        let depth = Int(forest.depths.max() ?? 0)
        guard depth <= Self.maximumDepth else { return nil }
        let slotsPerTree = 1 << depth
        let totalSlots = forest.roots.count * slotsPerTree
        guard totalSlots <= max(Self.smallForestSlots, Self.growthLimit * forest.mode.count) else { return nil }

        let strict = mode == TreeNodeMode.lt
        var node = [UInt64](repeating: 0, count: totalSlots)
        var tracks = [Bool](repeating: false, count: totalSlots)
        var leaf = [Int32](repeating: 0, count: totalSlots)
        var anyTracks = false
        for (tree, root) in forest.roots.enumerated() {
            let base = tree * slotsPerTree
            // (flat node, slot within the tree, level); a leaf reached early fills its whole subtree.
            var pending: [(node: Int, slot: Int, level: Int)] = [(Int(root), 1, 0)]
            while let (flat, slot, level) = pending.popLast() {
                if level == depth {
                    leaf[base + slot - slotsPerTree] = Int32(flat)
                    continue
                }
                let isLeaf = forest.mode[flat] == TreeNodeMode.leaf
                if !isLeaf {
                    node[base + slot] = Self.pack(feature: forest.feature[flat], threshold: forest.threshold[flat], strict: strict)
                    if forest.mode[flat] & TreeNodeMode.missingTracksTrue != 0 {
                        tracks[base + slot] = true
                        anyTracks = true
                    }
                }
                pending.append((isLeaf ? flat : Int(forest.trueChild[flat]), 2 * slot, level + 1))
                pending.append((isLeaf ? flat : Int(forest.falseChild[flat]), 2 * slot + 1, level + 1))
            }
        }
        self.depth = depth
        self.treeCount = forest.roots.count
        self.slotsPerTree = slotsPerTree
        self.node = node
        self.tracksMissing = anyTracks ? tracks : []
        self.leaf = leaf
        (voteWidth, firstVoteTarget, leafWeight) = Self.denseVotes(forest, leaf)
    }

    /// The votes of `forest` laid out per padded leaf slot, when every leaf votes for the same
    /// run of targets in the same order; `(0, 0, [])` otherwise.
    private static func denseVotes(_ forest: FlatForest<Float>, _ leaf: [Int32]) -> (Int, Int, [Float]) {
        guard let first = leaf.first.map(Int.init) else { return (0, 0, []) }
        let width = Int(forest.voteCount[first])
        guard width > 0 else { return (0, 0, []) }
        let firstTarget = Int(forest.voteTarget[Int(forest.voteStart[first])])
        var weights: [Float] = []
        weights.reserveCapacity(leaf.count * width)
        for node in leaf.map(Int.init) {
            guard Int(forest.voteCount[node]) == width else { return (0, 0, []) }
            let start = Int(forest.voteStart[node])
            for k in 0..<width {
                guard Int(forest.voteTarget[start + k]) == firstTarget + k else { return (0, 0, []) }
                weights.append(forest.voteWeight[start + k])
            }
        }
        return (width, firstTarget, weights)
    }

    /// Finds the leaf each row reaches in each tree and hands it to `sink`: `reached(row:tree:slot:)`
    /// with the padded leaf slot (`leaf[slot]` is the `FlatForest`'s leaf; `leafWeight` is indexed
    /// by it). Each row's leaves come in tree order.
    ///
    /// Batches of `blockRows` or more go tree by tree (the tree stays in cache), all rows one
    /// level at a time; smaller ones go row by row, all trees one level at a time. `x` holds
    /// `rows * columns` features; the caller has checked every feature index fits.
    func findLeaves<Sink: LeafSink>(x: UnsafeBufferPointer<Float>, rows: Int, columns: Int, into sink: Sink) {
        guard rows > 0 else { return }
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: rows * columns) { keys in
            for index in 0..<(rows * columns) { keys[index] = Self.orderKey(x[index]) }
            let keys = UnsafePointer(keys.baseAddress!)
            if tracksMissing.isEmpty {
                walk(LessOrEqual.self, keys, rows, columns, sink)
            } else {
                walk(LessOrEqualOrTrackedMissing.self, keys, rows, columns, sink)
            }
        }
    }

    /// Batches at least this large go tree by tree; smaller ones row by row.
    static var blockRows: Int { 16 }

    @inline(__always)
    private func walk<Test: BranchTest, Sink: LeafSink>(
        _: Test.Type, _ keys: UnsafePointer<UInt32>, _ rows: Int, _ columns: Int, _ sink: Sink
    ) {
        let trees = treeCount
        let slotsPerTree = slotsPerTree
        node.withUnsafeBufferPointer { node in
            tracksMissing.withUnsafeBufferPointer { tracks in
                if rows < Self.blockRows {
                    // A row's walks, one per tree, advance side by side.
                    withUnsafeTemporaryAllocation(of: Int32.self, capacity: trees) { walks in
                        for row in 0..<rows {
                            let features = keys + row * columns
                            for tree in 0..<trees { walks[tree] = 1 }
                            for _ in 0..<depth {
                                var base = 0
                                for tree in 0..<trees {
                                    let slot = Int(walks[tree])
                                    let at = base &+ slot
                                    let (feature, limit) = Self.unpack(node[at])
                                    let goesTrue = Test.goesTrue(features[feature], limit, at, tracks)
                                    walks[tree] = Int32(truncatingIfNeeded: Self.child(of: slot, goingTrue: goesTrue))
                                    base &+= slotsPerTree
                                }
                            }
                            for tree in 0..<trees { sink.reached(row: row, tree: tree, slot: (tree << depth) &+ Int(walks[tree]) &- slotsPerTree) }
                        }
                    }
                } else {
                    // One tree's walks side by side, so a level is one pass over adjacent slots.
                    withUnsafeTemporaryAllocation(of: Int.self, capacity: rows) { walks in
                        for tree in 0..<trees {
                            let base = tree * slotsPerTree
                            guard depth > 0 else {
                                for row in 0..<rows { sink.reached(row: row, tree: tree, slot: tree) }
                                continue
                            }
                            @inline(__always)
                            func step(_ slot: Int, _ features: UnsafePointer<UInt32>) -> Int {
                                let at = base &+ slot
                                let (feature, limit) = Self.unpack(node[at])
                                return Self.child(of: slot, goingTrue: Test.goesTrue(features[feature], limit, at, tracks))
                            }
                            // The pass that reaches the leaves hands them to the sink directly.
                            let leafBase = (tree << depth) &- slotsPerTree
                            @inline(__always)
                            func finish(_ row: Int, _ slot: Int, last: Bool) {
                                if last { sink.reached(row: row, tree: tree, slot: slot &+ leafBase) } else { walks[row] = slot }
                            }
                            // Every walk starts at the root, whose test is the same for all rows;
                            // the next level follows in the same pass.
                            let (rootFeature, rootLimit) = Self.unpack(node[base &+ 1])
                            var features = keys
                            let rootPassIsLast = depth <= 2
                            for row in 0..<rows {
                                let first = Self.child(of: 1, goingTrue: Test.goesTrue(features[rootFeature], rootLimit, base &+ 1, tracks))
                                finish(row, depth > 1 ? step(first, features) : first, last: rootPassIsLast)
                                features += columns
                            }
                            // Then two levels per pass: half the stores and reloads of the walks.
                            // (Measured and dropped: three levels per pass, slower; two trees
                            // per pass, no faster.)
                            var level = 2
                            while level < depth {
                                features = keys
                                let levels = min(2, depth - level)
                                let last = level + levels == depth
                                if levels == 2 {
                                    for row in 0..<rows {
                                        finish(row, step(step(walks[row], features), features), last: last)
                                        features += columns
                                    }
                                } else {
                                    for row in 0..<rows {
                                        finish(row, step(walks[row], features), last: last)
                                        features += columns
                                    }
                                }
                                level += levels
                            }
                        }
                    }
                }
            }
        }
    }

    /// A key that orders like the float: unsigned comparison of keys gives the same answer as
    /// `<` / `<=` on the values, so the walk compares integers only. -0 is taken as +0 (`<=`
    /// treats them as equal); NaN gets `missingKey`, above every number, so it fails every branch
    /// test as NaN does.
    @inline(__always)
    static func orderKey(_ value: Float) -> UInt32 {
        if value.isNaN { return missingKey }
        let bits = (value == 0 ? 0 : value).bitPattern
        return bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
    }

    /// The key of NaN (a missing feature).
    static var missingKey: UInt32 { .max }

    /// A branch as one word: the feature index, and the largest key that takes the true branch
    /// (`value < threshold` is `key <= orderKey(threshold) - 1`; every number's key is above 0).
    static func pack(feature: Int32, threshold: Float, strict: Bool) -> UInt64 {
        UInt64(UInt32(bitPattern: feature)) << 32 | UInt64(orderKey(threshold) - (strict ? 1 : 0))
    }

    /// The feature index and threshold key of a packed inner slot.
    @inline(__always)
    static func unpack(_ node: UInt64) -> (feature: Int, threshold: UInt32) {
        (Int(truncatingIfNeeded: node >> 32), UInt32(truncatingIfNeeded: node))
    }

    /// The slot a walk moves to from `slot`, computed without a branch (which way rows go is
    /// unpredictable, so a branch would be mispredicted half the time). Written as the Bool's
    /// byte, not `goingTrue ? 0 : 1`: the compiler may turn that choice into a branch.
    @inline(__always)
    static func child(of slot: Int, goingTrue: Bool) -> Int {
        slot &* 2 &+ Int(unsafeBitCast(!goingTrue, to: UInt8.self))
    }
}

/// What `PerfectForest.findLeaves` does with each leaf a row reaches.
protocol LeafSink {
    /// `row` reached padded leaf slot `slot` in `tree`; each row's trees come in order.
    func reached(row: Int, tree: Int, slot: Int)
}

/// Writes the padded leaf slots to `leaves[row * trees + tree]`.
struct LeafRecorder: LeafSink {
    let leaves: UnsafeMutableBufferPointer<Int32>
    let trees: Int

    @inline(__always)
    func reached(row: Int, tree: Int, slot: Int) { leaves[row &* trees &+ tree] = Int32(truncatingIfNeeded: slot) }
}

/// Adds the weight stored next to each leaf slot to the row's score (forests whose leaves all
/// vote once for the same target).
struct SingleVoteSum: LeafSink {
    let weight: UnsafeBufferPointer<Float>
    let scores: UnsafeMutableBufferPointer<Float>
    /// Where row 0's score is, and the distance between rows.
    let first: Int
    let stride: Int

    @inline(__always)
    func reached(row: Int, tree: Int, slot: Int) { scores[row &* stride &+ first] += weight[slot] }
}

/// Adds the `width` weights stored next to each leaf slot to the row's scores `first ..<
/// first + width` (forests whose leaves all vote for the same run of targets).
struct VoteRunSum: LeafSink {
    let weight: UnsafeBufferPointer<Float>
    let scores: UnsafeMutableBufferPointer<Float>
    let first: Int
    let stride: Int
    let width: Int

    @inline(__always)
    func reached(row: Int, tree: Int, slot: Int) {
        let out = row &* stride &+ first
        let from = slot &* width
        for k in 0..<width { scores[out &+ k] += weight[from &+ k] }
    }
}

/// The test a branch applies to a feature's `orderKey`; `tracks[slot]` tells whether a missing
/// value takes the true branch there.
protocol BranchTest {
    static func goesTrue(_ value: UInt32, _ limit: UInt32, _ slot: Int, _ tracks: UnsafeBufferPointer<Bool>) -> Bool
}

/// BRANCH_LEQ (and BRANCH_LT, whose limits are one key lower).
enum LessOrEqual: BranchTest {
    @inline(__always)
    static func goesTrue(_ value: UInt32, _ limit: UInt32, _ slot: Int, _ tracks: UnsafeBufferPointer<Bool>) -> Bool {
        value <= limit
    }
}

/// `LessOrEqual` where some nodes send missing values to the true branch.
enum LessOrEqualOrTrackedMissing: BranchTest {
    @inline(__always)
    static func goesTrue(_ value: UInt32, _ limit: UInt32, _ slot: Int, _ tracks: UnsafeBufferPointer<Bool>) -> Bool {
        value <= limit || (value == PerfectForest.missingKey && tracks[slot])
    }
}
