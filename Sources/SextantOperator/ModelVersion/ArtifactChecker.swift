import KubeCore
import SextantAPI
import SextantServer

/// Checks that an artifact exists where its URI points — a file or mounted path is looked up,
/// `http(s)` and S3 get a `HEAD` (S3 signed with credentials from the usual environment
/// variables) — without downloading it. The digest is verified by the server that loads it.
public struct ArtifactChecker: Sendable {
    let fetcher: ModelFetcher

    public init(settings: ModelFetchSettings = .fromEnvironment()) {
        fetcher = ModelFetcher(settings: settings)
    }

    public func check(_ artifact: Artifact) async -> ArtifactVerification {
        do {
            let source = try ModelSource(uri: artifact.uri)
            let found = try await fetcher.probe(source)
            return ArtifactVerification(verified: true, checkedAt: .now(), message: found)
        } catch {
            return ArtifactVerification(verified: false, checkedAt: .now(), message: "\(error)")
        }
    }
}
