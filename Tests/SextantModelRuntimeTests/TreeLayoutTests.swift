import Foundation
import Testing

@testable import SextantModelRuntime

/// The two tree layouts (`PerfectForest` for forests whose branches share BRANCH_LEQ or
/// BRANCH_LT, `FlatForest` otherwise) and the two walks of the perfect one (row by row for small
/// batches, tree by tree for `PerfectForest.blockRows` rows or more) must agree with each other
/// and with onnxruntime's semantics.
@Suite("Tree ensemble layouts")
struct TreeLayoutTests {
    /// A regressor with one tree: `feature 0 <mode> threshold` → 10, else 20.
    private func stumpRegressor(
        _ mode: String, threshold: Float, missingTracksTrue: Int64 = 0, rows x: [Float]
    ) throws -> [Float] {
        let input = try Tensor(shape: [x.count, 1], floats: x)
        let y = try runTensor(
            "TreeEnsembleRegressor", domain: "ai.onnx.ml", inputs: [input],
            attributes: [
                Attr.ints("nodes_treeids", [0, 0, 0]), Attr.ints("nodes_nodeids", [0, 1, 2]),
                Attr.ints("nodes_featureids", [0, 0, 0]), Attr.strings("nodes_modes", [mode, "LEAF", "LEAF"]),
                Attr.floats("nodes_values", [threshold, 0, 0]), Attr.ints("nodes_truenodeids", [1, 0, 0]),
                Attr.ints("nodes_falsenodeids", [2, 0, 0]),
                Attr.ints("nodes_missing_value_tracks_true", [missingTracksTrue, 0, 0]),
                Attr.int("n_targets", 1), Attr.ints("target_treeids", [0, 0]), Attr.ints("target_nodeids", [1, 2]),
                Attr.ints("target_ids", [0, 0]), Attr.floats("target_weights", [10, 20]),
            ])
        return try #require(y.floats)
    }

    /// Inputs at and around the threshold 1, both zeros, both infinities and NaN, with the
    /// outputs IEEE comparisons give (NaN fails every test unless its node tracks missing values).
    static let edgeCases: [(mode: String, threshold: Float, tracks: Int64, x: [Float], expected: [Float])] = [
        ("BRANCH_LEQ", 1, 0, [0.5, 1, 1.5, .infinity, -.infinity, .nan], [10, 10, 20, 20, 10, 20]),
        ("BRANCH_LEQ", 1, 1, [0.5, 1, 1.5, .infinity, -.infinity, .nan], [10, 10, 20, 20, 10, 10]),
        ("BRANCH_LT", 1, 0, [0.5, 1, 1.5, .infinity, -.infinity, .nan], [10, 20, 20, 20, 10, 20]),
        ("BRANCH_LT", 1, 1, [0.5, 1, 1.5, .infinity, -.infinity, .nan], [10, 20, 20, 20, 10, 10]),
        ("BRANCH_LEQ", 0, 0, [-0.0, 0, -.leastNonzeroMagnitude, .leastNonzeroMagnitude], [10, 10, 10, 20]),
        ("BRANCH_LEQ", -0.0, 0, [-0.0, 0, -.leastNonzeroMagnitude, .leastNonzeroMagnitude], [10, 10, 10, 20]),
        ("BRANCH_LT", 0, 0, [-0.0, 0, -.leastNonzeroMagnitude, .leastNonzeroMagnitude], [20, 20, 10, 20]),
        ("BRANCH_LT", -0.0, 0, [-0.0, 0, -.leastNonzeroMagnitude, .leastNonzeroMagnitude], [20, 20, 10, 20]),
        ("BRANCH_LEQ", -2.5, 0, [-3, -2.5, -2, 0, 3], [10, 10, 20, 20, 20]),
        ("BRANCH_GTE", 1, 1, [0.5, 1, 1.5, .nan], [20, 10, 10, 10]),
    ]

