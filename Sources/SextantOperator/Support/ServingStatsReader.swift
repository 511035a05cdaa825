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
        guard let stable = service.status?.stable?.version, let versionService else { return nil }
        let port = versionService.spec?["ports"]?.arrayValue?.first?["port"]?.integerValue ?? 8080
        let host: String
        if let ip = versionService.spec?["clusterIP"]?.stringValue, !ip.isEmpty, ip != "None" {
            host = ip
        } else {
            host = "\(ServingNames.version(service.metadata.name ?? "", stable)).\(service.metadata.namespace ?? "default").svc.cluster.local"
        }
        let request = HTTPClientRequest(url: "http://\(host):\(port)/v2/models/\(service.spec.modelName)/stats")
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
