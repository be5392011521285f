import Foundation
import KubeClient
import Testing

/// ``OutOfLine`` keeps a model's seldom-set members in one box; the model must behave as the
/// plain struct it was, and hold no box while they are unset.
@Suite("Members kept out of line")
struct OutOfLineTests {
    struct Members: OutOfLineMembers {
        var text: String?
        var number: Int64?
        var map: [String: String] = [:]
    }

    @Test("unset holds no box; a set member boxes, a copy changes alone, and unsetting them all drops the box")
    func boxing() {
        var members = OutOfLine<Members>()
        #expect(!members.isBoxed && members[\.text] == nil && members[\.map].isEmpty)
        members[\.text] = "a"
        members[\.map]["k"] = "v"
        #expect(members.isBoxed && members[\.text] == "a" && members[\.map] == ["k": "v"])
        let copy = members
        members[\.text] = "b"
        #expect(copy[\.text] == "a" && members[\.text] == "b", "a copy does not see the other's change")
        members[\.text] = nil
        #expect(members.isBoxed, "a member is still set")
        members[\.map] = [:]
        #expect(!members.isBoxed && members == OutOfLine())
        #expect(!OutOfLine(Members()).isBoxed && OutOfLine(Members(number: 1)).isBoxed)
    }

    @Test("equal and hashed by the members' values, not by box identity")
    func equality() {
        var a = OutOfLine<Members>(), b = OutOfLine<Members>()
        a[\.number] = 7
        b[\.number] = 7
        #expect(a == b && a.hashValue == b.hashValue)
        b[\.text] = "x"
        #expect(a != b)
    }

    @Test("ObjectMeta: 136 bytes inline with the rare members unset; they read, write, compare and round-trip as stored members did")
    func objectMeta() throws {
        // Every cached object holds one inline: 192 bytes with generateName, the deletion
        // members, managedFields and unknownFields inline.
        #expect(MemoryLayout<ObjectMeta>.size <= 136)
        let text = #"""
            {"name":"p","generateName":"p-","namespace":"ns","uid":"u","resourceVersion":"9","generation":2,
             "creationTimestamp":"2026-12-03T00:00:00Z","deletionTimestamp":"2026-12-03T00:00:05Z","deletionGracePeriodSeconds":30,
             "labels":{"a":"b"},"finalizers":["f"],"managedFields":[{"manager":"m","operation":"Update"}],"future":{"x":[1,2]}}
            """#
        let fast = try JSONBytesDecoder().decode(ObjectMeta.self, from: Array(text.utf8))
        let codable = try JSONDecoder().decode(ObjectMeta.self, from: Data(text.utf8))
        #expect(fast.generateName == "p-" && fast.deletionTimestamp == "2026-12-03T00:00:05Z" && fast.deletionGracePeriodSeconds == 30)
        #expect(fast.managedFields?.first?.manager == "m" && fast.unknownFields["future"] == ["x": [1, 2]])
        #expect(codable == fast, "Foundation's decoder reaches the same model")
        let again = try JSONBytesDecoder().decode(ObjectMeta.self, from: try JSONBytesEncoder().encode(fast))
        #expect(again == fast)
        var cleared = fast
        cleared.generateName = nil
        cleared.deletionTimestamp = nil
        cleared.deletionGracePeriodSeconds = nil
        cleared.managedFields = nil
        cleared.unknownFields = [:]
        var plain = ObjectMeta(name: "p", namespace: "ns", labels: ["a": "b"], finalizers: ["f"])
        plain.uid = "u"
        plain.resourceVersion = "9"
        plain.generation = 2
        plain.creationTimestamp = "2026-12-03T00:00:00Z"
        #expect(cleared == plain && cleared.hashValue == plain.hashValue)
        let lean = try JSONBytesDecoder(discardUnknownFields: true, discardManagedFields: true).decode(ObjectMeta.self, from: Array(text.utf8))
        #expect(lean.managedFields == nil && lean.unknownFields.isEmpty && lean.deletionTimestamp == fast.deletionTimestamp)
    }
}
