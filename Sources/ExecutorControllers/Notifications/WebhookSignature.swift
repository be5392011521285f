import Crypto
import Foundation

/// How a webhook body is signed: `X-Executor-Signature: sha256=<hex>`, the HMAC-SHA256 of the
/// exact body bytes under the webhook's secret, and `X-Executor-Timestamp`, the Unix time the
/// request was sent. The body's `id` and `time` are signed with it: a receiver that keeps the
/// ids it saw for `maxAgeSeconds` and refuses events whose `time` is older cannot be replayed to.
public enum WebhookSignature {
    public static let signatureHeader = "X-Executor-Signature"
    public static let timestampHeader = "X-Executor-Timestamp"

    /// `sha256=<lower-case hex>` of `body` under `secret`.
    public static func sign(_ body: [UInt8], secret: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    /// True when `header` is the signature of `body` under `secret` (compared in constant time).
    public static func verify(_ body: [UInt8], secret: [UInt8], header: String) -> Bool {
        guard header.hasPrefix("sha256="), let expected = hexBytes(String(header.dropFirst("sha256=".count))) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(expected, authenticating: body, using: SymmetricKey(data: secret))
    }

    /// The secret in `path`: its bytes without a trailing newline (`kubectl create secret
    /// --from-file` keeps the editor's).
    static func readSecret(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw WebhookError.secretUnreadable(path) }
        var bytes = [UInt8](data)
        while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard !bytes.isEmpty else { throw WebhookError.secretUnreadable(path) }
        return bytes
    }

    private static func hexBytes(_ hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Why a webhook delivery attempt did not succeed.
enum WebhookError: Error, CustomStringConvertible {
    case secretUnreadable(String)

    var description: String {
        switch self {
        case .secretUnreadable(let path): "the webhook secret \(path) cannot be read or is empty"
        }
    }
}
