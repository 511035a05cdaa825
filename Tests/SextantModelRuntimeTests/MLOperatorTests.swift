import Foundation
import Testing

@testable import SextantModelRuntime

/// One tree: feature 0 compared with 1.0 (or `threshold`), true → leaf node 1, false → leaf node 2.
private func stump(_ mode: String = "BRANCH_LEQ", threshold: Float = 1, missingTracksTrue: Int64 = 0) -> [Onnx_AttributeProto] {
    [
        Attr.ints("nodes_treeids", [0, 0, 0]), Attr.ints("nodes_nodeids", [0, 1, 2]),
        Attr.ints("nodes_featureids", [0, 0, 0]), Attr.strings("nodes_modes", [mode, "LEAF", "LEAF"]),
        Attr.floats("nodes_values", [threshold, 0, 0]), Attr.ints("nodes_truenodeids", [1, 0, 0]),
        Attr.ints("nodes_falsenodeids", [2, 0, 0]), Attr.ints("nodes_missing_value_tracks_true", [missingTracksTrue, 0, 0]),
    ]
}

/// Expected values below were computed with onnxruntime 1.32.0.
@Suite("ai.onnx.ml operators")
struct MLOperatorTests {
    static let modeCases: [(String, Int64, [Float])] = [
        ("BRANCH_LEQ", 0, [10, 10, 20, 20]), ("BRANCH_LEQ", 1, [10, 10, 20, 10]),
        ("BRANCH_LT", 0, [10, 20, 20, 20]), ("BRANCH_LT", 1, [10, 20, 20, 10]),
        ("BRANCH_GTE", 0, [20, 10, 10, 20]), ("BRANCH_GTE", 1, [20, 10, 10, 10]),
        ("BRANCH_GT", 0, [20, 20, 10, 20]), ("BRANCH_GT", 1, [20, 20, 10, 10]),
        ("BRANCH_EQ", 0, [20, 10, 20, 20]), ("BRANCH_EQ", 1, [20, 10, 20, 10]),
        ("BRANCH_NEQ", 0, [10, 20, 10, 10]), ("BRANCH_NEQ", 1, [10, 20, 10, 10]),
    ]

    @Test("TreeEnsembleRegressor node modes and missing_value_tracks_true", arguments: modeCases)
    func treeModes(mode: String, missing: Int64, expected: [Float]) throws {
        let x = try Tensor(shape: [4, 1], floats: [0.5, 1.0, 1.5, .nan])
        let y = try runTensor(
            "TreeEnsembleRegressor", domain: "ai.onnx.ml", inputs: [x],
            attributes: stump(mode, missingTracksTrue: missing) + [
                Attr.int("n_targets", 1), Attr.ints("target_treeids", [0, 0]), Attr.ints("target_nodeids", [1, 2]),
                Attr.ints("target_ids", [0, 0]), Attr.floats("target_weights", [10, 20]),
            ])
        #expect(y.shape == [4, 1])
        #expect(y.floats == expected)
    }

    @Test(
        "TreeEnsembleRegressor aggregate functions with base_values",
        arguments: [
            ("SUM", [Float(15), 15, 25]), ("AVERAGE", [8, 8, 13]), ("MIN", [5, 5, 5]), ("MAX", [11, 11, 21]),
        ])
    func treeAggregates(aggregate: String, expected: [Float]) throws {
        let x = try Tensor(shape: [3, 1], floats: [0.5, 1.0, 1.5])
        let y = try runTensor(
            "TreeEnsembleRegressor", domain: "ai.onnx.ml", inputs: [x],
            attributes: [
                Attr.ints("nodes_treeids", [0, 0, 0, 1]), Attr.ints("nodes_nodeids", [0, 1, 2, 0]),
                Attr.ints("nodes_featureids", [0, 0, 0, 0]), Attr.strings("nodes_modes", ["BRANCH_LEQ", "LEAF", "LEAF", "LEAF"]),
                Attr.floats("nodes_values", [1, 0, 0, 0]), Attr.ints("nodes_truenodeids", [1, 0, 0, 0]),
                Attr.ints("nodes_falsenodeids", [2, 0, 0, 0]), Attr.int("n_targets", 1),
                Attr.string("aggregate_function", aggregate), Attr.floats("base_values", [1]),
                Attr.ints("target_treeids", [0, 0, 1]), Attr.ints("target_nodeids", [1, 2, 0]),
                Attr.ints("target_ids", [0, 0, 0]), Attr.floats("target_weights", [10, 20, 4]),
            ])
        #expect(y.floats == expected)
    }

