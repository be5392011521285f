import Foundation
import Crypto

/// `s3://bucket/key` objects from S3 or an S3-compatible store, by GET and PUT with SigV4.
///
/// Path-style addressing (`endpoint/bucket/key`) is used when asked, when the endpoint's host
/// is an IP address or `localhost` (virtual hosts cannot resolve there), and for bucket names
/// that are not valid host labels; otherwise virtual-hosted (`bucket.endpoint/key`), as AWS's
/// SDKs do.
public struct S3BlobStore: BlobStore {
    public let region: String
    public let endpoint: URL
    public let forcePathStyle: Bool
    let credentials: AWSCredentialsProvider?
    let http: any HTTPFetching
    let now: @Sendable () -> Date

    /// - Parameter credentials: nil sends unsigned requests (public buckets only).
    public init(region: String, endpoint: URL?, forcePathStyle: Bool, credentials: AWSCredentialsProvider?, http: any HTTPFetching, now: @escaping @Sendable () -> Date = Date.init) {
        self.region = region
        self.endpoint = endpoint ?? URL(string: "https://s3.\(region).amazonaws.com")!
        self.forcePathStyle = forcePathStyle
        self.credentials = credentials
        self.http = http
        self.now = now
    }

    /// The store `config` and the environment describe: region, endpoint and credentials
    /// each from the config first, then the standard `AWS_*` variables.
    public static func make(config: S3Config, environment: [String: String], http: any HTTPFetching) throws -> S3BlobStore {
        let region = config.region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        let endpointText = config.endpoint ?? environment["AWS_ENDPOINT_URL_S3"] ?? environment["AWS_ENDPOINT_URL"]
        var endpoint: URL?
        if let endpointText, !endpointText.isEmpty {
            guard let url = URL(string: endpointText), let scheme = url.scheme, scheme == "http" || scheme == "https", url.host != nil else {
                throw BlobStoreError.unsupported("storage.s3.endpoint: \(endpointText) is not an http(s)://host[:port] URL")
            }
            endpoint = url
        }
        let source = AWSCredentialsProvider.source(config: config, environment: environment, region: region)
        return S3BlobStore(region: region, endpoint: endpoint, forcePathStyle: config.forcePathStyle, credentials: source.map { AWSCredentialsProvider(source: $0, http: http) }, http: http)
    }

    /// Whether requests for `bucket` go to `endpoint/bucket/…`.
    public func usesPathStyle(bucket: String) -> Bool {
        if forcePathStyle { return true }
        let host = endpoint.host ?? ""
        if host == "localhost" || host.hasSuffix(".localhost") || Self.isIPAddress(host) { return true }
        // Virtual hosts need a DNS label; TLS wildcards also cover only one level (no dots).
        let valid = (3...63).contains(bucket.count) && bucket.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" } && bucket.first != "-" && bucket.last != "-"
        return !valid
    }

    public func read(_ uri: String, maxBytes: Int) async throws -> [UInt8]? {
        let (url, response) = try await send("GET", uri, body: [], maxBytes: maxBytes)
        switch response.status {
        case 200:
            return response.body
        case 404 where Self.code(response).isEmpty || Self.code(response) == "NoSuchKey":
            return nil
        default:
            throw Self.failure("GET", url, response)
        }
    }

    /// A single PutObject, signed over the payload's SHA-256 (the objects written here are a
    /// task's outputs, far below the 5 GiB a single PUT takes).
    public func write(_ uri: String, bytes: [UInt8]) async throws {
        let (url, response) = try await send("PUT", uri, body: bytes, maxBytes: 64 * 1024)
        guard response.status == 200 else { throw Self.failure("PUT", url, response) }
    }

    /// A HeadObject: 200 is there, 404 is not.
    public func exists(_ uri: String) async throws -> Bool {
        let (url, response) = try await send("HEAD", uri, body: [], maxBytes: 64 * 1024)
        switch response.status {
        case 200: return true
        case 404: return false
        default: throw Self.failure("HEAD", url, response)
        }
    }

    private func send(_ method: String, _ uri: String, body: [UInt8], maxBytes: Int) async throws -> (String, HTTPFetchResponse) {
        guard let parsed = BlobURI(uri), parsed.scheme == "s3", !parsed.bucket.isEmpty else {
            throw BlobStoreError.unsupported("\(uri) is not an s3://bucket/key URI")
        }
        let scheme = endpoint.scheme ?? "https"
        var host = endpoint.host ?? ""
        if host.contains(":") { host = "[\(host)]" }
        if let port = endpoint.port, !(scheme == "http" && port == 80) && !(scheme == "https" && port == 443) { host += ":\(port)" }
        let base = endpoint.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        var path = base.isEmpty ? "" : "/" + base
        if usesPathStyle(bucket: parsed.bucket) {
            path += "/\(parsed.bucket)/\(parsed.key)"
        } else {
            host = "\(parsed.bucket).\(host)"
            path += "/\(parsed.key)"
        }
        let payloadHash = body.isEmpty ? SigV4Signer.emptyPayloadHash : SigV4Signer.hex(SHA256.hash(data: body))
        var request = SigV4Signer.Request(method: method, host: host, path: path, payloadHash: payloadHash)
        var headers: [(String, String)] = [("Host", host)]
        if let credentials {
            let signer = SigV4Signer(credentials: try await credentials.credentials(now: now()), region: region, service: "s3")
            headers += signer.sign(request, at: now())
        }
        if method == "PUT" { headers.append(("Content-Type", "application/octet-stream")) }
        request.headers = headers
        let url = "\(scheme)://\(host)\(SigV4Signer.uriEncode(path, slash: false))"
        do {
            return (url, try await http.fetch(HTTPFetchRequest(method: method, url: url, headers: headers, body: body), maxBytes: maxBytes))
        } catch let error as BlobStoreError {
            throw error
        } catch {
            throw BlobStoreError.unavailable("\(method) \(url): \(error)")
        }
    }

    private static func text(_ response: HTTPFetchResponse) -> String { String(decoding: response.body.prefix(2048), as: UTF8.self) }
    private static func code(_ response: HTTPFetchResponse) -> String { XMLText.first("Code", in: text(response)) ?? "" }

    /// A 5xx may pass; anything else is the store saying no.
    private static func failure(_ method: String, _ url: String, _ response: HTTPFetchResponse) -> BlobStoreError {
        let detail = "\(method) \(url): \(response.status) \(code(response)) \(XMLText.first("Message", in: text(response)) ?? "")"
        return (500...599).contains(response.status) ? .unavailable(detail) : .refused(detail)
    }

    static func isIPAddress(_ host: String) -> Bool {
        if host.contains(":") { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { UInt8($0) != nil }
    }
}
