import Crypto
import Foundation
import KubeClient
import Logging
import NIOSSL
import X509

/// The webhook's TLS material: a CA the MutatingWebhookConfiguration trusts (`caBundle`) and
/// a serving certificate it signed for the Service's names, as Flyte's `InitCerts` makes them
/// (`<service>`, `<service>.<namespace>`, `<service>.<namespace>.svc`; organization
/// `flyte.org`). P-256 keys, where Flyte's are 4096-bit RSA: as strong, and made in a
/// millisecond rather than seconds at every start.
struct WebhookCertificates: Sendable, Equatable {
    var caPEM: String
    var certificatePEM: String
    var keyPEM: String

    /// The Secret's keys, Flyte's.
    static let caKey = "ca.crt", certificateKey = "tls.crt", privateKeyKey = "tls.key"
    /// How long a generated pair lasts, and how long before its end it is made again.
    static let lifetime: TimeInterval = 10 * 365 * 86400
    static let renewBefore: TimeInterval = 30 * 86400

    static func dnsNames(service: String, namespace: String) -> [String] {
        [service, "\(service).\(namespace)", "\(service).\(namespace).svc"]
    }

    static func generate(service: String, namespace: String, now: Date = Date()) throws -> WebhookCertificates {
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName { OrganizationName("flyte.org"); CommonName("flyte-pod-webhook-ca") }
        let ca = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(caKey.publicKey),
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(lifetime),
            issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
                SubjectKeyIdentifier(hash: .init(caKey.publicKey))
            },
            issuerPrivateKey: .init(caKey))
        let key = P256.Signing.PrivateKey()
        let names = dnsNames(service: service, namespace: namespace)
        let leaf = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(lifetime),
            issuer: caName, subject: try DistinguishedName { OrganizationName("flyte.org"); CommonName(names[2]) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                AuthorityKeyIdentifier(keyIdentifier: try ca.extensions.subjectKeyIdentifier?.keyIdentifier)
                SubjectAlternativeNames(names.map { GeneralName.dnsName($0) })
            },
            issuerPrivateKey: .init(caKey))
        return WebhookCertificates(caPEM: try ca.serializeAsPEM().pemString, certificatePEM: try leaf.serializeAsPEM().pemString, keyPEM: key.pemRepresentation)
    }

    /// Why these cannot serve `service` in `namespace` at `now` until well before they end, or
    /// nil when they can: the CA signed the certificate, the key is the certificate's, and the
    /// certificate names the Service.
    func problem(service: String, namespace: String, now: Date = Date()) -> String? {
        let ca: Certificate, leaf: Certificate, key: Certificate.PrivateKey
        do {
            ca = try Certificate(pemEncoded: caPEM)
            leaf = try Certificate(pemEncoded: certificatePEM)
            key = try Certificate.PrivateKey(pemEncoded: keyPEM)
        } catch {
            return "unreadable: \(error)"
        }
        guard ca.publicKey.isValidSignature(leaf.signature, for: leaf) else { return "the certificate is not signed by the CA" }
        guard key.publicKey == leaf.publicKey else { return "the key is not the certificate's" }
        guard leaf.notValidBefore <= now.addingTimeInterval(300) else { return "the certificate is not valid yet" }
        guard leaf.notValidAfter > now.addingTimeInterval(Self.renewBefore), ca.notValidAfter > now.addingTimeInterval(Self.renewBefore) else {
            return "the certificate ends within \(Int(Self.renewBefore / 86400)) days"
        }
        var named: Set<String> = []
        if let san = try? leaf.extensions.subjectAlternativeNames {
            for name in san { if case .dnsName(let dns) = name { named.insert(dns) } }
        }
        let missing = Self.dnsNames(service: service, namespace: namespace).filter { !named.contains($0) }
        guard missing.isEmpty else { return "the certificate does not name \(missing.joined(separator: ", "))" }
        return nil
    }

    func tlsContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)))
        configuration.minimumTLSVersion = .tlsv12
        return try NIOSSLContext(configuration: configuration)
    }

    /// The pair kept in the Secret `name`: read when it is there and can serve, otherwise made
    /// and stored. Every replica runs this; the first create wins and the others read it, so
    /// all of them serve certificates of the one CA the configuration trusts. (Flyte's makes
    /// new ones at every start, and a replica that started earlier then serves a certificate
    /// the configuration's CA did not sign.)
    static func ensure(in namespace: String, name: String, service: String, client: KubernetesClient, logger: Logger) async throws -> WebhookCertificates {
        let secrets = APISecretStore.secrets
        for _ in 0..<5 {
            let existing: JSONValue?
            do {
                existing = try await client.get(secrets, name: name, namespace: namespace)
            } catch let error as KubeAPIError where error.isNotFound {
                existing = nil
            }
            if let existing {
                let data = existing["data"]?.objectValue ?? [:]
                func text(_ key: String) -> String {
                    data[key]?.stringValue.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
                }
                let found = WebhookCertificates(caPEM: text(caKey), certificatePEM: text(certificateKey), keyPEM: text(privateKeyKey))
                guard let problem = found.problem(service: service, namespace: namespace) else { return found }
                logger.notice("webhook: replacing the certificates in Secret \(namespace)/\(name)", metadata: ["reason": "\(problem)"])
                do {
                    _ = try await client.delete(secrets, name: name, namespace: namespace, options: DeleteOptions(preconditionUID: existing.value(atPath: "metadata.uid")?.stringValue))
                } catch let error as KubeAPIError where error.isNotFound || error.isConflict {
                    // Another replica replaced it first: read theirs.
                }
                continue
            }
            let made = try generate(service: service, namespace: namespace)
            let secret: JSONValue = [
                "apiVersion": "v1", "kind": "Secret",
                "metadata": ["name": .string(name), "namespace": .string(namespace), "labels": ["app.kubernetes.io/managed-by": "executor"]],
                "type": "Opaque",
                "immutable": true,
                "data": [
                    caKey: .string(Data(made.caPEM.utf8).base64EncodedString()),
                    certificateKey: .string(Data(made.certificatePEM.utf8).base64EncodedString()),
                    privateKeyKey: .string(Data(made.keyPEM.utf8).base64EncodedString()),
                ],
            ]
            do {
                _ = try await client.create(secrets, secret, namespace: namespace)
                logger.info("webhook: made a CA and serving certificate", metadata: ["secret": "\(namespace)/\(name)"])
                return made
            } catch let error as KubeAPIError where error.isAlreadyExists {
                continue
            }
        }
        throw CertificatesUnsettled(secret: "\(namespace)/\(name)")
    }

    /// The Secret kept changing under this replica.
    struct CertificatesUnsettled: Error, CustomStringConvertible {
        var secret: String
        var description: String { "webhook: the certificates in Secret \(secret) kept changing; is another program writing it?" }
    }

    /// The pair in `directory` (`tls.crt`, `tls.key`, `ca.crt`), as cert-manager mounts them.
    static func read(directory: String) throws -> WebhookCertificates {
        func text(_ file: String) throws -> String {
            let path = (directory as NSString).appendingPathComponent(file)
            guard let data = FileManager.default.contents(atPath: path) else { throw UnreadableFile(path: path) }
            return String(decoding: data, as: UTF8.self)
        }
        return WebhookCertificates(caPEM: try text(caKey), certificatePEM: try text(certificateKey), keyPEM: try text(privateKeyKey))
    }

    /// Writes the pair to `directory` (Flyte's `localCert`).
    func write(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (file, text) in [(Self.caKey, caPEM), (Self.certificateKey, certificatePEM), (Self.privateKeyKey, keyPEM)] {
            try Data(text.utf8).write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent(file)), options: .atomic)
        }
    }

    struct UnreadableFile: Error, CustomStringConvertible {
        var path: String
        var description: String { "webhook: cannot read \(path)" }
    }
}
