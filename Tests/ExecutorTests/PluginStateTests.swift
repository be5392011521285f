import Foundation
import KubeClient
import Testing
@testable import ExecutorControllers

@Suite("Plugin state")
struct PluginStateTests {
    static func samples() -> [PluginState] {
        var empty = PluginState()
        empty.reason = ""
        var running = PluginState()
        running.started = true
        running.phase = 4
        running.phaseVersion = 3
        running.reason = "pod \"a\" running\n\ttab ✓"
        running.childUID = "0b7c2a3e-1d2f-4c5b-9a8e-000000000001"
        var relaunched = running
        relaunched.abandonedUID = "uid-\\old"
        relaunched.phaseVersion = UInt32.max
        relaunched.phase = -1
        var connector = PluginState()
        connector.started = true
        connector.resourceMeta = Data(#"{"job_id": "a/b+c"}"#.utf8).base64EncodedString()
        return [empty, running, relaunched, connector]
    }

    @Test("the hand-written bytes are the Codable encoding with sorted keys, so states written before read back equal")
    func bytesMatchCodable() throws {
        for state in Self.samples() {
            let codable = try JSONValueEncoder().encode(state).serialized(sortedKeys: true)
            #expect(state.jsonBytes == codable, "\(String(decoding: state.jsonBytes, as: UTF8.self))")
            #expect(state.base64 == Data(codable).base64EncodedString())
        }
    }

    @Test("the reader gives back what was written, and what Codable reads")
    func roundTrip() throws {
        for state in Self.samples() {
            #expect(PluginState(base64: state.base64) == state)
            #expect(try JSONBytesDecoder().decode(PluginState.self, from: Data(state.jsonBytes)) == state)
        }
    }

    @Test("unknown members are skipped; anything that is not a version-1 state reads as the empty state")
    func tolerant() {
        let extra = Data(#"{"future":{"x":[1,2]},"started":true,"phase":2,"childUID":null}"#.utf8).base64EncodedString()
        var expected = PluginState()
        expected.started = true
        expected.phase = 2
        #expect(PluginState(base64: extra) == expected)
        for bad in [nil, "", "not base64!", Data([0x0d, 0xff, 0x81, 0x03]).base64EncodedString(),
                    Data(#"{"phaseVersion":-1}"#.utf8).base64EncodedString(), Data(#"{"started":true} x"#.utf8).base64EncodedString(),
                    Data(#"["started"]"#.utf8).base64EncodedString()] {
            #expect(PluginState(base64: bad) == PluginState(), "\(bad ?? "nil")")
        }
    }
}
