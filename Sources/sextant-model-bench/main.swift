import Foundation
import SextantModelRuntime

// Times `ONNXModel.run` on a model's fixture rows tiled to a batch.
// Usage: sextant-model-bench [model.onnx] [batch rows] [iterations]
// Build in release: `swift build -c release --product sextant-model-bench`.

let arguments = CommandLine.arguments
let modelPath = arguments.count > 1 ? arguments[1] : "Tests/Fixtures/onnx/benchmark_random_forest.onnx"
let batch = arguments.count > 2 ? Int(arguments[2]) ?? 64 : 64
let iterations = arguments.count > 3 ? Int(arguments[3]) ?? 2000 : 2000

let modelURL = URL(fileURLWithPath: modelPath)
let expectedURL = modelURL.deletingPathExtension().appendingPathExtension("expected.json")
let model = try ONNXModel(contentsOf: modelURL)
guard let input = model.inputs.first, let width = input.shape?.last, width > 0,
    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: expectedURL)) as? [String: Any],
    let inputs = json["inputs"] as? [String: [String: Any]],
    let data = inputs[input.name]?["data"] as? [Any]
else {
    FileHandle.standardError.write(Data("sextant-model-bench: cannot read the fixture inputs in \(expectedURL.path)\n".utf8))
    exit(1)
}
let fixtureRows = data.map { value -> Float in
    if let number = value as? NSNumber { return number.floatValue }
    return Float(value as? String ?? "") ?? .nan
}
let rowCount = fixtureRows.count / width
var features: [Float] = []
for row in 0..<batch {
    let source = row % rowCount
    features.append(contentsOf: fixtureRows[(source * width)..<((source + 1) * width)])
}
let tensor = try Tensor(shape: [batch, width], floats: features)

// The positional `run`, as sextant-server calls it.
for _ in 0..<50 { _ = try model.run([tensor]) }  // warm-up
let clock = ContinuousClock()
var checksum: Float = 0
let elapsed = try clock.measure {
    for _ in 0..<iterations {
        let result = try model.run([tensor])
        if let first = result.last?.tensor?.floats?.first { checksum += first }
    }
}
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
let perBatch = seconds / Double(iterations)
print(
    String(
        format: "%@: batch %d, %d iterations: %.2f µs per batch, %.3f µs per row (checksum %.3f)",
        modelURL.lastPathComponent, batch, iterations, perBatch * 1e6, perBatch * 1e6 / Double(batch), checksum))
