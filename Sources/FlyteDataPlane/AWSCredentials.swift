import Foundation

/// An access key, its secret and, for temporary credentials, the session token and expiry.
public struct AWSCredentials: Sendable, Hashable {
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?
    public var expiration: Date?

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }
}

/// Where the S3 store's credentials come from, in the order AWS's SDKs look: keys in the
/// executor's config, then `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
/// `AWS_SESSION_TOKEN`, then a web identity token file (`AWS_WEB_IDENTITY_TOKEN_FILE` +
/// `AWS_ROLE_ARN`, which EKS's IRSA mounts) exchanged with STS `AssumeRoleWithWebIdentity`.
/// Temporary credentials are cached and renewed five minutes before they expire.
public actor AWSCredentialsProvider {
    public enum Source: Sendable, Hashable {
        case fixed(AWSCredentials)
        case webIdentity(tokenFile: String, roleArn: String, sessionName: String, stsEndpoint: URL)
    }

    public let source: Source
    private let http: any HTTPFetching
    private var cached: AWSCredentials?

    public init(source: Source, http: any HTTPFetching) {
        self.source = source
        self.http = http
    }

    /// The first source that the config and environment provide, or nil when none does.
    public static func source(config: S3Config, environment: [String: String], region: String) -> Source? {
        if let key = config.accessKeyId, let secret = config.secretAccessKey, !key.isEmpty {
            return .fixed(AWSCredentials(accessKeyId: key, secretAccessKey: secret, sessionToken: config.sessionToken))
        }
        if let key = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"], !key.isEmpty {
            return .fixed(AWSCredentials(accessKeyId: key, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"]))
        }
        if let file = environment["AWS_WEB_IDENTITY_TOKEN_FILE"], let role = environment["AWS_ROLE_ARN"], !file.isEmpty, !role.isEmpty {
            let endpoint = environment["AWS_ENDPOINT_URL_STS"] ?? environment["AWS_ENDPOINT_URL"] ?? "https://sts.\(region).amazonaws.com"
            guard let url = URL(string: endpoint) else { return nil }
            return .webIdentity(tokenFile: file, roleArn: role, sessionName: environment["AWS_ROLE_SESSION_NAME"] ?? "flyte-executor", stsEndpoint: url)
        }
        return nil
    }

    public func credentials(now: Date = Date()) async throws -> AWSCredentials {
        switch source {
        case .fixed(let credentials):
            return credentials
        case .webIdentity(let tokenFile, let roleArn, let sessionName, let endpoint):
            if let cached, let expiry = cached.expiration, expiry.timeIntervalSince(now) > 300 { return cached }
            let fresh = try await assumeRole(tokenFile: tokenFile, roleArn: roleArn, sessionName: sessionName, endpoint: endpoint)
            cached = fresh
            return fresh
        }
    }

    private func assumeRole(tokenFile: String, roleArn: String, sessionName: String, endpoint: URL) async throws -> AWSCredentials {
        let token: String
        do {
            token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw BlobStoreError.credentials("cannot read the web identity token file \(tokenFile): \(error.localizedDescription)")
        }
        // An unsigned call: the token is the proof.
        let form = [("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", roleArn), ("RoleSessionName", sessionName), ("WebIdentityToken", token)]
            .map { "\($0.0)=\(SigV4Signer.uriEncode($0.1, slash: true))" }.joined(separator: "&")
        let response = try await http.fetch(HTTPFetchRequest(method: "POST", url: endpoint.absoluteString, headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Array(form.utf8)), maxBytes: 64 * 1024)
        let text = String(decoding: response.body, as: UTF8.self)
        guard response.status == 200 else {
            throw BlobStoreError.credentials("STS AssumeRoleWithWebIdentity for \(roleArn) answered \(response.status): \(XMLText.first("Message", in: text) ?? text.prefix(200).description)")
        }
        guard let key = XMLText.first("AccessKeyId", in: text), let secret = XMLText.first("SecretAccessKey", in: text) else {
            throw BlobStoreError.credentials("STS AssumeRoleWithWebIdentity for \(roleArn) returned no credentials")
        }
        let expiry = XMLText.first("Expiration", in: text).flatMap { try? Date($0, strategy: .iso8601) }
        return AWSCredentials(accessKeyId: key, secretAccessKey: secret, sessionToken: XMLText.first("SessionToken", in: text), expiration: expiry)
    }
}

/// The text of the first `<name>…</name>` element: all the XML that STS and S3 error
/// bodies need read here.
enum XMLText {
    static func first(_ name: String, in text: String) -> String? {
        guard let open = text.range(of: "<\(name)>"), let close = text.range(of: "</\(name)>", range: open.upperBound..<text.endIndex) else { return nil }
        return String(text[open.upperBound..<close.lowerBound])
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