    @Test("branch tests agree with IEEE comparisons at edges, alone and in a batch", arguments: edgeCases)
    func edges(mode: String, threshold: Float, tracks: Int64, x: [Float], expected: [Float]) throws {
        let alone = try stumpRegressor(mode, threshold: threshold, missingTracksTrue: tracks, rows: x)
        #expect(alone == expected)
        // Repeated past `blockRows`, the batch takes the tree-by-tree walk.
        let copies = PerfectForest.blockRows / x.count + 2
        let batch = try stumpRegressor(
            mode, threshold: threshold, missingTracksTrue: tracks, rows: Array([[Float]](repeating: x, count: copies).joined()))
        #expect(batch == Array([[Float]](repeating: expected, count: copies).joined()))
    }

    @Test("keys order like the floats they stand for")
    func orderKeys() {
        var values: [Float] = [
            0, -0.0, 1, -1, .infinity, -.infinity, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
            .leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 0.1, -0.1, 3.5e10, -3.5e-10,
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 { values.append(Float(bitPattern: UInt32.random(in: 0..<0x7F80_0000, using: &generator) | (Bool.random() ? 0x8000_0000 : 0))) }
        for a in values {
            for b in values.prefix(64) {
                let (ka, kb) = (PerfectForest.orderKey(a), PerfectForest.orderKey(b))
                #expect((ka <= kb) == (a <= b), "\(a) <= \(b)")
                #expect((ka < kb) == (a < b), "\(a) < \(b)")
            }
        }
        #expect(PerfectForest.orderKey(.nan) == PerfectForest.missingKey)
        #expect(PerfectForest.orderKey(-Float.nan) == PerfectForest.missingKey)
        #expect(PerfectForest.orderKey(.infinity) < PerfectForest.missingKey)
    }

    /// A chain: node k tests feature 0 `<= k`; true → leaf worth k, false → node k+1; the last
    /// node's false branch is a leaf worth `depth`. A row x ends at the first k >= x.
    private func chainAttributes(depth: Int, mode: String = "BRANCH_LEQ") -> [Onnx_AttributeProto] {
        var ids: [Int64] = [], modes: [String] = [], values: [Float] = [], trueIds: [Int64] = [], falseIds: [Int64] = []
        var leafIds: [Int64] = [], weights: [Float] = []
        for k in 0..<depth {
            ids.append(Int64(2 * k))
            modes.append(mode)
            values.append(Float(k))
            trueIds.append(Int64(2 * k + 1))
            falseIds.append(Int64(2 * k + 2))
            ids.append(Int64(2 * k + 1))
            modes.append("LEAF")
            values.append(0)
            trueIds.append(0)
            falseIds.append(0)
            leafIds.append(Int64(2 * k + 1))
            weights.append(Float(k))
        }
        ids.append(Int64(2 * depth))
        modes.append("LEAF")
        values.append(0)
        trueIds.append(0)
        falseIds.append(0)
        leafIds.append(Int64(2 * depth))
        weights.append(Float(depth))
        return [
            Attr.ints("nodes_treeids", Array(repeating: 0, count: ids.count)), Attr.ints("nodes_nodeids", ids),
            Attr.ints("nodes_featureids", Array(repeating: 0, count: ids.count)), Attr.strings("nodes_modes", modes),
            Attr.floats("nodes_values", values), Attr.ints("nodes_truenodeids", trueIds),
            Attr.ints("nodes_falsenodeids", falseIds), Attr.int("n_targets", 1),
            Attr.ints("target_treeids", Array(repeating: 0, count: leafIds.count)), Attr.ints("target_nodeids", leafIds),
            Attr.ints("target_ids", Array(repeating: 0, count: leafIds.count)), Attr.floats("target_weights", weights),
        ]
    }

    @Test(
        "shallow chains are padded, deep ones keep the flat layout; both walk to the right leaf",
        arguments: [(6, true), (PerfectForest.maximumDepth + 4, false)])
    func chains(depth: Int, padded: Bool) throws {
        let attributes = chainAttributes(depth: depth)
        var node = Onnx_NodeProto()
        node.attribute = attributes
        let flat = try FlatForestBuilder.build(
            try NodeAttributes(node: node, op: "TreeEnsembleRegressor"), votePrefix: "target", targetCount: 1)
        #expect((PerfectForest(flat.converted(to: Float.self)) != nil) == padded)

        let x: [Float] = (0..<40).map { Float($0 % (depth + 3)) - 1.5 }
        let expected = x.map { value in Float((0..<depth).first { Float($0) >= value } ?? depth) }
        for rows in [x.count, 3] {
            let input = try Tensor(shape: [rows, 1], floats: Array(x.prefix(rows)))
            let y = try runTensor("TreeEnsembleRegressor", domain: "ai.onnx.ml", inputs: [input], attributes: attributes)
            #expect(y.floats == Array(expected.prefix(rows)))
        }
    }

    @Test("leaves that vote differently sum through the flat votes; dense ones through the padded weights")
    func voteLayouts() throws {
        // Two trees over two targets: tree 0's leaves vote target 0 (one) or both targets (other).
        let attributes: [Onnx_AttributeProto] = [
            Attr.ints("nodes_treeids", [0, 0, 0, 1, 1, 1]), Attr.ints("nodes_nodeids", [0, 1, 2, 0, 1, 2]),
            Attr.ints("nodes_featureids", [0, 0, 0, 1, 0, 0]),
            Attr.strings("nodes_modes", ["BRANCH_LEQ", "LEAF", "LEAF", "BRANCH_LEQ", "LEAF", "LEAF"]),
            Attr.floats("nodes_values", [0, 0, 0, 5, 0, 0]), Attr.ints("nodes_truenodeids", [1, 0, 0, 1, 0, 0]),
            Attr.ints("nodes_falsenodeids", [2, 0, 0, 2, 0, 0]), Attr.int("n_targets", 2),
            Attr.ints("target_treeids", [0, 0, 0, 1, 1, 1, 1]), Attr.ints("target_nodeids", [1, 2, 2, 1, 1, 2, 2]),
            Attr.ints("target_ids", [0, 0, 1, 0, 1, 0, 1]), Attr.floats("target_weights", [1, 2, 3, 10, 20, 30, 40]),
        ]
        let rows: [[Float]] = [[-1, 0], [1, 0], [-1, 9], [1, 9]]
        let expected: [[Float]] = [[11, 20], [12, 23], [31, 40], [32, 43]]
        for copies in [1, PerfectForest.blockRows] {
            let x = Array([[Float]](repeating: Array(rows.joined()), count: copies).joined())
            let y = try runTensor(
                "TreeEnsembleRegressor", domain: "ai.onnx.ml", inputs: [try Tensor(shape: [rows.count * copies, 2], floats: x)],
                attributes: attributes)
            #expect(y.floats == Array([[Float]](repeating: Array(expected.joined()), count: copies).joined()))
        }
    }

    @Test("every fixture model gives the same outputs for its rows tiled past the block size and alone", arguments: Fixtures.zoo.names)
    func tiledFixtures(name: String) throws {
        let model = try Fixtures.zoo.model(name)
        guard let (inputName, batch, values) = try Fixtures.zoo.floatBatch(name) else { return }
        let (rows, width) = (batch.shape[0], batch.shape[1])
        let copies = 3
        let tiled = try Tensor(shape: [rows * copies, width], floats: Array([[Float]](repeating: values, count: copies).joined()))
        let whole = try model.run(inputs: [inputName: tiled])
        let single = try model.run(inputs: [inputName: try Tensor(shape: [1, width], floats: Array(values.prefix(width)))])
        let original = try model.run(inputs: [inputName: batch])
        for (output, value) in original {
            guard case .tensor(let part) = value, part.rank >= 1, part.shape[0] == rows,
                case .tensor(let full)? = whole[output], case .tensor(let one)? = single[output]
            else { continue }
            let perRow = part.count / rows
            switch (part.storage, full.storage, one.storage) {
            case (.float(let a), .float(let b), .float(let c)):
                #expect(Array([[Float]](repeating: a, count: copies).joined()) == b, "\(name).\(output)")
                #expect(Array(a.prefix(perRow)) == c, "\(name).\(output) row 0 alone")
            case (.int64(let a), .int64(let b), .int64(let c)):
                #expect(Array([[Int64]](repeating: a, count: copies).joined()) == b, "\(name).\(output)")
                #expect(Array(a.prefix(perRow)) == c, "\(name).\(output) row 0 alone")
            default: break
            }
        }
    }
}
