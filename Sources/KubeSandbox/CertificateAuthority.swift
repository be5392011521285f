import Crypto
import Foundation
import SwiftASN1
import X509

/// A throwaway certificate authority: signs the sandbox's serving certificate and client
/// certificates, so the client's TLS and certificate authentication are exercised for real.
public struct CertificateAuthority: Sendable {
    public let certificatePEM: String
    let certificate: Certificate
    let key: P256.Signing.PrivateKey

    /// A PEM certificate and its PEM private key.
    public struct Issued: Sendable {
        public var certificatePEM: String
        public var privateKeyPEM: String
    }

    public init(commonName: String = "kube-sandbox-ca") throws {
        let key = P256.Signing.PrivateKey()
        self.key = key
        let name = try DistinguishedName { CommonName(commonName) }
        let now = Date()
        certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(86400 * 365),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: .init(key.publicKey))
            },
            issuerPrivateKey: .init(key))
        certificatePEM = try certificate.serializeAsPEM().pemString
    }

    /// A serving certificate for `localhost` plus `hostnames`, and `127.0.0.1` and `::1` when `ipAddresses`.
    public func issueServerCertificate(hostnames: [String] = [], ipAddresses: Bool = true) throws -> Issued {
        let names = ["localhost"] + hostnames
        let ips: [GeneralName] = ipAddresses ? [
            .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
            .ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1]))),
        ] : []
        let san = SubjectAlternativeNames(names.map { GeneralName.dnsName($0) } + ips)
        return try issue(commonName: "kube-sandbox", organization: nil, usage: .serverAuth, san: san)
    }

    /// A client certificate for user `commonName` in group `organization`, as kube-apiserver reads them.
    public func issueClientCertificate(commonName: String, organization: String? = "system:masters") throws -> Issued {
        try issue(commonName: commonName, organization: organization, usage: .clientAuth, san: nil)
    }

    private func issue(commonName: String, organization: String?, usage: ExtendedKeyUsage.Usage, san: SubjectAlternativeNames?) throws -> Issued {
        let leafKey = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            if let organization { OrganizationName(organization) }
            CommonName(commonName)
        }
        let now = Date()
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
            try ExtendedKeyUsage([usage])
            AuthorityKeyIdentifier(keyIdentifier: try certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
            if let san { san }
        }
        let leaf = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(leafKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(86400 * 365),
            issuer: certificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions, issuerPrivateKey: .init(key))
        return Issued(certificatePEM: try leaf.serializeAsPEM().pemString, privateKeyPEM: leafKey.pemRepresentation)
    }

    /// The common name of a DER certificate's subject: the user kube-apiserver would see.
    static func commonName(der: [UInt8]) -> String? { user(der: der)?.name }

    /// The user a client certificate names: its common name, and its organizations as groups,
    /// as kube-apiserver's x509 authenticator reads them.
    static func user(der: [UInt8]) -> SandboxUser? {
        guard let cert = try? Certificate(derEncoded: der) else { return nil }
        var name: String?
        var groups: [String] = []
        for rdn in cert.subject {
            for attribute in rdn {
                if attribute.type == .RDNAttributeType.commonName { name = String(describing: attribute.value) }
                if attribute.type == .RDNAttributeType.organizationName { groups.append(String(describing: attribute.value)) }
            }
        }
        guard let name else { return nil }
        return SandboxUser(name: name, groups: groups + ["system:authenticated"])
    }
}
