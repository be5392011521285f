import Foundation
import Testing
import Yams

@testable import KubeClient

/// ``YAMLPlainScalar`` against what it replaced: Yams' default resolver, whose regular
/// expressions are the YAML 1.1 rules.
@Suite struct YAMLPlainScalarTests {
    /// The default resolver's answer for `text` as a plain scalar, in ``YAMLPlainScalar``'s terms.
    static func oracle(_ text: String) -> YAMLPlainScalar {
        let node = Node(text, Tag(.implicit, .default))
        switch Tag.Name(rawValue: node.tag.description) {
        case .null: return .null
        case .bool: return .bool(Bool.construct(from: node.scalar!)!)
        case .int: return .int
        case .float: return .float
        default: return .other
        }
    }

    static let edges = [
        "", "~", "null", "Null", "NULL", "nULL", "nul", "none",
        "true", "True", "TRUE", "tRUE", "false", "yes", "Yes", "YES", "yEs", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "n", "Y", "N",
        "0", "-0", "+0", "00", "07", "08", "0_7", "0o7", "0o", "0o8", "0b", "0b1", "0b102", "0b_", "-0b1", "0x", "0x1F", "0xg", "0X1F", "+0x_a",
        "1", "12", "1_000", "-12", "+12", "1__", "_1", "1:30", "1:3", "1:60", "1:59:59", "1:5:5", "190:20:30", "0:30", "1:", "1:30:", "1::30", "-1:30",
        "1.", "1.5", "-1.5", "+1.5", "1.5e3", "1.5e+3", "1.5e-3", "1e3", "1E3", "1e", "1e+", "1.5.5", ".5", ".5e+3", ".5e3", ".e3", ".", "+.5", "-.5", "._",
        "1:30.", "1:30.5", "1:30:00.25", "0:30.5", "1:60.5", "1:123.5", "1:5.", "1:5:", "12_3.4_5",
        ".inf", ".Inf", ".INF", "+.inf", "-.Inf", ".iNF", "inf", ".nan", ".NaN", ".NAN", "-.nan", "+.nan", "nan",
        "<<", "=", "2026-01-02", "2026-1-2T3:04:05Z", "2026-01-02 03:04:05.5 +02:00",
        "hello", "1 2", " 1", "1 ", "0x1F ", "v1", "1Gi", "500m", "0.5", "1e10", "123456789012345678901234567890",
    ]

    @Test("resolves the YAML 1.1 edge cases of every rule as Yams' default resolver does")
    func edgesMatchYams() {
        for text in Self.edges {
            #expect(YAMLPlainScalar(resolving: text) == Self.oracle(text), "\(text.debugDescription)")
        }
    }

    @Test("resolves 40,000 strings drawn from the rules' alphabet as Yams' default resolver does")
    func randomMatchYams() {
        let alphabet = Array("0123456789015_:.+-eExXbo~aflsnrtuyNIi")
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        var mismatches: [String] = []
        for _ in 0..<40_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let length = Int(state >> 60) % 9
            var text = ""
            for i in 0..<length {
                let pick = Int((state >> UInt64(4 * i)) & 0xff) ^ Int(state >> 40 & 0xff)
                text.append(alphabet[pick % alphabet.count])
                state = state &* 2_862_933_555_777_941_757 &+ 3_037_000_493
            }
            if YAMLPlainScalar(resolving: text) != Self.oracle(text) { mismatches.append(text) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(20))")
    }

    @Test("a document's plain, quoted and tagged scalars get the JSON types they had")
    func documentTypes() throws {
        let value = try JSONValue(yaml: """
            plain: [true, no, 12, 1.5, .inf, ~, '', 1Gi, 2026-01-02]
            quoted: ["true", '1', "null"]
            tagged: [!!str 1, !!int "7", !!bool "yes", !!null "", !!float "2"]
            """)
        #expect(value == [
            "plain": [true, false, 12, 1.5, .double(.infinity), nil, "", "1Gi", "2026-01-02"],
            "quoted": ["true", "1", "null"],
            "tagged": ["1", 7, true, nil, 2.0],
        ])
    }
}