    @Test("TreeEnsembleClassifier binary case: votes for one class give two columns")
    func treeBinary() throws {
        let x = try Tensor(shape: [2, 1], floats: [-1, 1])
        let votes = [
            Attr.ints("classlabels_int64s", [10, 20]), Attr.ints("class_treeids", [0, 0]),
            Attr.ints("class_nodeids", [1, 2]), Attr.ints("class_ids", [0, 0]),
        ]
        let positive = try runSingleNode(
            "TreeEnsembleClassifier", domain: "ai.onnx.ml", inputs: [x],
            attributes: stump(threshold: 0) + votes + [Attr.floats("class_weights", [0.8, 0.3])], outputs: 2)
        #expect(positive[0].tensor?.int64s == [20, 10])
        #expect(floatsClose(positive[1].tensor?.floats, [0.2, 0.8, 0.7, 0.3]))
        let logistic = try runSingleNode(
            "TreeEnsembleClassifier", domain: "ai.onnx.ml", inputs: [x],
            attributes: stump(threshold: 0) + votes + [Attr.floats("class_weights", [-1, 2]), Attr.string("post_transform", "LOGISTIC")], outputs: 2)
        #expect(logistic[0].tensor?.int64s == [10, 20])
        #expect(floatsClose(logistic[1].tensor?.floats, [0.7310586, 0.2689414, 0.11920297, 0.880797]))
    }

    @Test("TreeEnsembleClassifier multiclass with string labels, base_values and SOFTMAX")
    func treeMulticlass() throws {
        let x = try Tensor(shape: [2, 1], floats: [-1, 1])
        let attributes =
            stump(threshold: 0) + [
                Attr.strings("classlabels_strings", ["a", "b", "c"]), Attr.ints("class_treeids", [0, 0, 0]),
                Attr.ints("class_nodeids", [1, 1, 2]), Attr.ints("class_ids", [0, 1, 2]),
                Attr.floats("class_weights", [1, 0.5, 2]), Attr.floats("base_values", [0.1, 0.2, 0.3]),
            ]
        let plain = try runSingleNode("TreeEnsembleClassifier", domain: "ai.onnx.ml", inputs: [x], attributes: attributes, outputs: 2)
        #expect(plain[0].tensor?.strings == ["a", "c"])
        #expect(floatsClose(plain[1].tensor?.floats, [1.1, 0.7, 0.3, 0.1, 0.2, 2.3]))
        let softmax = try runSingleNode(
            "TreeEnsembleClassifier", domain: "ai.onnx.ml", inputs: [x],
            attributes: attributes + [Attr.string("post_transform", "SOFTMAX")], outputs: 2)
        #expect(floatsClose(softmax[1].tensor?.floats, [0.47177625, 0.31624106, 0.21198273, 0.08984577, 0.09929495, 0.8108593]))
    }

