import Foundation
import KubeClient

/// A Pod's resource quantities as kube-apiserver treats them: decoded first, so a malformed
/// one (``ResourceQuantity``) is a 400 for the whole body; then validated, so a negative one or
/// a request above its limit is a 422 naming the field.
enum Quantity {
    /// A quantity's text and what it parses to; a JSON number is read as its decimal text, as
    /// Go's Quantity unmarshals it.
    static func read(_ value: JSONValue) -> (text: String, parsed: Result<Double, ResourceQuantity.ParseError>) {
        let text = value.stringValue ?? value.intValue.map { String($0) } ?? value.doubleValue.map { String($0) } ?? ""
        return (text, ResourceQuantity.parse(text.trimmingCharacters(in: .whitespaces)))
    }

    /// The container resource maps of a Pod, with their field paths.
    static func containerResources(_ pod: JSONValue) -> [(path: String, requests: [String: JSONValue], limits: [String: JSONValue])] {
        var out: [(String, [String: JSONValue], [String: JSONValue])] = []
        for list in ["initContainers", "containers"] {
            for (i, c) in (pod.value(atPath: "spec.\(list)")?.arrayValue ?? []).enumerated() {
                out.append(("spec.\(list)[\(i)].resources", c["resources"]?["requests"]?.objectValue ?? [:], c["resources"]?["limits"]?.objectValue ?? [:]))
            }
        }
        return out
    }

    /// The decode step: a quantity that does not parse makes the whole body undecodable.
    static func decodeCheck(pod: JSONValue) throws(APIError) {
        for entry in containerResources(pod) {
            for value in Array(entry.requests.values) + Array(entry.limits.values) {
                if case .failure(let error) = read(value).parsed {
                    throw .badRequest("Pod in version \"v1\" cannot be handled as a Pod: \(error.message)")
                }
            }
        }
    }

    /// ValidateResourceRequirements: no negative quantity, and no request above its limit.
    static func validate(pod: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        for entry in containerResources(pod) {
            func value(_ v: JSONValue) -> (String, Double)? {
                let (text, parsed) = read(v)
                guard case .success(let q) = parsed else { return nil }
                return (text, q)
            }
            for (kind, map) in [("limits", entry.limits), ("requests", entry.requests)] {
                for (name, raw) in map.sorted(by: { $0.key < $1.key }) {
                    if let (text, q) = value(raw), q < 0 {
                        errors.append(.invalid("\(entry.path).\(kind)[\(name)]", .string(text), "must be greater than or equal to 0"))
                    }
                }
            }
            for (name, raw) in entry.requests.sorted(by: { $0.key < $1.key }) {
                guard let (text, request) = value(raw), let limitRaw = entry.limits[name], let (limitText, limit) = value(limitRaw), limit >= 0, request > limit else { continue }
                errors.append(.invalid("\(entry.path).requests[\(name)]", .string(text), "must be less than or equal to \(name) limit of \(limitText)"))
            }
        }
        return errors
    }
}

