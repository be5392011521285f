import Foundation
import KubeClient

/// The `AdmissionReview` exchange of a mutating webhook (`admission.k8s.io/v1`, and `v1beta1`
/// for older API servers): the request's Pod in, the answer out as a JSON patch, in the
/// version the request came in.
enum AdmissionReview {
    /// A body that is not an AdmissionReview with a request.
    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    /// Answers the review in `body` with `decide`, which sees the request's object when the
    /// request creates a Pod; anything else is allowed as it is.
    static func answer(_ body: [UInt8], decide: (JSONValue) async -> PodSecretsMutator.Outcome) async throws(Malformed) -> JSONValue {
        guard let review = try? JSONValue.parse(body), case .object = review else { throw Malformed(description: "the body is not JSON") }
        let apiVersion = review["apiVersion"]?.stringValue ?? ""
        guard ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"].contains(apiVersion), review["kind"]?.stringValue == "AdmissionReview" else {
            throw Malformed(description: "expected an AdmissionReview of admission.k8s.io/v1 or v1beta1, got \(review["kind"]?.stringValue ?? "no kind") \(apiVersion)")
        }
        guard let request = review["request"], let uid = request["uid"]?.stringValue else {
            throw Malformed(description: "the AdmissionReview has no request uid")
        }
        var response: JSONValue = ["uid": .string(uid), "allowed": true]
        let isPodCreate = request["operation"]?.stringValue == "CREATE"
            && request.value(atPath: "kind.kind")?.stringValue == "Pod" && (request.value(atPath: "kind.group")?.stringValue ?? "").isEmpty
        if isPodCreate, var pod = request["object"] {
            // A Pod created in a namespace need not name it: the request does.
            if (pod.value(atPath: "metadata.namespace")?.stringValue ?? "").isEmpty, let namespace = request["namespace"]?.stringValue {
                pod["metadata"]?["namespace"] = .string(namespace)
            }
            switch await decide(pod) {
            case .unchanged:
                break
            case .mutated(let mutated):
                let operations = patch(from: pod, to: mutated)
                if !operations.isEmpty {
                    response["patchType"] = "JSONPatch"
                    response["patch"] = .string(Data(JSONValue.array(operations).serialized()).base64EncodedString())
                }
            case .denied(let message):
                response["allowed"] = false
                response["status"] = ["code": 400, "message": .string(message), "metadata": [:]]
            }
        }
        return ["apiVersion": .string(apiVersion), "kind": "AdmissionReview", "response": response]
    }

    /// The secret managers change only these members of the spec; each that changed is set
    /// whole (`add` replaces a member that is there).
    static let editedSpecFields = ["initContainers", "containers", "volumes", "imagePullSecrets"]

    static func patch(from old: JSONValue, to new: JSONValue) -> [JSONValue] {
        editedSpecFields.compactMap { field in
            let after = new.value(atPath: "spec.\(field)")
            guard let after, after != old.value(atPath: "spec.\(field)") else { return nil }
            return ["op": "add", "path": .string("/spec/\(field)"), "value": after]
        }
    }
}
