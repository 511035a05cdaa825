import Crypto
import Foundation
import SwiftASN1
import X509

/// A throw-away certificate authority for the local API server: it signs the server's
/// certificate (valid for 127.0.0.1 and localhost) and client certificates whose common name
/// is the user name and whose organisations are the groups, as Kubernetes reads them.
public struct CertificateAuthority: Sendable {
    /// A certificate and its private key, in PEM.
    public struct KeyPair: Sendable {
        public let certificatePEM: String
        public let privateKeyPEM: String
    }

    /// The CA's own certificate and key.
    public let root: KeyPair
    private let certificate: Certificate
    private let key: P256.Signing.PrivateKey

    /// Creates a new CA.
    public init(commonName: String = "sextant-kube-apiserver-ca") throws {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName(commonName) }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(key))
        self.certificate = certificate
        self.key = key
        self.root = KeyPair(certificatePEM: try certificate.serializeAsPEM().pemString, privateKeyPEM: key.pemRepresentation)
    }

    /// A serving certificate for the given host names and IP addresses.
    public func serverCertificate(dnsNames: [String] = ["localhost"], ipAddresses: [String] = ["127.0.0.1"]) throws -> KeyPair {
        var names: [GeneralName] = dnsNames.map { .dnsName($0) }
        for address in ipAddresses {
            var bytes = [UInt8](repeating: 0, count: 4)
            let parts = address.split(separator: ".").compactMap { UInt8($0) }
            if parts.count == 4 { bytes = parts } else { continue }
            names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
        }
        return try issue(commonName: "sextant-kube-apiserver", organizations: [], usage: .serverAuth, alternativeNames: names)
    }

    /// A client certificate for `user` in `groups`.
    public func clientCertificate(user: String, groups: [String] = ["system:masters"]) throws -> KeyPair {
        try issue(commonName: user, organizations: groups, usage: .clientAuth, alternativeNames: [])
    }

    private func issue(commonName: String, organizations: [String], usage: ExtendedKeyUsage.Usage, alternativeNames: [GeneralName]) throws -> KeyPair {
        let leafKey = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            for organization in organizations { OrganizationName(organization) }
            CommonName(commonName)
        }
        let now = Date()
        let leaf = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(leafKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(365 * 86_400),
            issuer: certificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([usage])
                if !alternativeNames.isEmpty { SubjectAlternativeNames(alternativeNames) }
            },
            issuerPrivateKey: .init(key))
        return KeyPair(certificatePEM: try leaf.serializeAsPEM().pemString, privateKeyPEM: leafKey.pemRepresentation)
    }

    /// The common name of a DER certificate's subject (the user name of a client certificate).
    static func commonName(ofDER bytes: [UInt8]) -> String? {
        guard let certificate = try? Certificate(derEncoded: bytes) else { return nil }
        for relativeName in certificate.subject {
            for attribute in relativeName where attribute.type == .RDNAttributeType.commonName {
                return attribute.value.description
            }
        }
        return nil
    }
}
