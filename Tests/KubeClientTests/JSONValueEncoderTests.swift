import Foundation
import KubeClient
import Testing

@Suite("JSONValueEncoder")
struct JSONValueEncoderTests {
    struct Sample: Codable, Equatable {
        struct Inner: Codable, Equatable {
            var tags: [String]
            var counts: [String: Int64]
        }
        var name: String
        var optional: String?
        var explicitNull: String?
        var flag: Bool
        var small: Int32
        var big: Int64
        var ratio: Double
        var bytes: Data
        var nested: [Inner]
        var matrix: [[Int]]
        var free: JSONValue

        enum CodingKeys: String, CodingKey {
            case name, optional, explicitNull, flag, small, big, ratio, bytes, nested, matrix, free
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encodeIfPresent(optional, forKey: .optional)
            try c.encode(explicitNull, forKey: .explicitNull)
            try c.encode(flag, forKey: .flag)
            try c.encode(small, forKey: .small)
            try c.encode(big, forKey: .big)
            try c.encode(ratio, forKey: .ratio)
            try c.encode(bytes, forKey: .bytes)
            var list = c.nestedUnkeyedContainer(forKey: .nested)
            for inner in nested { try list.encode(inner) }
            try c.encode(matrix, forKey: .matrix)
            try c.encode(free, forKey: .free)
        }
    }

    static let sample = Sample(name: "n", optional: nil, explicitNull: nil, flag: true, small: -3, big: Int64.max, ratio: 0.25, bytes: Data([0, 1, 254, 255]), nested: [.init(tags: ["a", "b"], counts: ["x": 1])], matrix: [[1, 2], []], free: ["k": [1, "two", nil]])

    @Test("builds the tree Foundation's encoder would print, with int64 exact and Data as base64")
    func sameAsFoundation() throws {
        let ours = try JSONValueEncoder().encode(Self.sample)
        let foundation = try JSONValue.parse(try JSONEncoder().encode(Self.sample))
        #expect(ours == foundation)
        #expect(ours["big"] == .int(Int64.max))
        #expect(ours["bytes"] == .string("AAH+/w=="))
        #expect(ours["optional"] == nil, "encodeIfPresent leaves nil out")
        #expect(ours["explicitNull"] == .null)
        #expect(ours["nested"]?[0]?["counts"]?["x"] == .int(1))
    }

    @Test("a value encoded and decoded again is equal to itself")
    func roundTrip() throws {
        let tree = try JSONValueEncoder().encode(Self.sample)
        let back = try JSONBytesDecoder().decode(Sample.self, from: tree.serialized())
        #expect(back == Self.sample)
    }

    @Test("a Pod encodes as Foundation would encode it")
    func pod() throws {
        let text = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"a":"b"},"ownerReferences":[{"apiVersion":"flyte.org/v1","kind":"TaskAction","name":"t","uid":"u","controller":true}]},"spec":{"containers":[{"name":"c","image":"i","env":[{"name":"E","value":"v"}],"resources":{"limits":{"cpu":"1"}}}],"unknownField":{"x":[1.5]}},"status":{"phase":"Running"}}"#
        let pod = try JSONBytesDecoder().decode(Pod.self, from: Array(text.utf8))
        #expect(try JSONValueEncoder().encode(pod) == JSONValue.parse(try JSONEncoder().encode(pod)))
    }

    @Test("numbers JSON cannot hold are errors naming the path")
    func invalidNumbers() throws {
        struct Wrap: Encodable { var values: [Double] }
        #expect(throws: EncodingError.self) { try JSONValueEncoder().encode(Wrap(values: [1, .infinity])) }
        #expect(throws: EncodingError.self) { try JSONValueEncoder().encode([UInt64.max]) }
        do {
            _ = try JSONValueEncoder().encode(Wrap(values: [.nan]))
        } catch let EncodingError.invalidValue(_, context) {
            #expect(context.codingPath.map(\.stringValue) == ["values", "0"])
        }
    }
}
