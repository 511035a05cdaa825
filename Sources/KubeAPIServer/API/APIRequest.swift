import Foundation
import KubeCore

/// An HTTP request as the API layer sees it, independent of the transport.
public struct APIRequest: Sendable {
    public var method: String
    /// The path without the query string, e.g. `/apis/apps/v1/namespaces/default/deployments`.
    public var path: String
    /// Query parameters; a repeated parameter keeps its first value.
    public var query: [String: String]
    /// Header fields with lower-cased names.
    public var headers: [String: String]
    public var body: Data
    /// The authenticated user, when authentication is on.
    public var user: String?

    public init(method: String, target: String, headers: [String: String] = [:], body: Data = Data(), user: String? = nil) {
        self.method = method.uppercased()
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        self.path = String(parts[0]).removingPercentEncoding ?? String(parts[0])
        var query: [String: String] = [:]
        if parts.count == 2 {
            for item in parts[1].split(separator: "&") {
                let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = String(pair[0]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(pair[0])
                let value = pair.count == 2 ? (String(pair[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(pair[1])) : ""
                if query[key] == nil { query[key] = value }
            }
        }
        self.query = query
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        self.body = body
        self.user = user
    }

    /// The media type of the body, without parameters.
    var contentType: String {
        (headers["content-type"] ?? "application/json").split(separator: ";")[0].trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// A boolean query parameter (`true`, `1`).
    func flag(_ name: String) -> Bool {
        guard let value = query[name] else { return false }
        return value == "true" || value == "1" || value.isEmpty
    }

    /// Whether `dryRun=All` was requested.
    var isDryRun: Bool { query["dryRun"] == "All" }

    /// The body as a JSON value; YAML bodies are accepted as kubectl and curl users send them.
    func bodyJSON() throws -> JSONValue {
        guard !body.isEmpty else { throw APIError.badRequest("the request body is empty") }
        if contentType == "application/vnd.kubernetes.protobuf" {
            return try ProtobufBodies.decode(body)
        }
        if contentType.contains("yaml") {
            do {
                return try YAML.document(from: String(decoding: body, as: UTF8.self))
            } catch {
                throw APIError.badRequest("error decoding YAML: \(error)")
            }
        }
        do {
            return try JSONValue(parsing: body)
        } catch {
            throw APIError.badRequest("the body could not be decoded as JSON: \(error.localizedDescription)")
        }
    }
}

/// A response: a JSON body, raw bytes, or a stream of JSON lines for a watch.
public enum APIResponse: Sendable {
    case json(status: Int, body: JSONValue, headers: [String: String])
    /// A watch: batches of complete JSON lines until `next` returns nil or `timeout` passes.
    case stream(status: Int, headers: [String: String], body: WatchBody)
    case raw(status: Int, contentType: String, body: Data)

    static func ok(_ body: JSONValue, status: Int = 200, warnings: [String] = []) -> APIResponse {
        var headers: [String: String] = [:]
        if !warnings.isEmpty {
            let escaped = warnings.map { $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") }
            headers["warning"] = escaped.map { "299 - \"\($0)\"" }.joined(separator: ", ")
        }
        return .json(status: status, body: body, headers: headers)
    }

    static func error(_ error: APIError) -> APIResponse {
        var headers: [String: String] = [:]
        if let retry = error.retryAfterSeconds { headers["retry-after"] = String(retry) }
        return .json(status: error.code, body: error.status, headers: headers)
    }

    /// The HTTP status code.
    public var status: Int {
        switch self {
        case .json(let status, _, _), .stream(let status, _, _), .raw(let status, _, _): status
        }
    }
}

/// The body of a watch response.
public struct WatchBody: Sendable {
    /// The next batch of complete JSON lines; nil when the watch is over.
    let next: @Sendable () async -> [UInt8]?
    /// Ends the watch (client gone, timeout, shutdown).
    let close: @Sendable () -> Void
    /// When the server ends the watch by itself (`timeoutSeconds`).
    let timeout: Duration
}
