import KubeClient
@testable import KubeRuntime
import Testing

@Suite("Reshaping a stored object")
struct StoreReshapeTests {
    @Test("a store keys an object by its own namespace and name strings: no `namespace/name` text is made per object")
    func keysShareTheObjectsStrings() throws {
        let store = Store<ConfigMap>()
        let object = configMap("a-name-longer-than-fifteen-bytes")
        store.upsert(object)
        func storage(_ s: String?) -> UnsafePointer<UInt8>? { s?.utf8.withContiguousStorageIfAvailable { $0.baseAddress } ?? nil }
        let key = try #require(store.keys.first)
        #expect(key == ObjectKey(namespace: "default", name: "a-name-longer-than-fifteen-bytes"))
        #expect(storage(key.name) != nil && storage(key.name) == storage(object.metadata.name))
        #expect(store.get(namespace: "default", name: "a-name-longer-than-fifteen-bytes") == object)
    }

    @Test("reshape replaces the stored object under its key and resourceVersion, files it under its new index values, and the next event replaces it whole")
    func reshape() {
        let store = Store<ConfigMap>(indexers: ["app": Indexers.byLabel("app")])
        var stored = configMap("c", labels: ["app": "a"], data: ["big": String(repeating: "x", count: 1_000)])
        stored.metadata.resourceVersion = "5"
        store.upsert(stored)
        store.reshape(ObjectKey(namespace: "default", name: "c")) { object in
            object.data = nil
            object.metadata.labels = ["app": "b"]
            // Neither may move: the key and version are the store's.
            object.metadata.name = "other"
            object.metadata.resourceVersion = "6"
        }
        let reshaped = store.get(namespace: "default", name: "c")
        #expect(reshaped?.data == nil)
        #expect(reshaped?.metadata.resourceVersion == "5" && reshaped?.metadata.name == "c")
        #expect(store.byIndex("app", "a").isEmpty && store.byIndex("app", "b").count == 1)
        #expect(store.count == 1)

        store.reshape(ObjectKey(namespace: "default", name: "missing")) { $0.data = [:] }
        #expect(store.count == 1 && store.get(namespace: "default", name: "missing") == nil)

        var next = stored
        next.metadata.resourceVersion = "7"
        #expect(store.upsert(next)?.data == nil, "the event's old object is the reshaped one")
        #expect(store.get(namespace: "default", name: "c")?.data == next.data)
    }

    @Test("reshaping an object already in the new shape keeps its entry: no new box, no reindexing")
    func reshapeUnchanged() throws {
        let store = Store<ConfigMap>(indexers: ["app": Indexers.byLabel("app")])
        var stored = configMap("c", labels: ["app": "a"], data: ["big": "x"])
        stored.metadata.resourceVersion = "5"
        store.upsert(stored)
        let trim: (inout ConfigMap) -> Void = { $0.data = nil }
        store.reshape(ObjectKey(namespace: "default", name: "c"), trim)
        let first = try #require(store.existing(ObjectKey(namespace: "default", name: "c")))
        store.reshape(ObjectKey(namespace: "default", name: "c"), trim)
        #expect(store.existing(ObjectKey(namespace: "default", name: "c")) === first, "an unchanged reshape keeps the stored box")
        store.reshape(ObjectKey(namespace: "default", name: "c")) { $0.metadata.labels = ["app": "b"] }
        #expect(store.existing(ObjectKey(namespace: "default", name: "c")) !== first)
        #expect(store.byIndex("app", "b").count == 1 && store.byIndex("app", "a").isEmpty)
    }
}
