import AsyncHTTPClient
import Foundation
import KubeCore
import NIOCore

/// `kubectl sextant evaluate`: sends labelled rows through an InferenceService, compares the
/// answers with the labels (accuracy for classifiers, mean absolute error for regressors) and
/// posts the labels as feedback to the version that answered, so the servers' online accuracy
/// includes them.
public struct Evaluation: Sendable {
    public struct Report: Sendable, Equatable {
        public var rows: Int
        public var accuracy: Double?
        public var meanAbsoluteError: Double?
        /// Rows answered per version.
        public var byVersion: [String: Int]
        public var feedbackAccepted: Int
        public var failures: Int
    }

    /// Reads a CSV with a header: `label` names the truth column; the others are features, in order.
    public static func readCSV(_ text: String, label: String) throws -> (features: [[Double]], labels: [String]) {
        let lines = text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        guard let header = lines.first?.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) else {
            throw CLIError("the CSV is empty")
        }
        guard let labelIndex = header.firstIndex(of: label) else {
            throw CLIError("the CSV has no column \(label) (columns: \(header.joined(separator: ", ")))")
        }
        var features: [[Double]] = []
        var labels: [String] = []
        for (number, line) in lines.dropFirst().enumerated() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == header.count else { throw CLIError("CSV line \(number + 2) has \(cells.count) cells, the header \(header.count)") }
            var row: [Double] = []
            for (index, cell) in cells.enumerated() where index != labelIndex {
                guard let value = Double(cell) else { throw CLIError("CSV line \(number + 2), column \(header[index]): \(cell) is not a number") }
                row.append(value)
            }
            features.append(row)
            labels.append(cells[labelIndex])
        }
        guard !features.isEmpty else { throw CLIError("the CSV has no rows") }
        return (features, labels)
    }

    let model: String
    let input: String
    let regression: Bool

    public init(model: String, input: String = "input", regression: Bool) {
        self.model = model
        self.input = input
        self.regression = regression
    }

    /// Runs every row through `serviceURL`; feedback goes to `versionURL(version)`.
    public func run(rows: [[Double]], labels: [String], serviceURL: String, versionURL: (String) async -> String?) async -> Report {
        var correct = 0, answered = 0, absoluteError = 0.0, failures = 0
        var byVersion: [String: Int] = [:]
        var feedback: [String: [JSONValue]] = [:]
        let run = UUID().uuidString.prefix(8).lowercased()
        for (index, row) in rows.enumerated() {
            let id = "evaluate-\(run)-\(index)"
            let body: JSONValue = [
                "id": .string(id),
                "inputs": [["name": .string(input), "datatype": "FP32", "shape": [1, .integer(Int64(row.count))], "data": .array(row.map(JSONValue.number))]],
            ]
            guard let answer = await post("\(serviceURL)/v2/models/\(model)/infer", body), let outputs = answer["outputs"]?.arrayValue,
                let first = (outputs.first { $0["name"]?.stringValue == "label" } ?? outputs.first)?["data"]?.arrayValue?.first
            else {
                failures += 1
                continue
            }
            answered += 1
            let version = answer["model_version"]?.stringValue ?? "?"
            byVersion[version, default: 0] += 1
            let truth = labels[index]
            if regression {
                absoluteError += abs((first.doubleValue ?? .nan) - (Double(truth) ?? .nan))
                feedback[version, default: []].append(["id": .string(id), "label": .number(Double(truth) ?? .nan)])
            } else {
                let predicted =
                    first.stringValue ?? first.integerValue.map(String.init) ?? first.doubleValue.map { $0 == $0.rounded() ? String(Int64($0)) : String($0) }
                    ?? ""
                if predicted == truth || Double(predicted) == Double(truth) { correct += 1 }
                feedback[version, default: []].append(["id": .string(id), "label": Int64(truth).map(JSONValue.integer) ?? .string(truth)])
            }
        }
        var accepted = 0
        for (version, items) in feedback {
            guard let url = await versionURL(version), let answer = await post("\(url)/v2/models/\(model)/feedback", ["feedback": .array(items)]) else {
                continue
            }
            accepted += Int(answer["accepted"]?.integerValue ?? 0)
        }
        return Report(
            rows: rows.count, accuracy: regression || answered == 0 ? nil : Double(correct) / Double(answered),
            meanAbsoluteError: regression && answered > 0 ? absoluteError / Double(answered) : nil,
            byVersion: byVersion, feedbackAccepted: accepted, failures: failures)
    }

    func post(_ url: String, _ body: JSONValue) async -> JSONValue? {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body.jsonString()))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let bytes = try await response.body.collect(upTo: 8 << 20)
            guard response.status.code == 200 else { return nil }
            return try JSONValue(parsing: Data(bytes.readableBytesView))
        } catch {
            return nil
        }
    }
}
