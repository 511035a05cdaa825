import AsyncHTTPClient
import Foundation

extension ModelFetcher {
    /// Checks that the artifact exists without downloading it: a file or mounted path is
    /// looked up, an `http(s)` URL or an S3 object gets a (signed) `HEAD`. Returns what was
    /// found (e.g. `HEAD returned 200, 1234 bytes`); throws `ModelLoadError.fetchFailed` when
    /// the artifact is missing or unreachable.
    public func probe(_ source: ModelSource) async throws -> String {
        switch source {
        case .file(let path):
            return try probeFile(path)
        case .pvc(let claim, let path):
            return try probeFile((settings.pvcRoot as NSString).appendingPathComponent("\(claim)/\(path)"))
        case .http(let url):
            return try await head(url: url, headers: [:])
        case .s3(let bucket, let key):
            let url = s3URL(bucket: bucket, key: key)
            var headers: [String: String] = [:]
            if let credentials = settings.credentials, let parsed = URL(string: url) {
                let signer = SigV4Signer(credentials: credentials, region: settings.region)
                headers = signer.sign(method: "HEAD", url: parsed, payloadSHA256: SigV4Signer.hexSHA256(Data()))
            }
            return try await head(url: url, headers: headers)
        }
    }

    private func probeFile(_ path: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw ModelLoadError.fetchFailed("no file at \(path)")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        return "file exists" + (size.map { ", \($0) bytes" } ?? "")
    }

    private func head(url: String, headers: [String: String]) async throws -> String {
        var request = HTTPClientRequest(url: url)
        request.method = .HEAD
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(15))
        } catch {
            throw ModelLoadError.fetchFailed("HEAD \(url): \(error)")
        }
        guard (200..<300).contains(response.status.code) else {
            throw ModelLoadError.fetchFailed("HEAD \(url) returned \(response.status.code)")
        }
        let length = response.headers.first(name: "content-length").map { ", \($0) bytes" } ?? ""
        return "HEAD returned \(response.status.code)\(length)"
    }
}
