/// Node mode codes of a `FlatForest`; `missingTracksTrue` is or-ed in when a NaN feature
/// takes the true branch.
enum TreeNodeMode {
    static let leaf: UInt8 = 0
    static let leq: UInt8 = 1
    static let lt: UInt8 = 2
    static let gte: UInt8 = 3
    static let gt: UInt8 = 4
    static let eq: UInt8 = 5
    static let neq: UInt8 = 6
    static let missingTracksTrue: UInt8 = 0x10
}

/// A tree ensemble laid out flat for cache-friendly batched traversal.
///
/// Nodes of all trees live in parallel arrays, each tree in depth-first pre-order so that a
/// node's true child usually follows it. `trueChild`/`falseChild` are absolute node indices; a
/// leaf points to itself on both sides (feature 0, threshold 0), so a traversal may run a fixed
/// number of steps (the tree's depth) without testing for leaves. A leaf's votes are
/// `voteTarget`/`voteWeight[voteStart[leaf] ..< voteStart[leaf] + voteCount[leaf]]`.
struct FlatForest<T: BinaryFloatingPoint & Sendable>: Sendable {
    var feature: [Int32] = []
    var threshold: [T] = []
    var mode: [UInt8] = []
    var trueChild: [Int32] = []
    var falseChild: [Int32] = []
    var voteStart: [Int32] = []
    var voteCount: [Int32] = []
    var voteTarget: [Int32] = []
    var voteWeight: [T] = []
    var roots: [Int32] = []
    /// Edges on the longest root-to-leaf path of each tree.
    var depths: [Int32] = []
    /// The largest feature index any branch reads; inputs need more columns than this.
    var maxFeature: Int = -1
    /// True when every branch is BRANCH_LEQ without missing-value tracking (the common case).
    var allPlainLEQ = true
    /// The mode every branch shares when it is BRANCH_LEQ or BRANCH_LT (missing-value tracking
    /// may vary per node: XGBoost, LightGBM); `nil` for mixed or other modes.
    var uniformMode: UInt8?

    var treeCount: Int { roots.count }

    /// Converts the thresholds and weights to another precision (same structure).
    func converted<U: BinaryFloatingPoint & Sendable>(to: U.Type) -> FlatForest<U> {
        var other = FlatForest<U>()
        other.feature = feature
        other.threshold = threshold.map { U($0) }
        other.mode = mode
        other.trueChild = trueChild
        other.falseChild = falseChild
        other.voteStart = voteStart
        other.voteCount = voteCount
        other.depths = depths
        other.voteTarget = voteTarget
        other.voteWeight = voteWeight.map { U($0) }
        other.roots = roots
        other.maxFeature = maxFeature
        other.allPlainLEQ = allPlainLEQ
        other.uniformMode = uniformMode
        return other
    }

