import KubeClient
@testable import KubeRuntime
import KubeRuntimeTesting
import Testing

/// Tables keyed by what is in flight give their room back once a burst has drained.
@Suite("Tables give back the room a burst took")
struct ReleasingCapacityTests {
    @Test("a dictionary emptied to a few entries moves them into storage of their own size")
    func dictionary() {
        var plain: [Int: String] = [:]
        var releasing: [Int: String] = [:]
        for i in 0..<4_096 {
            plain[i] = "value \(i)"
            releasing[i] = "value \(i)"
        }
        for i in 10..<4_096 {
            plain.removeValue(forKey: i)
            #expect(releasing.removeValueReleasingCapacity(forKey: i) == "value \(i)")
        }
        // What the helper exists for: Swift's own removal keeps the burst's room.
        #expect(plain.capacity >= 4_096)
        #expect(releasing.capacity < 64)
        #expect(releasing == Dictionary(uniqueKeysWithValues: (0..<10).map { ($0, "value \($0)") }))
        #expect(releasing.removeValueReleasingCapacity(forKey: 99_999) == nil)
    }

    @Test("a dictionary still an eighth full keeps its storage")
    func notSparse() {
        var table: [Int: Int] = [:]
        for i in 0..<1_000 { table[i] = i }
        let room = table.capacity
        for i in 0..<(1_000 - room / 8) { table.removeValueReleasingCapacity(forKey: i) }
        #expect(table.capacity == room)
        table.removeValueReleasingCapacity(forKey: 1_000 - room / 8)
        #expect(table.capacity < room / 2)
        #expect(table.count == room / 8 - 1)
    }

    @Test("a set emptied to a few members moves them into storage of their own size")
    func set() {
        var members = Set(0..<2_048)
        for i in 3..<2_048 { #expect(members.removeReleasingCapacity(i) == i) }
        #expect(members.capacity < 64)
        #expect(members == [0, 1, 2])
    }

    @Test("a store whose objects were deleted gives their table back, indexes included")
    func store() {
        let store = Store<ConfigMap>(indexers: ["app": Indexers.byLabel("app")])
        for i in 0..<2_000 { store.upsert(configMap("c\(i)", labels: ["app": "a\(i % 3)"])) }
        #expect(store.tableCapacity >= 2_000)
        for i in 5..<2_000 { store.remove(configMap("c\(i)", labels: ["app": "a\(i % 3)"])) }
        #expect(store.tableCapacity < 64)
        #expect(Set(store.keys.map(\.description)) == Set((0..<5).map { "default/c\($0)" }))
        #expect(store.byIndex("app", "a1").compactMap(\.metadata.name).sorted() == ["c1", "c4"])
    }

    @Test("a work queue that handed out a burst of keys gives its tables back")
    func workQueue() async {
        let queue = WorkQueue<String>(clock: ManualClock())
        for i in 0..<2_000 { queue.add("key-\(i)") }
        #expect(queue.tableCapacity >= 4_000)
        for _ in 0..<2_000 {
            guard let key = await queue.get() else { Issue.record("the queue ran dry early"); return }
            queue.done(key)
        }
        #expect(queue.depth == 0)
        #expect(queue.tableCapacity < 5 * 64)
        // Still a queue.
        queue.add("again")
        #expect(await queue.get() == "again")
    }
}
