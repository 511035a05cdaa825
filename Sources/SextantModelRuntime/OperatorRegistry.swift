/// The operators and opsets the runtime implements, and the factory that builds their kernels.
enum OperatorRegistry {
    /// The default (ai.onnx) domain as written in models: "" or "ai.onnx".
    static func isDefaultDomain(_ domain: String) -> Bool { domain.isEmpty || domain == "ai.onnx" }

    static let mlDomain = "ai.onnx.ml"

    /// Opset versions whose semantics the kernels implement, per domain.
    static let supportedOpsets: [String: ClosedRange<Int64>] = ["": 1...21, mlDomain: 1...4]

    /// Every supported operator, `ai.onnx` first, for documentation and error messages.
    static let supportedOperators: [String] = defaultOperators.sorted() + mlOperators.sorted().map { "\(mlDomain).\($0)" }

    static let defaultOperators: Set<String> = [
        "Add", "Sub", "Mul", "Div", "Relu", "Sigmoid", "Tanh", "Gemm", "MatMul", "Softmax", "LogSoftmax",
        "ArgMax", "Reshape", "Flatten", "Concat", "Identity", "Cast", "Squeeze", "Unsqueeze", "Gather",
    ]

    static let mlOperators: Set<String> = [
        "LinearClassifier", "LinearRegressor", "TreeEnsembleClassifier", "TreeEnsembleRegressor", "Scaler",
        "Normalizer", "Imputer", "OneHotEncoder", "LabelEncoder", "ArrayFeatureExtractor", "Binarizer", "ZipMap",
        "FeatureVectorizer",
    ]

    /// Builds the kernel for a node; throws `unsupportedOperator` for anything not listed above.
    static func makeKernel(domain: String, opType: String, context: KernelBuildContext) throws -> any Kernel {
        if isDefaultDomain(domain) {
            switch opType {
            case "Add": return try BinaryArithmeticKernel(.add, context)
            case "Sub": return try BinaryArithmeticKernel(.sub, context)
            case "Mul": return try BinaryArithmeticKernel(.mul, context)
            case "Div": return try BinaryArithmeticKernel(.div, context)
            case "Relu": return try UnaryKernel(.relu, context)
            case "Sigmoid": return try UnaryKernel(.sigmoid, context)
            case "Tanh": return try UnaryKernel(.tanh, context)
            case "Gemm": return try GemmKernel(context)
            case "MatMul": return try MatMulKernel(context)
            case "Softmax": return try SoftmaxKernel(context, log: false)
            case "LogSoftmax": return try SoftmaxKernel(context, log: true)
            case "ArgMax": return try ArgMaxKernel(context)
            case "Reshape": return try ReshapeKernel(context)
            case "Flatten": return try FlattenKernel(context)
            case "Concat": return try ConcatKernel(context)
            case "Identity": return try IdentityKernel(context)
            case "Cast": return try CastKernel(context)
            case "Squeeze": return try SqueezeKernel(context)
            case "Unsqueeze": return try UnsqueezeKernel(context)
            case "Gather": return try GatherKernel(context)
            default: break
            }
        } else if domain == mlDomain {
            switch opType {
            case "LinearClassifier": return try LinearClassifierKernel(context)
            case "LinearRegressor": return try LinearRegressorKernel(context)
            case "TreeEnsembleClassifier": return try TreeEnsembleClassifierKernel(context)
            case "TreeEnsembleRegressor": return try TreeEnsembleRegressorKernel(context)
            case "Scaler": return try ScalerKernel(context)
            case "Normalizer": return try NormalizerKernel(context)
            case "Imputer": return try ImputerKernel(context)
            case "OneHotEncoder": return try OneHotEncoderKernel(context)
            case "LabelEncoder": return try LabelEncoderKernel(context)
            case "ArrayFeatureExtractor": return try ArrayFeatureExtractorKernel(context)
            case "Binarizer": return try BinarizerKernel(context)
            case "ZipMap": return try ZipMapKernel(context)
            case "FeatureVectorizer": return try FeatureVectorizerKernel(context)
            default: break
            }
        }
        throw ModelRuntimeError.unsupportedOperator(domain: domain.isEmpty ? "ai.onnx" : domain, opType: opType, node: context.node.name)
    }
}
