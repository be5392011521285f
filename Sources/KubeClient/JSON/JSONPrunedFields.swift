/// Member paths a ``JSONReader`` skips without building them: a field mask for caches that
/// keep only part of an object.
///
/// Paths are dotted member names from the object's root, such as `spec.volumes` or
/// `spec.containers.args`; arrays are transparent, so `spec.containers.args` prunes `args` in
/// every container. They apply to each whole object a decoder reads (the object of a watch
/// event, every item of a list) and to models that read themselves with ``JSONReader``; a
/// value read as a ``JSONValue`` is read whole.
///
/// ```swift
/// let decoder = JSONBytesDecoder(discardUnknownFields: true, prunedFields: ["spec.volumes", "spec.containers.env"])
/// ```
public struct JSONPrunedFields: Sendable, Hashable, ExpressibleByArrayLiteral {
    /// One member name of a path, its bytes at `nameStart..<nameStart + nameCount` of `names`
    /// and its children at `firstChild..<firstChild + childCount` of `nodes`. A leaf is
    /// skipped. Flat arrays of plain values: looking a member up costs no reference counting.
    struct Node: Sendable, Hashable {
        var nameStart: Int
        var nameCount: Int
        var firstChild = 0
        var childCount = 0
        var leaf = false
    }

    /// `nodes[0]` is the object's root.
    private(set) var nodes: [Node] = []
    private(set) var names: [UInt8] = []

    /// The paths, as given.
    public let paths: [String]

    public init(_ paths: [String]) {
        self.paths = paths
        // Build a trie, then lay it out breadth first so that each node's children are adjacent.
        final class TrieNode {
            let name: [UInt8]
            var children: [TrieNode] = []
            var leaf = false
            init(_ name: [UInt8]) { self.name = name }
        }
        let root = TrieNode([])
        for path in paths {
            var node = root
            for part in path.split(separator: ".", omittingEmptySubsequences: true) {
                let name = Array(part.utf8)
                if let existing = node.children.first(where: { $0.name == name }) {
                    node = existing
                } else {
                    let created = TrieNode(name)
                    node.children.append(created)
                    node = created
                }
            }
            if node !== root { node.leaf = true }
        }
        // Breadth first: the children of each node are appended together, after those of
        // every node before it, so they sit next to each other.
        var order = [root]
        var next = 0
        while next < order.count {
            order.append(contentsOf: order[next].children)
            next += 1
        }
        var placed = 1
        for trie in order {
            nodes.append(Node(nameStart: names.count, nameCount: trie.name.count, firstChild: placed, childCount: trie.children.count, leaf: trie.leaf))
            names.append(contentsOf: trie.name)
            placed += trie.children.count
        }
    }

    public init(arrayLiteral paths: String...) {
        self.init(paths)
    }

    /// What `parent`'s member `key` is: ``skip`` when it is pruned, a node to follow below it,
    /// or ``unpruned`` when nothing below it is.
    func child(of parent: Int, named key: JSONKey) -> Int {
        nodes.withUnsafeBufferPointer { nodes in
            names.withUnsafeBufferPointer { names in
                let parentNode = nodes[parent]
                for index in parentNode.firstChild..<(parentNode.firstChild + parentNode.childCount) {
                    let node = nodes[index]
                    let name = UnsafeBufferPointer(rebasing: names[node.nameStart..<(node.nameStart + node.nameCount)])
                    if key.equals(name) { return node.leaf ? Self.skip : index }
                }
                return Self.unpruned
            }
        }
    }

    static let unpruned = -1
    static let skip = -2
}
