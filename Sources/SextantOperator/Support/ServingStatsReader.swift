import AsyncHTTPClient
import Foundation
import KubeClient
import KubeCore
import SextantAPI

/// Reads the signals a Sextant server reports at `GET /v2/models/{name}/stats` (drift, online
/// accuracy) for an InferenceService's stable version, through that version's Service.
public struct ServingStatsReader: Sendable {
    public init() {}

    /// The latest stats document, or nil when the service has no stable version or the server
    /// cannot be reached.
    public func stats(of service: InferenceService, versionService: Service?) async -> JSONValue? {
        guard service.status?.stable?.version != nil, let base = ServiceAddress.baseURL(of: versionService) else { return nil }
        let request = HTTPClientRequest(url: "\(base)/v2/models/\(service.spec.modelName)/stats")
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status.code == 200 else { return nil }
            return try JSONValue(parsing: Data(body.readableBytesView))
        } catch {
            return nil
        }
    }
}
