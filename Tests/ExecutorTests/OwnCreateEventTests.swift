import ExecutorAPI
import Foundation
import KubeClient
import KubeRuntime
import Testing
@testable import ExecutorControllers

@Suite("The watch event of the executor's own child create")
struct OwnCreateEventTests {
    static let key = ObjectKey(namespace: "default", name: "p-0")

    static func pod(_ version: String, name: String = "p-0") -> Pod {
        var pod = Pod(metadata: ObjectMeta())
        pod.metadata.name = name
        pod.metadata.namespace = "default"
        pod.metadata.resourceVersion = version
        return pod
    }

    @Test("answer first: the event of the answer's version wakes no round, once; an event of another version wakes one")
    func answerFirst() {
        let creates = LockedBox<[ObjectKey: OwnCreate]>([:])
        creates.withLock { $0[Self.key] = OwnCreate() }
        #expect(OwnCreate.answered(Self.key, with: Self.pod("14"), in: creates))
        #expect(OwnCreate.eventIsOwn(Self.pod("14"), in: creates), "the create's own event")
        #expect(creates.value.isEmpty, "forgotten once its event came")
        #expect(!OwnCreate.eventIsOwn(Self.pod("14"), in: creates), "a second delivery (a relist) wakes a round")

        creates.withLock { $0[Self.key] = OwnCreate() }
        #expect(OwnCreate.answered(Self.key, with: Self.pod("20"), in: creates))
        #expect(!OwnCreate.eventIsOwn(Self.pod("21"), in: creates), "another version wakes a round")
        #expect(creates.value.isEmpty)
    }

    @Test("event first: it is held back; the answer of its version needs no round, of another version asks for one at once")
    func eventFirst() {
        let creates = LockedBox<[ObjectKey: OwnCreate]>([:])
        creates.withLock { $0[Self.key] = OwnCreate() }
        #expect(OwnCreate.eventIsOwn(Self.pod("14"), in: creates), "held back while the create is unanswered")
        #expect(OwnCreate.answered(Self.key, with: Self.pod("14"), in: creates), "the same version: nothing missed")
        #expect(creates.value.isEmpty)

        creates.withLock { $0[Self.key] = OwnCreate() }
        #expect(OwnCreate.eventIsOwn(Self.pod("30"), in: creates))
        #expect(!OwnCreate.answered(Self.key, with: Self.pod("31"), in: creates), "the held event was of another version: a round at once")
        #expect(creates.value.isEmpty)
    }

    @Test("a failed create forgets itself and says whether it held an event back; children not being created pass")
    func failedAndOthers() {
        let creates = LockedBox<[ObjectKey: OwnCreate]>([:])
        creates.withLock { $0[Self.key] = OwnCreate() }
        #expect(!OwnCreate.failed(Self.key, in: creates))
        creates.withLock { $0[Self.key] = OwnCreate() }
        #expect(OwnCreate.eventIsOwn(Self.pod("9"), in: creates))
        #expect(OwnCreate.failed(Self.key, in: creates), "the held-back event must be judged")
        #expect(creates.value.isEmpty)
        #expect(!OwnCreate.eventIsOwn(Self.pod("5", name: "other-0"), in: creates), "anyone else's child wakes a round")
    }
}
