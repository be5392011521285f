import KubeRuntime
import Testing
@testable import ExecutorControllers

@Suite("The watch events of the executor's own TaskAction writes")
struct OwnWriteEventTests {
    let key = ObjectKey(namespace: "default", name: "t")

    @Test("answer first: the event of the version the write made wakes no round, and the write is forgotten; a later event passes")
    func answerFirst() {
        var writes: [ObjectKey: OwnWrites] = [:]
        OwnWrites.sending(key, in: &writes)
        #expect(!OwnWrites.answered(key, base: "10", produced: "11", terminal: false, in: &writes))
        #expect(!OwnWrites.eventNeedsRound(key, version: "10", in: &writes), "a version the write superseded")
        #expect(!OwnWrites.eventNeedsRound(key, version: "11", in: &writes), "the write's own")
        #expect(writes.isEmpty)
        #expect(OwnWrites.eventNeedsRound(key, version: "12", in: &writes), "anyone else's")
    }

    @Test("event first: held back until the answer; the write's own costs nothing, another's asks for a round")
    func eventFirst() {
        var writes: [ObjectKey: OwnWrites] = [:]
        OwnWrites.sending(key, in: &writes)
        #expect(!OwnWrites.eventNeedsRound(key, version: "11", in: &writes), "held back")
        #expect(!OwnWrites.answered(key, base: "10", produced: "11", terminal: false, in: &writes), "it was the write's own")
        #expect(writes.isEmpty, "the cache holds the write: nothing left to wait for")

        OwnWrites.sending(key, in: &writes)
        #expect(!OwnWrites.eventNeedsRound(key, version: "21", in: &writes))
        #expect(!OwnWrites.eventNeedsRound(key, version: "22", in: &writes))
        #expect(OwnWrites.answered(key, base: "20", produced: "21", terminal: false, in: &writes), "22 was someone else's")
        #expect(writes.isEmpty)

        OwnWrites.sending(key, in: &writes)
        #expect(!OwnWrites.eventNeedsRound(key, version: "30", in: &writes))
        #expect(OwnWrites.answered(key, base: "29", produced: "31", terminal: false, in: &writes), "30 came between the read and the write")
        #expect(writes[key]?.produced == "31", "the write's own event is still to come")
        #expect(!OwnWrites.eventNeedsRound(key, version: "31", in: &writes))
        #expect(writes.isEmpty)
    }

    @Test("the event of an answered write while the next is unanswered is dropped; the last write's event clears it")
    func twoWritesInARound() {
        var writes: [ObjectKey: OwnWrites] = [:]
        OwnWrites.sending(key, in: &writes)
        #expect(!OwnWrites.answered(key, base: "10", produced: "11", terminal: false, in: &writes))
        OwnWrites.sending(key, in: &writes)
        #expect(!OwnWrites.eventNeedsRound(key, version: "11", in: &writes), "superseded by the write in flight")
        #expect(writes[key] != nil)
        #expect(!OwnWrites.answered(key, base: "11", produced: "12", terminal: true, in: &writes))
        #expect(writes[key]?.producedTerminal == true)
        #expect(!OwnWrites.eventNeedsRound(key, version: "12", in: &writes))
        #expect(writes.isEmpty)
    }

    @Test("a failed write with an event held back asks for a round; without one it asks for none and leaves nothing behind")
    func failedWrite() {
        var writes: [ObjectKey: OwnWrites] = [:]
        OwnWrites.sending(key, in: &writes)
        #expect(!OwnWrites.failed(key, in: &writes))
        #expect(writes.isEmpty)

        OwnWrites.sending(key, in: &writes)
        #expect(!OwnWrites.eventNeedsRound(key, version: "40", in: &writes))
        #expect(OwnWrites.failed(key, in: &writes), "the held-back event must be judged")
        #expect(writes.isEmpty)
        #expect(!OwnWrites.failed(key, in: &writes), "nothing in flight")
    }

    @Test("a round that stopped at a superseded version is run again by the event of the last write, whichever came first")
    func awaited() {
        var writes: [ObjectKey: OwnWrites] = [:]
        OwnWrites.sending(key, in: &writes)
        _ = OwnWrites.answered(key, base: "10", produced: "11", terminal: false, in: &writes)
        writes[key]!.awaited = true
        #expect(OwnWrites.eventNeedsRound(key, version: "11", in: &writes))

        OwnWrites.sending(key, in: &writes)
        _ = OwnWrites.answered(key, base: "20", produced: "21", terminal: false, in: &writes)
        writes[key]!.awaited = true
        OwnWrites.sending(key, in: &writes)
        #expect(!OwnWrites.eventNeedsRound(key, version: "21", in: &writes), "superseded by the write in flight")
        #expect(!OwnWrites.eventNeedsRound(key, version: "22", in: &writes), "held back")
        #expect(OwnWrites.answered(key, base: "21", produced: "22", terminal: false, in: &writes), "the stopped round runs again")
    }
}
