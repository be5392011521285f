import Foundation
import KubeClient
@testable import KubeSandbox
import Testing

/// Which creates a MutatingWebhookConfiguration's webhook is called for, as kube-apiserver's
/// matchers decide (rules, then the namespace and object selectors), and how a configuration
/// is defaulted and checked.
@Suite("Admission webhook matching")
struct AdmissionWebhookMatchingTests {
    static let pods = ResourceDefinition.builtins.first { $0.type.plural == "pods" }!
    static let nodes = ResourceDefinition.builtins.first { $0.type.plural == "nodes" }!

    @Test("rules: operations, groups, versions and resources each hold the request's or *, and the scope allows the resource's")
    func rules() {
        func matches(_ rule: JSONValue, _ def: ResourceDefinition = Self.pods, _ operation: String = "CREATE") -> Bool {
            AdmissionWebhooks.rulesMatch(["rules": [rule]], def: def, operation: operation)
        }
        let pods: JSONValue = ["operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]]
        #expect(matches(pods))
        #expect(!matches(pods, Self.pods, "UPDATE"))
        #expect(!matches(pods, Self.nodes))
        #expect(matches(["operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"]], Self.nodes))
        var namespaced = pods
        namespaced["scope"] = "Cluster"
        #expect(!matches(namespaced))
        namespaced["scope"] = "Namespaced"
        #expect(matches(namespaced))
        #expect(!AdmissionWebhooks.rulesMatch([:], def: Self.pods, operation: "CREATE"), "no rules: nothing matches")
    }

    @Test("selectors: matchLabels and every matchExpressions operator; none or empty matches everything")
    func selectors() {
        let labels = ["team": "ml", "tier": "gpu"]
        #expect(AdmissionWebhooks.selectorMatches(nil, labels: labels))
        #expect(AdmissionWebhooks.selectorMatches([:], labels: [:]))
        #expect(AdmissionWebhooks.selectorMatches(["matchLabels": ["team": "ml"]], labels: labels))
        #expect(!AdmissionWebhooks.selectorMatches(["matchLabels": ["team": "web"]], labels: labels))
        for (op, values, expected) in [("In", ["ml", "web"], true), ("In", ["web"], false), ("NotIn", ["web"], true), ("NotIn", ["ml"], false),
                                       ("Exists", [], true), ("DoesNotExist", [], false)] {
            let expression: JSONValue = ["key": "team", "operator": .string(op), "values": .array(values.map(JSONValue.string))]
            #expect(AdmissionWebhooks.selectorMatches(["matchExpressions": [expression]], labels: labels) == expected, "\(op) \(values)")
        }
        #expect(AdmissionWebhooks.selectorMatches(["matchExpressions": [["key": "absent", "operator": "DoesNotExist"]]], labels: labels))
        #expect(!AdmissionWebhooks.selectorMatches(["matchExpressions": [["key": "absent", "operator": "In", "values": ["x"]]]], labels: labels))
    }

    @Test("a configuration is stored with kube-apiserver's defaults, and one it would refuse is 422 naming each field")
    func defaultsAndValidation() async throws {
        try await KubeSandbox.with { _, client in
            let resource = ResourceType(group: "admissionregistration.k8s.io", version: "v1", kind: "MutatingWebhookConfiguration", plural: "mutatingwebhookconfigurations", namespaced: false)
            let stored = try await client.create(resource, [
                "apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration", "metadata": ["name": "m"],
                "webhooks": [["name": "a.b.c", "sideEffects": "None", "admissionReviewVersions": ["v1"],
                              "clientConfig": ["service": ["name": "s", "namespace": "n"]],
                              "rules": [["operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]]]]],
            ])
            let webhook = stored.value(atPath: "webhooks")?[0]
            #expect(webhook?["failurePolicy"] == "Fail" && webhook?["matchPolicy"] == "Equivalent" && webhook?["timeoutSeconds"] == 10)
            #expect(webhook?["namespaceSelector"] == [:] && webhook?["objectSelector"] == [:] && webhook?["reinvocationPolicy"] == "Never")
            #expect(webhook?.value(atPath: "clientConfig.service.port") == 443 && webhook?["rules"]?[0]?["scope"] == "*")
            await #expect {
                _ = try await client.create(resource, [
                    "apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration", "metadata": ["name": "bad"],
                    "webhooks": [["name": "a.b.c", "sideEffects": "None", "admissionReviewVersions": ["v2"], "timeoutSeconds": 31, "clientConfig": [:]],
                                 ["name": "a.b.c", "admissionReviewVersions": ["v1"], "clientConfig": ["url": "https://x", "service": ["name": "s", "namespace": "n"]]]],
                ])
            } throws: { error in
                guard let error = error as? KubeAPIError, error.isInvalid else { return false }
                return ["webhooks[0].admissionReviewVersions", "webhooks[0].timeoutSeconds", "webhooks[0].clientConfig", "webhooks[1].name", "webhooks[1].sideEffects", "webhooks[1].clientConfig"].allSatisfy(error.message.contains)
            }
        }
    }
}
