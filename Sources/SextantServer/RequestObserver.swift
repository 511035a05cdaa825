import Logging

/// What every finished request leaves behind, on either request path: one structured log line
/// (method, endpoint, status, duration, request id; never payloads) and the request counters
/// and latency histogram of its endpoint.
struct RequestObserver: Sendable {
    let metrics: ServerMetrics
    let logger: Logger
    /// The JSON handler, when the request log can be written straight to it (see `logRequest`).
    let jsonHandler: JSONLogHandler?

    init(metrics: ServerMetrics, logger: Logger) {
        self.metrics = metrics
        self.logger = logger
        if let handler = logger.handler as? JSONLogHandler, handler.metadata.isEmpty {
            jsonHandler = handler
        } else {
            jsonHandler = nil
        }
    }

    /// Records a request to `endpoint` (its template, `endpointTemplate(rawPath:)`) answered
    /// `status` after `duration`.
    func finished(method: String, endpoint: String, status: Int, duration: Duration, requestID: String?) {
        metrics.request(endpoint: endpoint, code: status, duration: duration)
        if let jsonHandler {
            jsonHandler.logRequest(method: method, route: endpoint, status: status, duration: duration, requestID: requestID)
        } else {
            var metadata: Logger.Metadata = [
                "http.method": .string(method), "http.route": .string(endpoint),
                "http.status": .string(String(status)), "http.duration_ms": .string(millisecondsText(duration)),
            ]
            if let requestID { metadata["request.id"] = .string(requestID) }
            logger.info("request", metadata: metadata)
        }
    }
}
