/// `ai.onnx.ml.ZipMap`: scores float [N, C] → a sequence of N maps from the C class labels to scores.
struct ZipMapKernel: Kernel {
    let keys: MapKeys

    init(_ context: KernelBuildContext) throws {
        try context.expectInputs(1...1)
        switch try ClassLabels(context.attributes, ints: "classlabels_int64s", strings: "classlabels_strings") {
        case .int64(let labels): keys = .int64(labels)
        case .string(let labels): keys = .string(labels)
        }
    }

    func run(_ inputs: KernelInputs) throws -> [Value] {
        let tensor = try inputs.tensor(0)
        guard case .float(let values) = tensor.storage else {
            throw inputs.fail("input must be float, got \(tensor.elementType)")
        }
        guard tensor.rank <= 2, tensor.rowsAndColumns.columns == keys.count else {
            throw inputs.fail("input shape \(tensor.shape) does not have \(keys.count) columns (one per class label)")
        }
        return [.mapSequence(MapSequence(keys: keys, values: values))]
    }
}
