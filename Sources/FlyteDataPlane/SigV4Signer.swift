import Crypto
import Foundation
import KubeClient

/// AWS Signature Version 4 for requests whose headers carry the signature (the
/// `Authorization` header form), as S3 and STS accept it.
///
/// Written from AWS's "Create a signed AWS API request" and checked against AWS's published
/// test suite (get-vanilla and friends) and the S3 GetObject example; see `SigV4Tests`.
public struct SigV4Signer: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    /// `s3`, `sts`, … The signing name of the service.
    public var service: String

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The SHA-256 of an empty body, which every GET and HEAD signs.
    public static let emptyPayloadHash = hex(SHA256.hash(data: [UInt8]()))

    /// A request to sign: method, host (with `:port` unless the scheme's default), the path
    /// as raw (unencoded) text, the query parameters, and any headers to sign besides `host`
    /// and the `x-amz-*` ones the signer adds.
    public struct Request: Sendable {
        public var method: String
        public var host: String
        public var path: String
        public var query: [(String, String)]
        public var headers: [(String, String)]
        public var payloadHash: String

        public init(method: String, host: String, path: String, query: [(String, String)] = [], headers: [(String, String)] = [], payloadHash: String = SigV4Signer.emptyPayloadHash) {
            self.method = method
            self.host = host
            self.path = path
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    /// The headers to send: `x-amz-date`, `x-amz-content-sha256` (S3 requires it),
    /// `x-amz-security-token` with temporary credentials, and `Authorization`.
    public func sign(_ request: Request, at date: Date) -> [(String, String)] {
        let amzDate = Self.amzDate(date)
        var added: [(String, String)] = [("x-amz-date", amzDate)]
        if service == "s3" { added.append(("x-amz-content-sha256", request.payloadHash)) }
        if let token = credentials.sessionToken, !token.isEmpty { added.append(("x-amz-security-token", token)) }
        var signing = request
        signing.headers += added
        return added + [("Authorization", authorization(signing, amzDate: amzDate))]
    }

    /// The `Authorization` value for `request`, whose headers already include `x-amz-date`.
    public func authorization(_ request: Request, amzDate: String) -> String {
        let (canonical, signedHeaders) = canonicalRequest(request)
        let day = String(amzDate.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(Self.hex(SHA256.hash(data: Array(canonical.utf8))))"
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: signingKey(day: day)))
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }

    /// The canonical request and its signed-header list.
    public func canonicalRequest(_ request: Request) -> (String, String) {
        // Header names lowercased and sorted; values trimmed with inner runs of spaces folded.
        var headers: [String: [String]] = ["host": [request.host]]
        for (name, value) in request.headers where name.lowercased() != "host" {
            headers[name.lowercased(), default: []].append(Self.foldSpaces(value))
        }
        let names = headers.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(headers[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let encoded: [(name: String, value: String)] = request.query.map { pair in
            (name: Self.uriEncode(pair.0, slash: true), value: Self.uriEncode(pair.1, slash: true))
        }
        let sorted = encoded.sorted { (a, b) -> Bool in a.name != b.name ? a.name < b.name : a.value < b.value }
        let query = sorted.map { pair -> String in pair.name + "=" + pair.value }.joined(separator: "&")
        // S3 signs the path encoded once, as sent; its segments are not normalised.
        let path = request.path.isEmpty ? "/" : Self.uriEncode(request.path, slash: false)
        let canonical = [request.method, path, query, canonicalHeaders, signedHeaders, request.payloadHash].joined(separator: "\n")
        return (canonical, signedHeaders)
    }

    func signingKey(day: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    /// `20150830T123600Z`.
    public static func amzDate(_ date: Date) -> String {
        let c = KubeTime.Components(date)
        let pad = KubeTime.padded
        return "\(pad(c.year, 4))\(pad(c.month, 2))\(pad(c.day, 2))T\(pad(c.hour, 2))\(pad(c.minute, 2))\(pad(c.second, 2))Z"
    }

    /// RFC 3986 encoding as SigV4 wants it: unreserved characters kept, everything else as
    /// `%XX` in upper case; `/` kept in paths (`slash: false`).
    public static func uriEncode(_ text: String, slash: Bool) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where !slash:
                out.append("/")
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    static func foldSpaces(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
