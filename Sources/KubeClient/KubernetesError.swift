import KubeCore

/// An error from the API server (decoded from its `metav1.Status`) or from getting there.
public enum KubernetesError: Error, Sendable, CustomStringConvertible {
    /// 404.
    case notFound(Status)
    /// 409 AlreadyExists on create.
    case alreadyExists(Status)
    /// 409 Conflict: a stale resourceVersion, or a server-side apply conflict (see `causes`).
    case conflict(Status)
    /// 422 Invalid, with the field causes.
    case invalid(Status)
    /// 410 Gone / Expired: a resourceVersion or continue token too old; re-list.
    case gone(Status)
    /// 400.
    case badRequest(Status)
    /// 401.
    case unauthorized(Status)
    /// 403.
    case forbidden(Status)
    /// 429, with the server's Retry-After.
    case tooManyRequests(Status, retryAfterSeconds: Int?)
    /// 5xx, and any other status.
    case server(Status)
    /// The request never got an answer (connection refused, TLS failure, timeout).
    case transport(String)
    /// The answer could not be decoded.
    case decoding(String)
    /// The client configuration is unusable.
    case configuration(String)

    /// The decoded `metav1.Status` of an API error.
    public struct Status: Sendable, CustomStringConvertible {
        public var code: Int
        public var reason: String
        public var message: String
        /// `details.causes`: field, reason and message of each problem.
        public var causes: [(field: String, reason: String, message: String)]
        public var raw: JSONValue

        public init(code: Int, body: JSONValue) {
            self.code = code
            raw = body
            reason = body["reason"]?.stringValue ?? ""
            message = body["message"]?.stringValue ?? (body.stringValue ?? "HTTP \(code)")
            causes = (body["details"]?["causes"]?.arrayValue ?? []).map {
                ($0["field"]?.stringValue ?? "", $0["reason"]?.stringValue ?? "", $0["message"]?.stringValue ?? "")
            }
        }

        public var description: String { message }
    }

    /// Classifies an error response.
    static func from(code: Int, body: JSONValue, retryAfter: Int?) -> KubernetesError {
        let status = Status(code: code, body: body)
        switch (code, status.reason) {
        case (404, _): return .notFound(status)
        case (409, "AlreadyExists"): return .alreadyExists(status)
        case (409, _): return .conflict(status)
        case (422, _): return .invalid(status)
        case (410, _): return .gone(status)
        case (400, _): return .badRequest(status)
        case (401, _): return .unauthorized(status)
        case (403, _): return .forbidden(status)
        case (429, _): return .tooManyRequests(status, retryAfterSeconds: retryAfter)
        default: return .server(status)
        }
    }

    /// The status, for API errors.
    public var status: Status? {
        switch self {
        case .notFound(let status), .alreadyExists(let status), .conflict(let status), .invalid(let status), .gone(let status),
            .badRequest(let status), .unauthorized(let status), .forbidden(let status), .tooManyRequests(let status, _), .server(let status):
            status
        case .transport, .decoding, .configuration: nil
        }
    }

    /// Whether retrying the same request may succeed: throttling, server errors, transport failures.
    public var isRetryable: Bool {
        switch self {
        case .tooManyRequests, .transport: true
        case .server(let status): status.code >= 500
        default: false
        }
    }

    public var description: String {
        switch self {
        case .transport(let message): "transport error: \(message)"
        case .decoding(let message): "could not decode the response: \(message)"
        case .configuration(let message): "configuration error: \(message)"
        default: "\(status?.code ?? 0) \(status?.reason ?? ""): \(status?.message ?? "")"
        }
    }
}