    @Test("tree ensembles reject bad structure and modes at load")
    func treeValidation() throws {
        let x = try Tensor(shape: [1, 1], floats: [0])
        let votes = [
            Attr.int("n_targets", 1), Attr.ints("target_treeids", [0]), Attr.ints("target_nodeids", [1]),
            Attr.ints("target_ids", [0]), Attr.floats("target_weights", [1]),
        ]
        #expect(throws: ModelRuntimeError.self) {
            _ = try runTensor("TreeEnsembleRegressor", domain: "ai.onnx.ml", inputs: [x], attributes: stump("BRANCH_SOMETIMES") + votes)
        }
        var broken = stump()
        broken[6] = Attr.ints("nodes_falsenodeids", [7, 0, 0])
        #expect(throws: ModelRuntimeError.self) {
            _ = try runTensor("TreeEnsembleRegressor", domain: "ai.onnx.ml", inputs: [x], attributes: broken + votes)
        }
        // Feature 3 does not exist in a 1-column input: a request-time error, not a crash.
        #expect(throws: ModelRuntimeError.self) {
            _ = try runTensor(
                "TreeEnsembleRegressor", domain: "ai.onnx.ml", inputs: [x],
                attributes: stump().map {
                    $0.name == "nodes_featureids" ? Attr.ints("nodes_featureids", [3, 0, 0]) : $0
                } + votes)
        }
    }

    @Test("LinearClassifier with one score per row gives two columns")
    func linearBinary() throws {
        let x = try Tensor(shape: [2, 2], floats: [1, 0, -3, 0])
        let common = [Attr.floats("coefficients", [0.1, -0.1]), Attr.floats("intercepts", [0.05]), Attr.ints("classlabels_ints", [0, 1])]
        let none = try runSingleNode("LinearClassifier", domain: "ai.onnx.ml", inputs: [x], attributes: common, outputs: 2)
        #expect(none[0].tensor?.int64s == [1, 0])
        #expect(floatsClose(none[1].tensor?.floats, [0.85, 0.15, 1.25, -0.25]))
        let logistic = try runSingleNode(
            "LinearClassifier", domain: "ai.onnx.ml", inputs: [x],
            attributes: common + [Attr.string("post_transform", "LOGISTIC")], outputs: 2)
        #expect(floatsClose(logistic[1].tensor?.floats, [0.4625702, 0.5374298, 0.5621765, 0.43782347]))
    }

    @Test("LinearRegressor with two targets and LOGISTIC")
    func linearRegressor() throws {
        let x = try Tensor(shape: [2, 2], floats: [1, 0, -3, 0])
        let y = try runTensor(
            "LinearRegressor", domain: "ai.onnx.ml", inputs: [x],
            attributes: [
                Attr.floats("coefficients", [0.1, -0.1, 1, 2]), Attr.floats("intercepts", [0.05, 0.1]),
                Attr.int("targets", 2), Attr.string("post_transform", "LOGISTIC"),
            ])
        #expect(y.shape == [2, 2])
        #expect(floatsClose(y.floats, [0.53742987, 0.7502601, 0.4378235, 0.0521535]))
    }

    @Test("Scaler, Normalizer (MAX/L1/L2), Binarizer")
    func scalers() throws {
        let x = try Tensor(shape: [2, 2], floats: [1, 3, -4, 0])
        let scaled = try runTensor("Scaler", domain: "ai.onnx.ml", inputs: [x], attributes: [Attr.floats("offset", [1, 2]), Attr.floats("scale", [2])])
        #expect(scaled.floats == [0, 2, -10, -4])
        #expect(
            try runTensor("Normalizer", domain: "ai.onnx.ml", inputs: [x], attributes: [Attr.string("norm", "MAX")]).floats
                == [1.0 / 3, 1, -4, 0].map { Float($0) })
        #expect(try runTensor("Normalizer", domain: "ai.onnx.ml", inputs: [x], attributes: [Attr.string("norm", "L1")]).floats == [0.25, 0.75, -1, 0])
        #expect(
            floatsClose(
                try runTensor("Normalizer", domain: "ai.onnx.ml", inputs: [x], attributes: [Attr.string("norm", "L2")]).floats,
                [0.31622776, 0.94868326, -1, 0]))
        let zero = try Tensor(shape: [1, 2], floats: [0, 0])
        #expect(try runTensor("Normalizer", domain: "ai.onnx.ml", inputs: [zero], attributes: [Attr.string("norm", "L2")]).floats == [0, 0])
        #expect(try runTensor("Binarizer", domain: "ai.onnx.ml", inputs: [x], attributes: [Attr.float("threshold", 1)]).floats == [0, 1, 0, 0])
    }

    @Test("Imputer for floats (NaN) and int64")
    func imputer() throws {
        let x = try Tensor(shape: [2, 2], floats: [.nan, 1, 2, .nan])
        let y = try runTensor(
            "Imputer", domain: "ai.onnx.ml", inputs: [x],
            attributes: [Attr.floats("imputed_value_floats", [7, 8]), Attr.float("replaced_value_float", .nan)])
        #expect(y.floats == [7, 1, 2, 8])
        let ints = try Tensor(shape: [3], int64s: [-1, 5, -1])
        let z = try runTensor(
            "Imputer", domain: "ai.onnx.ml", inputs: [ints],
            attributes: [Attr.ints("imputed_value_int64s", [0]), Attr.int("replaced_value_int64", -1)])
        #expect(z.int64s == [0, 5, 0])
    }

    @Test("OneHotEncoder with strings, and zeros = 0 rejecting unknown categories")
    func oneHot() throws {
        let x = try Tensor(shape: [3], strings: ["b", "z", "a"])
        let y = try runTensor("OneHotEncoder", domain: "ai.onnx.ml", inputs: [x], attributes: [Attr.strings("cats_strings", ["a", "b"])])
        #expect(y.shape == [3, 2] && y.floats == [0, 1, 0, 0, 1, 0])
        #expect(throws: ModelRuntimeError.self) {
            _ = try runTensor(
                "OneHotEncoder", domain: "ai.onnx.ml", inputs: [x],
                attributes: [Attr.strings("cats_strings", ["a", "b"]), Attr.int("zeros", 0)])
        }
    }

    @Test("LabelEncoder maps strings to int64 and back with defaults")
    func labelEncoder() throws {
        let x = try Tensor(shape: [3], strings: ["cat", "dog", "eel"])
        let y = try runTensor(
            "LabelEncoder", domain: "ai.onnx.ml", opset: 2, inputs: [x],
            attributes: [
                Attr.strings("keys_strings", ["cat", "dog"]), Attr.ints("values_int64s", [1, 2]), Attr.int("default_int64", 0),
            ])
        #expect(y.int64s == [1, 2, 0])
        let ids = try Tensor(shape: [2], int64s: [2, 9])
        let z = try runTensor(
            "LabelEncoder", domain: "ai.onnx.ml", opset: 2, inputs: [ids],
            attributes: [
                Attr.ints("keys_int64s", [1, 2]), Attr.strings("values_strings", ["cat", "dog"]),
            ])
        #expect(z.strings == ["dog", "_Unused"])
    }

    @Test("ArrayFeatureExtractor selects columns; 1-D input gives [1, k]")
    func arrayFeatureExtractor() throws {
        let x = try Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        let y = try runTensor("ArrayFeatureExtractor", domain: "ai.onnx.ml", inputs: [x], constants: [try Tensor(shape: [2], int64s: [2, 0])])
        #expect(y.shape == [2, 2] && y.floats == [3, 1, 6, 4])
        let classes = try Tensor(shape: [3], int32s: [7, 8, 9])
        let z = try runTensor("ArrayFeatureExtractor", domain: "ai.onnx.ml", inputs: [classes], constants: [try Tensor(shape: [2, 1], int64s: [2, 1])])
        #expect(z.shape == [1, 2] && z.int32s == [9, 8])
        #expect(throws: ModelRuntimeError.self) {
            _ = try runTensor("ArrayFeatureExtractor", domain: "ai.onnx.ml", inputs: [x], constants: [try Tensor(shape: [1], int64s: [3])])
        }
    }

    @Test("ZipMap builds one map per row")
    func zipMap() throws {
        let x = try Tensor(shape: [2, 2], floats: [0.25, 0.75, 1, 0])
        let values = try runSingleNode("ZipMap", domain: "ai.onnx.ml", inputs: [x], attributes: [Attr.ints("classlabels_int64s", [3, 5])])
        let maps = try #require(values.first?.mapSequence)
        #expect(maps.count == 2)
        #expect(maps.map(at: 0) == ["3": 0.25, "5": 0.75])
        #expect(maps.map(at: 1) == ["3": 1, "5": 0])
    }

    @Test("FeatureVectorizer concatenates, truncates and pads")
    func featureVectorizer() throws {
        var builder = GraphBuilder()
        builder.input("a", .float, [-1, 2])
        builder.input("b", .int64, [-1, 1])
        builder.node("FeatureVectorizer", domain: "ai.onnx.ml", inputs: ["a", "b"], outputs: ["y"], attributes: [Attr.ints("inputdimensions", [1, 2])])
        builder.output("y")
        let y = try builder.build().run(inputs: [
            "a": try Tensor(shape: [2, 2], floats: [1, 2, 3, 4]), "b": try Tensor(shape: [2, 1], int64s: [5, 6]),
        ])
        #expect(y["y"]?.tensor?.shape == [2, 3])
        #expect(y["y"]?.tensor?.floats == [1, 5, 0, 3, 6, 0])
    }
}