    /// Visits the leaf each row reaches in each tree, tree-major (one tree over the whole batch,
    /// then the next) so the tree stays in cache. `visit(row, leaf)`.
    ///
    /// In the common all-BRANCH_LEQ case, rows go through a tree four at a time for a fixed
    /// number of steps (the tree's depth; leaves loop onto themselves), so the four dependent
    /// load chains overlap instead of waiting on each other; with fewer than four rows, eight
    /// trees go at a time for each row instead.
    ///
    /// `x` holds `rows * columns` features; the caller has checked `columns > maxFeature`.
    @inline(__always)
    func forEachLeaf(
        x: UnsafeBufferPointer<T>, rows: Int, columns: Int, _ visit: (_ row: Int, _ leaf: Int) -> Void
    ) {
        feature.withUnsafeBufferPointer { feature in
            threshold.withUnsafeBufferPointer { threshold in
                mode.withUnsafeBufferPointer { mode in
                    trueChild.withUnsafeBufferPointer { trueChild in
                        falseChild.withUnsafeBufferPointer { falseChild in
                            guard let base = x.baseAddress else { return }
                            @inline(__always)
                            func plainStep(_ node: Int, _ features: UnsafePointer<T>) -> Int {
                                Int(features[Int(feature[node])] <= threshold[node] ? trueChild[node] : falseChild[node])
                            }
                            @inline(__always)
                            func trackingStep(_ node: Int, _ features: UnsafePointer<T>) -> Int {
                                let value = features[Int(feature[node])]
                                let limit = threshold[node]
                                let passes = uniformMode == TreeNodeMode.lt ? value < limit : value <= limit
                                let goesTrue = passes || (mode[node] & TreeNodeMode.missingTracksTrue != 0 && value.isNaN)
                                return Int(goesTrue ? trueChild[node] : falseChild[node])
                            }
                            // Four rows at a time for exactly `depth` steps (leaves loop onto themselves).
                            @inline(__always)
                            func fixedDepth(_ start: Int, _ depth: Int, _ step: (Int, UnsafePointer<T>) -> Int) {
                                var row = 0
                                while row + 4 <= rows {
                                    let x0 = base + row * columns, x1 = x0 + columns
                                    let x2 = x1 + columns, x3 = x2 + columns
                                    var n0 = start, n1 = start, n2 = start, n3 = start
                                    for _ in 0..<depth {
                                        n0 = step(n0, x0)
                                        n1 = step(n1, x1)
                                        n2 = step(n2, x2)
                                        n3 = step(n3, x3)
                                    }
                                    visit(row, n0)
                                    visit(row + 1, n1)
                                    visit(row + 2, n2)
                                    visit(row + 3, n3)
                                    row += 4
                                }
                                while row < rows {
                                    let features = base + row * columns
                                    var node = start
                                    for _ in 0..<depth { node = step(node, features) }
                                    visit(row, node)
                                    row += 1
                                }
                            }
                            // Fewer than four rows (a single-row request): eight trees at a time
                            // for each row instead, so the load chains still overlap. Each row
                            // still sees the trees in order, so sums come out the same.
                            @inline(__always)
                            func eightTreesAtATime(_ step: (Int, UnsafePointer<T>) -> Int) -> Int {
                                var tree = 0
                                while tree + 8 <= roots.count {
                                    var depth = 0
                                    for t in tree..<(tree + 8) { depth = max(depth, Int(depths[t])) }
                                    for row in 0..<rows {
                                        let features = base + row * columns
                                        var n0 = Int(roots[tree]), n1 = Int(roots[tree + 1])
                                        var n2 = Int(roots[tree + 2]), n3 = Int(roots[tree + 3])
                                        var n4 = Int(roots[tree + 4]), n5 = Int(roots[tree + 5])
                                        var n6 = Int(roots[tree + 6]), n7 = Int(roots[tree + 7])
                                        for _ in 0..<depth {
                                            n0 = step(n0, features)
                                            n1 = step(n1, features)
                                            n2 = step(n2, features)
                                            n3 = step(n3, features)
                                            n4 = step(n4, features)
                                            n5 = step(n5, features)
                                            n6 = step(n6, features)
                                            n7 = step(n7, features)
                                        }
                                        visit(row, n0)
                                        visit(row, n1)
                                        visit(row, n2)
                                        visit(row, n3)
                                        visit(row, n4)
                                        visit(row, n5)
                                        visit(row, n6)
                                        visit(row, n7)
                                    }
                                    tree += 8
                                }
                                return tree
                            }
                            var firstTree = 0
                            if rows < 4, allPlainLEQ {
                                firstTree = eightTreesAtATime(plainStep)
                            } else if rows < 4, uniformMode != nil {
                                firstTree = eightTreesAtATime(trackingStep)
                            }
                            for (tree, root) in roots.enumerated().dropFirst(firstTree) {
                                let start = Int(root)
                                if allPlainLEQ {
                                    fixedDepth(start, Int(depths[tree]), plainStep)
                                    continue
                                }
                                if uniformMode != nil {
                                    fixedDepth(start, Int(depths[tree]), trackingStep)
                                    continue
                                }
                                var row = 0
                                while row < rows {
                                    let features = base + row * columns
                                    var node = start
                                    while mode[node] != TreeNodeMode.leaf {
                                        let value = features[Int(feature[node])]
                                        let limit = threshold[node]
                                        let flags = mode[node]
                                        let goesTrue: Bool
                                        switch flags & 0x0F {
                                        case TreeNodeMode.leq: goesTrue = value <= limit
                                        case TreeNodeMode.lt: goesTrue = value < limit
                                        case TreeNodeMode.gte: goesTrue = value >= limit
                                        case TreeNodeMode.gt: goesTrue = value > limit
                                        case TreeNodeMode.eq: goesTrue = value == limit
                                        default: goesTrue = value != limit
                                        }
                                        let tracksMissing = flags & TreeNodeMode.missingTracksTrue != 0
                                        node = Int(goesTrue || (tracksMissing && value.isNaN) ? trueChild[node] : falseChild[node])
                                    }
                                    visit(row, node)
                                    row += 1
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Reads the `nodes_*` and vote (`target_*` / `class_*`) attributes of a tree ensemble operator
/// and lays them out as a `FlatForest<Double>`, validating every id.
enum FlatForestBuilder {
    static func build(
        _ attributes: NodeAttributes, votePrefix: String, targetCount: Int
    ) throws -> FlatForest<Double> {
        let a = attributes
        let treeIds = try a.required("nodes_treeids", a.ints)
        let nodeIds = try a.required("nodes_nodeids", a.ints)
        let featureIds = try a.required("nodes_featureids", a.ints)
        let modes = try a.required("nodes_modes", a.strings)
        let trueIds = try a.required("nodes_truenodeids", a.ints)
        let falseIds = try a.required("nodes_falsenodeids", a.ints)
        let values = try a.doublesOrTensor("nodes_values") ?? []
        let missingTracks = try a.ints("nodes_missing_value_tracks_true") ?? []
        _ = try a.floats("nodes_hitrates")
        _ = try a.tensor("nodes_hitrates_as_tensor")

        let n = treeIds.count
        for (name, count) in [
            ("nodes_nodeids", nodeIds.count), ("nodes_featureids", featureIds.count),
            ("nodes_modes", modes.count), ("nodes_truenodeids", trueIds.count),
            ("nodes_falsenodeids", falseIds.count), ("nodes_values", values.count),
        ]
        where count != n {
            throw a.invalid(name, "has \(count) entries, nodes_treeids has \(n)")
        }
        guard missingTracks.isEmpty || missingTracks.count == n else {
            throw a.invalid("nodes_missing_value_tracks_true", "has \(missingTracks.count) entries, nodes_treeids has \(n)")
        }

        let voteTrees = try a.required(votePrefix + "_treeids", a.ints)
        let voteNodes = try a.required(votePrefix + "_nodeids", a.ints)
        let voteIds = try a.required(votePrefix + "_ids", a.ints)
        guard let voteWeights = try a.doublesOrTensor(votePrefix + "_weights") else {
            throw a.invalid(votePrefix + "_weights", "required but missing")
        }
        for (name, count) in [
            (votePrefix + "_nodeids", voteNodes.count), (votePrefix + "_ids", voteIds.count),
            (votePrefix + "_weights", voteWeights.count),
        ]
        where count != voteTrees.count {
            throw a.invalid(name, "has \(count) entries, \(votePrefix)_treeids has \(voteTrees.count)")
        }

        struct Key: Hashable { let tree: Int64; let node: Int64 }
        var indexOf: [Key: Int] = [:]
        indexOf.reserveCapacity(n)
        var treeOrder: [Int64] = []
        var seenTrees: Set<Int64> = []
        for i in 0..<n {
            let key = Key(tree: treeIds[i], node: nodeIds[i])
            guard indexOf[key] == nil else {
                throw a.invalid("nodes_nodeids", "tree \(treeIds[i]) lists node \(nodeIds[i]) twice")
            }
            indexOf[key] = i
            if seenTrees.insert(treeIds[i]).inserted { treeOrder.append(treeIds[i]) }
        }

        var modeCodes = [UInt8](repeating: 0, count: n)
        for i in 0..<n {
            let code: UInt8
            switch modes[i] {
            case "LEAF": code = TreeNodeMode.leaf
            case "BRANCH_LEQ": code = TreeNodeMode.leq
            case "BRANCH_LT": code = TreeNodeMode.lt
            case "BRANCH_GTE": code = TreeNodeMode.gte
            case "BRANCH_GT": code = TreeNodeMode.gt
            case "BRANCH_EQ": code = TreeNodeMode.eq
            case "BRANCH_NEQ": code = TreeNodeMode.neq
            default: throw a.unsupported("nodes_modes", "unknown node mode '\(modes[i])'")
            }
            modeCodes[i] = code
        }

        // Votes grouped by node.
        var votesOf: [Int: [(target: Int32, weight: Double)]] = [:]
        for v in 0..<voteTrees.count {
            guard let node = indexOf[Key(tree: voteTrees[v], node: voteNodes[v])] else {
                throw a.invalid(votePrefix + "_nodeids", "vote \(v) names node \(voteNodes[v]) of tree \(voteTrees[v]), which does not exist")
            }
            guard modeCodes[node] == TreeNodeMode.leaf else {
                throw a.invalid(votePrefix + "_nodeids", "vote \(v) is on node \(voteNodes[v]) of tree \(voteTrees[v]), which is not a leaf")
            }
            guard voteIds[v] >= 0, voteIds[v] < Int64(targetCount) else {
                throw a.invalid(votePrefix + "_ids", "vote \(v) is for \(voteIds[v]), outside 0..<\(targetCount)")
            }
            votesOf[node, default: []].append((Int32(voteIds[v]), voteWeights[v]))
        }

        var forest = FlatForest<Double>()
        var firstBranchMode: UInt8?
        var modesMixed = false
        forest.feature.reserveCapacity(n)
        for tree in treeOrder {
            guard let rootIndex = indexOf[Key(tree: tree, node: 0)] ?? treeRoot(tree, treeIds, nodeIds, trueIds, falseIds, modeCodes) else {
                throw a.invalid("nodes_nodeids", "tree \(tree) has no root")
            }
            forest.roots.append(Int32(forest.mode.count))
            var treeDepth = 0
            // Iterative pre-order layout: place a node, then its true subtree, then its false one.
            var placedAt: [Int: Int] = [:]
            var stack: [(source: Int, parent: Int, isTrue: Bool, depth: Int)] = [(rootIndex, -1, true, 0)]
            while let (source, parent, isTrue, depth) = stack.popLast() {
                treeDepth = max(treeDepth, depth)
                guard placedAt[source] == nil else {
                    throw a.invalid("nodes_truenodeids", "tree \(tree) reaches node \(nodeIds[source]) twice (not a tree)")
                }
                let position = forest.mode.count
                placedAt[source] = position
                if parent >= 0 {
                    if isTrue { forest.trueChild[parent] = Int32(position) } else { forest.falseChild[parent] = Int32(position) }
                }
                var code = modeCodes[source]
                if code == TreeNodeMode.leaf {
                    let votes = votesOf[source] ?? []
                    forest.feature.append(0)
                    forest.threshold.append(0)
                    forest.mode.append(code)
                    forest.trueChild.append(Int32(position))
                    forest.falseChild.append(Int32(position))
                    forest.voteStart.append(Int32(forest.voteTarget.count))
                    forest.voteCount.append(Int32(votes.count))
                    for vote in votes {
                        forest.voteTarget.append(vote.target)
                        forest.voteWeight.append(vote.weight)
                    }
                    continue
                }
                guard featureIds[source] >= 0, featureIds[source] < Int64(Int32.max) else {
                    throw a.invalid("nodes_featureids", "node \(nodeIds[source]) of tree \(tree) reads feature \(featureIds[source])")
                }
                let tracksMissing = !missingTracks.isEmpty && missingTracks[source] != 0
                if tracksMissing { code |= TreeNodeMode.missingTracksTrue }
                if code != TreeNodeMode.leq { forest.allPlainLEQ = false }
                let baseMode = code & 0x0F
                if firstBranchMode == nil { firstBranchMode = baseMode }
                if firstBranchMode != baseMode { modesMixed = true }
                forest.feature.append(Int32(featureIds[source]))
                forest.threshold.append(values[source])
                forest.mode.append(code)
                forest.trueChild.append(-1)
                forest.falseChild.append(-1)
                forest.voteStart.append(0)
                forest.voteCount.append(0)
                forest.maxFeature = max(forest.maxFeature, Int(featureIds[source]))
                guard let trueSource = indexOf[Key(tree: tree, node: trueIds[source])],
                    let falseSource = indexOf[Key(tree: tree, node: falseIds[source])]
                else {
                    throw a.invalid("nodes_truenodeids", "node \(nodeIds[source]) of tree \(tree) has a child that does not exist")
                }
                stack.append((falseSource, position, false, depth + 1))
                stack.append((trueSource, position, true, depth + 1))
            }
            forest.depths.append(Int32(treeDepth))
        }
        if !modesMixed, let mode = firstBranchMode, mode == TreeNodeMode.leq || mode == TreeNodeMode.lt {
            forest.uniformMode = mode
        }
        return forest
    }

    /// The root of a tree whose node ids do not start at 0: the node no other node points to.
    private static func treeRoot(
        _ tree: Int64, _ treeIds: [Int64], _ nodeIds: [Int64], _ trueIds: [Int64], _ falseIds: [Int64], _ modes: [UInt8]
    ) -> Int? {
        var children: Set<Int64> = []
        for i in treeIds.indices where treeIds[i] == tree && modes[i] != TreeNodeMode.leaf {
            children.insert(trueIds[i])
            children.insert(falseIds[i])
        }
        return treeIds.indices.first { treeIds[$0] == tree && !children.contains(nodeIds[$0]) }
    }
}
