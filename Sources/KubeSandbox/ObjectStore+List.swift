import Foundation
import KubeClient

/// One page of a list.
struct ListPage: Sendable {
    var items: [JSONValue]
    var resourceVersion: Int64
    var continueToken: String?
    var remainingItemCount: Int64?
}

extension ObjectStore {
    /// Lists with selectors and paging. Every page of one list is served from the snapshot at the
    /// first page's resourceVersion, rebuilt from history, so paging is consistent as on etcd;
    /// a token older than the history answers 410 Expired.
    func list(_ def: ResourceDefinition, namespace: String?, labels: LabelSelector, fields: FieldSelector,
              limit: Int?, continueToken: String?, resourceVersion rvParam: String?, match: String?) throws(APIError) -> ListPage
    {
        var snapshotVersion = resourceVersion
        var startAfter: String?
        var limit = limit
        if rvParam == "0", continueToken?.isEmpty ?? true {
            // resourceVersion=0 is served from the watch cache, which does not page: the whole
            // list in one answer, as kube-apiserver gives it.
            limit = nil
        }
        if let token = continueToken, !token.isEmpty {
            guard let decoded = ContinueToken.decode(token) else { throw .badRequest("continue key is not valid: \(token)") }
            if decoded.resourceVersion < oldestResumableVersion {
                throw .gone("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.")
            }
            snapshotVersion = decoded.resourceVersion
            startAfter = decoded.startAfter
        } else if let rvText = rvParam, !rvText.isEmpty, rvText != "0" {
            guard let rv = Int64(rvText) else { throw .badRequest("invalid resource version \"\(rvText)\"") }
            if match == "Exact" {
                if rv > resourceVersion { throw Self.tooLarge(rv, resourceVersion) }
                if rv < oldestResumableVersion { throw .gone("too old resource version: \(rv) (\(oldestResumableVersion + 1))") }
                snapshotVersion = rv
            } else if rv > resourceVersion {
                throw Self.tooLarge(rv, resourceVersion)
            }
        } else if match != nil, match != "", rvParam == nil || rvParam == "" {
            throw .invalid(def, "", [FieldError(field: "resourceVersionMatch", reason: "FieldValueForbidden", detail: "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided")])
        }

        let all = snapshot(def, at: snapshotVersion)
        var keys = all.keys.sorted()
        if def.type.namespaced, let namespace, !namespace.isEmpty {
            keys = keys.filter { $0.hasPrefix(namespace + "/") }
        }
        if let startAfter {
            keys = Array(keys.drop { $0 <= startAfter })
        }
        var items: [JSONValue] = []
        var lastKey: String?
        var index = keys.startIndex
        while index < keys.endIndex {
            let key = keys[index]
            index += 1
            guard let object = all[key], Selection.matches(object, def: def, labels: labels, fields: fields) else { continue }
            items.append(Presentation.render(object, as: def))
            lastKey = key
            if let limit, limit > 0, items.count >= limit { break }
        }
        var page = ListPage(items: items, resourceVersion: snapshotVersion)
        if let limit, limit > 0, items.count >= limit, index < keys.endIndex, let lastKey {
            // More may remain: hand out a token even if the rest does not match, as etcd paging does.
            page.continueToken = ContinueToken(resourceVersion: snapshotVersion, startAfter: lastKey).encoded
            if labels.isEverything && fields.requirements.isEmpty {
                page.remainingItemCount = Int64(keys.endIndex - index)
            }
        }
        return page
    }

    /// The objects of a resource as they were at `version`, undoing newer history.
    func snapshot(_ def: ResourceDefinition, at version: Int64) -> [String: JSONValue] {
        var state = objects[def.storageKey] ?? [:]
        guard version < resourceVersion else { return state }
        for event in history[historyStart...].reversed() {
            if event.resourceVersion <= version { break }
            guard event.storageKey == def.storageKey else { continue }
            let key = Self.key(event.object.value(atPath: "metadata.namespace")?.stringValue, event.object.value(atPath: "metadata.name")?.stringValue ?? "")
            switch event.type {
            case .added: state[key] = nil
            default: state[key] = event.previous
            }
        }
        return state
    }

    static func tooLarge(_ rv: Int64, _ current: Int64) -> APIError {
        APIError(code: 504, reason: "Timeout", message: "Too large resource version: \(rv), current: \(current)",
                 details: StatusDetails(causes: [StatusCause(reason: "ResourceVersionTooLarge", message: "Too large resource version")], retryAfterSeconds: 1))
    }

    /// Deletes every matching object of a collection.
    func deleteCollection(_ def: ResourceDefinition, namespace: String?, labels: LabelSelector, fields: FieldSelector, options: JSONValue?) throws(APIError) -> [JSONValue] {
        let page = try list(def, namespace: namespace, labels: labels, fields: fields, limit: nil, continueToken: nil, resourceVersion: nil, match: nil)
        var deleted: [JSONValue] = []
        for item in page.items {
            guard let name = item.value(atPath: "metadata.name")?.stringValue else { continue }
            if let (object, _) = try? delete(def, namespace: item.value(atPath: "metadata.namespace")?.stringValue, name: name, options: options) {
                deleted.append(object)
            }
        }
        return deleted
    }
}

/// The opaque continue token: the snapshot version and the last key served.
struct ContinueToken: Codable {
    var resourceVersion: Int64
    var startAfter: String

    enum CodingKeys: String, CodingKey { case resourceVersion = "rv", startAfter = "start" }

    var encoded: String {
        let json: JSONValue = ["v": "meta.k8s.io/v1", "rv": .int(resourceVersion), "start": .string(startAfter)]
        return Data(json.serialized(sortedKeys: true)).base64EncodedString()
    }

    static func decode(_ token: String) -> ContinueToken? {
        guard let data = Data(base64Encoded: token), let value = try? JSONValue.parse(Array(data)),
            let rv = value["rv"]?.intValue, let start = value["start"]?.stringValue
        else { return nil }
        return ContinueToken(resourceVersion: rv, startAfter: start)
    }
}
