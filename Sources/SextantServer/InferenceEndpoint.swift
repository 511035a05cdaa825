/// An inference endpoint a request target names, and the model (and version) it names: what
/// both request paths, the router's and `InferenceFastPath`, evaluate.
enum InferenceEndpoint: Equatable, Sendable {
    /// `POST /v2/models/{model}/infer` or `POST /v2/models/{model}/versions/{version}/infer`.
    case v2Infer(model: String, version: String?)
    /// `POST /v1/models/{model}:predict`.
    case v1Predict(model: String)

    /// The endpoint a raw request target names when it is spelled plainly: no query, no
    /// percent-escape, no empty segment, no trailing slash. Anything else is left to the
    /// router, which knows every spelling; nil also for targets that are not inference endpoints.
    /// The endpoint template that names it in metrics and logs (as `endpointTemplate` does).
    var template: String {
        switch self {
        case .v2Infer(_, nil): "/v2/models/{name}/infer"
        case .v2Infer: "/v2/models/{name}/versions/{version}/infer"
        case .v1Predict: "/v1/models/{name}:predict"
        }
    }

    init?(target: String) {
        let bytes = target.utf8
        guard bytes.first == UInt8(ascii: "/"), !bytes.contains(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "%") }) else {
            return nil
        }
        let segments = bytes.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        guard !segments.contains(where: \.isEmpty), segments.count >= 3 else { return nil }
        func segment(_ index: Int) -> String { String(decoding: segments[index], as: UTF8.self) }
        switch (segment(0), segment(1), segments.count) {
        case ("v2", "models", 4) where segment(3) == "infer":
            self = .v2Infer(model: segment(2), version: nil)
        case ("v2", "models", 6) where segment(3) == "versions" && segment(5) == "infer":
            self = .v2Infer(model: segment(2), version: segment(4))
        case ("v1", "models", 3):
            let suffix = ":predict"
            let last = segment(2)
            guard last.hasSuffix(suffix), last.utf8.count > suffix.utf8.count else { return nil }
            self = .v1Predict(model: String(last.dropLast(suffix.count)))
        default:
            return nil
        }
    }
}
