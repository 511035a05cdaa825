import Crypto
import Foundation

/// AWS credentials for Signature Version 4 signing.
public struct AWSCredentials: Sendable, Equatable {
    /// The access key id.
    public var accessKeyID: String
    /// The secret access key.
    public var secretAccessKey: String
    /// The session token for temporary credentials, if any.
    public var sessionToken: String?

    /// Creates credentials.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// Reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> AWSCredentials? {
        guard let id = env["AWS_ACCESS_KEY_ID"], !id.isEmpty, let secret = env["AWS_SECRET_ACCESS_KEY"] else { return nil }
        let token = env["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token)
    }
}

/// AWS Signature Version 4 request signing (header-based), written against the AWS documentation
/// "Create a signed AWS API request"; pure, so it is tested without a network.
public struct SigV4Signer: Sendable {
    /// The credentials used to sign.
    public var credentials: AWSCredentials
    /// The region, e.g. `us-east-1`.
    public var region: String
    /// The service, `s3` here.
    public var service: String

    /// Creates a signer.
    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// Returns the headers to add to a request (`Authorization`, `x-amz-date`,
    /// `x-amz-content-sha256`, and `x-amz-security-token` when there is a session token).
    ///
    /// - Parameters:
    ///   - method: HTTP method.
    ///   - url: the full request URL; its path must already be percent-encoded as sent.
    ///   - headers: other headers that are sent and must be signed (`host` is always signed).
    ///   - payloadSHA256: hex SHA-256 of the body.
    ///   - date: signing time.
    public func sign(
        method: String, url: URL, headers: [String: String] = [:], payloadSHA256: String, date: Date = Date()
    ) -> [String: String] {
        let amzDate = Self.amzDateFormat(date)
        let day = String(amzDate.prefix(8))
        var signed: [String: String] = [:]
        for (key, value) in headers { signed[key.lowercased()] = value.trimmingCharacters(in: .whitespaces) }
        var host = url.host ?? ""
        if let port = url.port, !((url.scheme == "http" && port == 80) || (url.scheme == "https" && port == 443)) {
            host += ":\(port)"
        }
        signed["host"] = host
        signed["x-amz-date"] = amzDate
        signed["x-amz-content-sha256"] = payloadSHA256
        if let token = credentials.sessionToken { signed["x-amz-security-token"] = token }
        let names = signed.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(signed[$0]!)\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let path = URLComponents(url: url, resolvingAgainstBaseURL: false)?.percentEncodedPath ?? "/"
        let canonicalRequest = [
            method, path.isEmpty ? "/" : path, Self.canonicalQuery(url), canonicalHeaders, signedHeaders, payloadSHA256,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Self.hexSHA256(Data(canonicalRequest.utf8))].joined(separator: "\n")
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        let signature = HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key).map { String(format: "%02x", $0) }.joined()
        var result: [String: String] = [
            "Authorization": "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)",
            "x-amz-date": amzDate,
            "x-amz-content-sha256": payloadSHA256,
        ]
        if let token = credentials.sessionToken { result["x-amz-security-token"] = token }
        return result
    }

    /// Hex SHA-256 of `data`.
    public static func hexSHA256(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    /// S3's URI encoding: everything but unreserved characters is percent-encoded; `/` kept when
    /// `keepSlash` (object keys in paths).
    public static func uriEncode(_ value: String, keepSlash: Bool) -> String {
        var out = ""
        for byte in value.utf8 {
            let isAlpha = (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            let isDigit = byte >= 0x30 && byte <= 0x39
            let isMark = byte == 0x2D || byte == 0x5F || byte == 0x2E || byte == 0x7E
            if isAlpha || isDigit || isMark || (keepSlash && byte == 0x2F) {
                out.unicodeScalars.append(UnicodeScalar(byte))
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    static func canonicalQuery(_ url: URL) -> String {
        guard let items = URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems, !items.isEmpty else { return "" }
        var pairs: [String] = []
        for item in items {
            let name: String = uriEncode(item.name, keepSlash: false)
            let value: String = uriEncode(item.value ?? "", keepSlash: false)
            pairs.append(name + "=" + value)
        }
        pairs.sort()
        return pairs.joined(separator: "&")
    }

    static func amzDateFormat(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }
}
