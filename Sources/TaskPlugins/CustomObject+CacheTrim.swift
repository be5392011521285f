import KubeClient

extension CustomObject {
    /// Trims an operator's object for a plugin's cache: its metadata down to what the executor
    /// reads (managed fields, unknown members and annotations dropped), its spec to `spec`, its
    /// status to the members `statusKeys` name.
    public mutating func trimForCache(spec: JSONValue? = nil, statusKeys: [String]) {
        self.spec = spec
        metadata.managedFields = nil
        metadata.unknownFields = [:]
        metadata.annotations = nil
        guard let status else { return }
        var kept: JSONValue = [:]
        for key in statusKeys { kept[key] = status[key] }
        self.status = kept
    }
}
