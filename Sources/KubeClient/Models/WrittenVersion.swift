/// The one thing most writers need from a write's answer: the object's new
/// `metadata.resourceVersion`.
///
/// The API server answers every create, update and patch with the whole object. A caller that
/// goes on from its own cache (and only needs to recognise the watch event of its own write)
/// decodes the answer as this: the reader takes `metadata.resourceVersion` and skips every other
/// member by scanning, so a TaskAction's answer costs a scan instead of a model or a tree.
public struct WrittenVersion: JSONReadable, Decodable, Sendable, Equatable {
    public var resourceVersion: String?

    public init(resourceVersion: String?) {
        self.resourceVersion = resourceVersion
    }

    public init(json: inout JSONReader) throws {
        try json.readObject { key, value in
            guard key == "metadata" else { return }
            try value.readObject { key, value in
                if key == "resourceVersion" { resourceVersion = try value.read() }
            }
        }
    }
}
