import Foundation
import KubeClient
import KubeSandbox
import Testing

/// Validation of built-in kinds that kube-apiserver does and operators trip over in
/// production (issue 17, item 8): Events, Leases, and the request body limit.
@Suite("Built-in validation as kube-apiserver does it")
struct BuiltinValidationTests {
    static let coreEvents = ResourceType(group: "", version: "v1", kind: "Event", plural: "events", namespaced: true)
    static let events = ResourceType(group: "events.k8s.io", version: "v1", kind: "Event", plural: "events", namespaced: true)
    static let leases = ResourceType(group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases", namespaced: true)

    static func message(_ body: () async throws -> Void) async -> String? {
        do {
            try await body()
            return nil
        } catch let error as KubeAPIError {
            return error.status.message
        } catch {
            return "\(error)"
        }
    }

    @Test("an events.k8s.io Event needs eventTime, reportingController, reportingInstance, action, reason and a Normal or Warning type, and leaves the deprecated fields unset")
    func eventsAPIRules() async throws {
        try await KubeSandbox.with { _, client in
            let bare: JSONValue = ["apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": ["name": "e1", "namespace": "default"],
                                   "regarding": ["kind": "Pod", "name": "p", "namespace": "default"], "note": "hello", "type": "Info", "deprecatedCount": 3]
            let message = await Self.message { _ = try await client.create(Self.events, bare) }
            // Without eventTime only the strict rules speak (the legacy ones check the reporting
            // fields of Events that have an eventTime), with the core field names.
            #expect(message == #"Event.events.k8s.io "e1" is invalid: [eventTime: Required value, type: Invalid value: "": has invalid value: Info, count: Invalid value: "": needs to be unset]"#)
            var timed = bare
            timed["eventTime"] = "2026-11-29T10:00:00.000000Z"
            timed["type"] = "Warning"
            timed["deprecatedCount"] = nil
            let second = await Self.message { _ = try await client.create(Self.events, timed) }
            #expect(second == #"Event.events.k8s.io "e1" is invalid: [reportingController: Required value, reportingInstance: Required value, action: Required value, reason: Required value]"#)

            var good = bare
            good["type"] = "Normal"
            good["deprecatedCount"] = nil
            good["eventTime"] = "2026-11-29T10:00:00.000000Z"
            good["reportingController"] = "flyte.org/executor"
            good["reportingInstance"] = "executor-0"
            good["action"] = "Reconcile"
            good["reason"] = "Started"
            _ = try await client.create(Self.events, good)
        }
    }

    @Test("a core Event without eventTime must name its object's namespace as its own")
    func coreEventNamespace() async throws {
        try await KubeSandbox.with { _, client in
            let event: JSONValue = ["apiVersion": "v1", "kind": "Event", "metadata": ["name": "x", "namespace": "default"],
                                    "involvedObject": ["kind": "Pod", "name": "p", "namespace": "other"], "reason": "Test", "message": "m"]
            let message = await Self.message { _ = try await client.create(Self.coreEvents, event) }
            #expect(message == #"Event "x" is invalid: involvedObject.namespace: Invalid value: "other": does not match event.namespace"#)
        }
    }

    @Test("a Lease's leaseDurationSeconds must be above 0 and leaseTransitions not negative")
    func leaseRules() async throws {
        try await KubeSandbox.with { _, client in
            let lease: JSONValue = ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": ["name": "l", "namespace": "default"],
                                    "spec": ["holderIdentity": "me", "leaseDurationSeconds": 0, "leaseTransitions": -1]]
            let message = await Self.message { _ = try await client.create(Self.leases, lease) }
            #expect(message == #"Lease.coordination.k8s.io "l" is invalid: [spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0, spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0]"#)
        }
    }

    @Test("a Pod's resource quantities: a malformed one is a 400 naming Go's regular expression or the suffix, a negative one or a request above its limit a 422 naming the field; Kubernetes' forms are accepted")
    func podQuantities() async throws {
        try await KubeSandbox.with { _, client in
            func pod(_ name: String, requests: [String: String]? = nil, limits: [String: String]? = nil) -> Pod {
                var container = Container(name: "c", image: "busybox")
                container.resources = ResourceRequirements(limits: limits, requests: requests)
                return Pod(metadata: ObjectMeta(name: name, namespace: "default"), spec: PodSpec(containers: [container]))
            }
            let regex = #"Pod in version "v1" cannot be handled as a Pod: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"#
            for bad in ["lots", "1.5.5Gi", "12Qi", "1Mb", "1KiB", "", " "] {
                var code = 0
                let message = await Self.message {
                    do { _ = try await client.create(pod("bad", limits: ["memory": bad])) } catch let error as KubeAPIError { code = error.code; throw error }
                }
                #expect(code == 400 && message == regex, "\"\(bad)\": \(code) \(message ?? "accepted")")
            }
            let suffix = await Self.message { _ = try await client.create(pod("bad", limits: ["cpu": "1ki"])) }
            #expect(suffix == #"Pod in version "v1" cannot be handled as a Pod: unable to parse quantity's suffix"#)
            let negative = await Self.message { _ = try await client.create(pod("neg", limits: ["memory": "-1Mi"])) }
            #expect(negative == #"Pod "neg" is invalid: spec.containers[0].resources.limits[memory]: Invalid value: "-1Mi": must be greater than or equal to 0"#)
            let above = await Self.message { _ = try await client.create(pod("above", requests: ["memory": "2Gi"], limits: ["memory": "1Gi"])) }
            #expect(above == #"Pod "above" is invalid: spec.containers[0].resources.requests[memory]: Invalid value: "2Gi": must be less than or equal to memory limit of 1Gi"#)
            for (i, good) in ["100m", "1.5Gi", "1e3", "+1", ".5", "1.", "0", "2E-2", "500u", "1Ei"].enumerated() {
                _ = try await client.create(pod("good-\(i)", requests: ["cpu": good], limits: ["cpu": good]))
            }
            // 1024Mi is 1Gi: equal, not above.
            _ = try await client.create(pod("equal", requests: ["memory": "1024Mi"], limits: ["memory": "1Gi"]))
        }
    }

    @Test("a request body over the 3 MiB limit is rejected with 413 Request entity too large")
    func bodyLimit() async throws {
        // The client refuses such a body itself; lift its limit to see the server's answer.
        try await KubeSandbox.with(configure: { $0.maxRequestBodyBytes = 8 * 1024 * 1024 }) { _, client in
            let big: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "huge", "namespace": "default"], "data": ["x": .string(String(repeating: "a", count: 3 * 1024 * 1024 + 10))]]
            let response = try await client.raw(method: "POST", path: "/api/v1/namespaces/default/configmaps", body: big.serialized(), contentType: "application/json")
            #expect(response.status == 413)
            #expect(try JSONValue.parse(response.body)["message"] == "Request entity too large: limit is 3145728")
        }
    }
}
