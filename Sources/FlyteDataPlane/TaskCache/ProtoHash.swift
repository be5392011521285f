import Foundation
import KubeClient
import SwiftProtobuf

/// Flyte's `pbhash.ComputeHash`: a message's proto3 JSON (field JSON names, defaults left out,
/// 64-bit integers and enums as strings, as golang/protobuf's `jsonpb.Marshaler{}` writes it
/// and SwiftProtobuf's `jsonString()` writes it too), read back as Go reads JSON, then
/// objecthash'd. Key order and formatting do not matter to the result; field names, which
/// fields are present and their values do.
public enum ProtoHash {
    /// The 32-byte hash.
    public static func digest(_ message: some SwiftProtobuf.Message) throws -> [UInt8] {
        let json: [UInt8] = try message.jsonUTF8Bytes()
        return try ObjectHash.digest(JSONValue.parse(json))
    }

    /// `ComputeHashString`: the hash in standard base64 with padding.
    public static func base64(_ message: some SwiftProtobuf.Message) throws -> String {
        Data(try digest(message)).base64EncodedString()
    }

    /// The hash in URL-safe base64 without padding (Go's `base64.RawURLEncoding`), as the cache
    /// key's signature and inputs parts are written.
    public static func rawURLBase64(_ message: some SwiftProtobuf.Message) throws -> String {
        rawURLBase64(try digest(message))
    }

    static func rawURLBase64(_ bytes: [UInt8]) -> String {
        var s = Data(bytes).base64EncodedString()
        while s.hasSuffix("=") { s.removeLast() }
        return String(s.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
    }
}
