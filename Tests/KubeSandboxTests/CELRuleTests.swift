import Foundation
import KubeClient
@testable import KubeSandbox
import Testing

/// `x-kubernetes-validations` (issue 17, item 7): the CEL rules of the real CRDs, evaluated as
/// kube-apiserver evaluates them.
@Suite("CEL validation rules")
struct CELRuleTests {
    static func evaluate(_ rule: String, self value: JSONValue, old: JSONValue? = nil) throws -> CELValue {
        var variables = ["self": CELValue(value)]
        if let old { variables["oldSelf"] = CELValue(old) }
        return try CELEvaluator(variables: variables).evaluate(try CELParser.parse(rule))
    }

    @Test("the CEL subset: has(), !, &&, ||, ==, in lists, size(), comparisons, startsWith/endsWith/matches, ternaries and macros")
    func subset() throws {
        let object: JSONValue = ["name": "web-1", "replicas": 3, "ports": [80, 443], "labels": ["app": "web"], "ratio": 0.5]
        let cases: [(String, Bool)] = [
            ("has(self.name) && !has(self.missing)", true),
            ("self.name == 'web-1' || self.nope == 1", true),  // || absorbs the error of its other side
            ("self.name in ['web-1', 'web-2']", true),
            ("'app' in self.labels", true),
            ("size(self.ports) == 2 && self.ports.size() < 3", true),
            ("self.replicas >= 3 && self.replicas != 4 && self.ratio < 1", true),
            ("self.replicas == 3.0", true),
            ("self.name.startsWith('web') && self.name.endsWith('-1') && self.name.matches('^[a-z]+-[0-9]+$')", true),
            ("self.ports.all(p, p > 0) && self.ports.exists(p, p == 443) && self.ports.exists_one(p, p == 80)", true),
            ("self.ports.filter(p, p > 100) == [443] && self.ports.map(p, p * 2) == [160, 886]", true),
            ("self.replicas > 5 ? false : true", true),
            ("self.labels.app + '-' + string(self.replicas) == 'web-3'", true),
            ("size(self.name) > 10", false),
            ("!(self.name in ['x'])", true),
        ]
        for (rule, expected) in cases {
            #expect(try Self.evaluate(rule, self: object) == .bool(expected), "\(rule)")
        }
        #expect(throws: CELError.evaluation("no such key: nope")) { try Self.evaluate("self.nope == 1 && true", self: object) }
        #expect(try Self.evaluate("self == oldSelf", self: "a", old: "a") == .bool(true))
        #expect(try Self.evaluate("self == oldSelf", self: "a", old: "b") == .bool(false))
        #expect(throws: CELError.self) { try CELParser.parse("self.x ==") }
        #expect(throws: CELError.unsupported("function quantity() is not implemented by the sandbox")) { try CELParser.parse("quantity(self.x).isLessThan(quantity('1'))") }
    }

    @Test("cel-go's limits: nesting past 250 and a source past 100,000 code points are refused with its words, not a stack overflow; long runs of ! and -, and long && and || chains, are shallow trees")
    func limits() throws {
        let tooDeep = CELError.syntax("expression recursion limit exceeded: 250")
        func repeated(_ text: String, _ count: Int) -> String { String(repeating: text, count: count) }
        // Past the limit, each way a rule can nest: found by `make fuzz` (target `cel`), whose
        // input of a few hundred `[`, `!` and `(` overflowed the stack before.
        for rule in [
            repeated("(", 300) + "1" + repeated(")", 300),
            repeated("[", 300) + repeated("]", 300),
            repeated("{'a': ", 300) + "1" + repeated("}", 300),
            repeated("size(", 300) + "self" + repeated(")", 300),
            "1" + repeated(" + 1", 300),
            "1" + repeated(" == 1", 300),
            "self" + repeated(".a", 300),
            "self" + repeated("[0]", 300),
            repeated("true ? 1 : ", 300) + "0",
            repeated("!(", 300) + "true" + repeated(")", 300),
        ] {
            #expect(throws: tooDeep, "\(rule.prefix(20))…") { _ = try CELParser.parse(rule) }
        }
        // Within it, the same shapes parse and evaluate.
        #expect(try Self.evaluate(repeated("(", 200) + "1" + repeated(")", 200), self: nil) == .int(1))
        #expect(try Self.evaluate("1" + repeated(" + 1", 200), self: nil) == .int(201))
        #expect(try Self.evaluate("self" + repeated("[0]", 200), self: JSONValue.array([Self.nested(199)])) == .int(7))
        // Runs of ! and - are one operator or none, as cel-go reads them.
        #expect(try Self.evaluate(repeated("!", 5_001) + "true", self: nil) == .bool(false))
        #expect(try Self.evaluate(repeated("!", 5_000) + "self", self: true) == .bool(true))
        #expect(try Self.evaluate(repeated("-", 4_000) + "5", self: nil) == .int(5))
        #expect(try Self.evaluate(repeated("-", 4_001) + "self", self: 5) == .int(-5))
        #expect(try Self.evaluate(repeated("!!--", 20_000) + "self", self: 5) == .int(5))
        // A chain of 10,000 conditions is a balanced tree; errors still lose to a deciding side.
        #expect(try Self.evaluate("true" + repeated(" && true", 10_000), self: nil) == .bool(true))
        #expect(try Self.evaluate("self.nope == 1" + repeated(" && true", 10_000) + " && false", self: [:]) == .bool(false))
        #expect(throws: CELError.evaluation("no such key: nope")) { try Self.evaluate("self.nope == 1" + repeated(" || false", 10_000), self: [:]) }
        #expect(try Self.evaluate(repeated("false || ", 10_000) + "self", self: true) == .bool(true))
        // The worst a 100,000-character rule can do within the depth limit: every level a
        // chain of ||, and of && inside it; it parses, evaluates and is released.
        let level = repeated("false || ", 24) + "(" + repeated("true && ", 24)
        let deep = repeated(level, 200) + "true" + repeated(")", 200)
        #expect(deep.unicodeScalars.count < CELParser.maxCodePoints)
        #expect(try Self.evaluate(deep, self: nil) == .bool(true))
        let large = "'" + repeated("a", CELParser.maxCodePoints - 1) + "'"
        #expect(throws: CELError.syntax("expression code point size exceeds limit: size: 100001, limit 100000")) { try CELParser.parse(large) }
    }

    /// `[[[…[7]…]]]`, `depth` lists deep.
    static func nested(_ depth: Int) -> JSONValue {
        var value: JSONValue = 7
        for _ in 0..<depth { value = .array([value]) }
        return value
    }

    @Test("patterns match as RE2 does: $ ends the text (ICU's would also match before a final line break), in a CRD's pattern and in CEL's matches()")
    func re2DollarAnchors() throws {
        #expect(RegexCache.matches("^[a-z]+$", "abc") == true)
        #expect(RegexCache.matches("^[a-z]+$", "abc\n") == false)
        #expect(RegexCache.matches("^a$|^b$", "b") == true)
        #expect(RegexCache.matches("^[$]$", "$") == true)
        #expect(RegexCache.matches("^\\$$", "$") == true)
        #expect(RegexCache.matches("(?m)^a$", "a\nb") == true)
        #expect(RegexCache.matches("(?i)^A$", "a\n") == false)
        #expect(RegexCache.matches("([", "x") == nil)
        #expect(try Self.evaluate("self.matches('^[a-z]+$')", self: "abc\n") == .bool(false))
        #expect(try Self.evaluate("self.matches('^[a-z]+$')", self: "abc") == .bool(true))
        #expect(throws: CELError.evaluation("invalid regular expression: (")) { try Self.evaluate("self.matches('(')", self: "x") }
    }

    static let rayJobs = ResourceType(group: "ray.io", version: "v1", kind: "RayJob", plural: "rayjobs", namespaced: true)

    static func rayJobCRD() throws -> JSONValue { try SimulatedOperators.crd(.ray) }

    static func rayJob(_ name: String, spec: JSONValue) -> JSONValue {
        ["apiVersion": "ray.io/v1", "kind": "RayJob", "metadata": ["name": .string(name), "namespace": "default"], "spec": spec]
    }

    @Test("KubeRay's RayJob rules: deletionStrategy's has()/!/&&/|| rules and managedBy's 'in' list and self == oldSelf transition rule, with their messages")
    func rayJobRules() async throws {
        try await KubeSandbox.with { _, client in
            _ = try await client.create(Fixtures.crdType, try Self.rayJobCRD())
            // Both legacy policies and deletionRules: the first rule fails with its message.
            do {
                _ = try await client.create(Self.rayJobs, Self.rayJob("both", spec: ["entrypoint": "python x.py", "deletionStrategy": [
                    "onSuccess": ["policy": "DeleteCluster"], "onFailure": ["policy": "DeleteNone"],
                    "deletionRules": [["policy": "DeleteCluster", "condition": ["jobStatus": "SUCCEEDED"]]],
                ]]))
                Issue.record("accepted")
            } catch let error as KubeAPIError {
                #expect(error.code == 422)
                #expect(error.status.message == #"RayJob.ray.io "both" is invalid: spec.deletionStrategy: Invalid value: "object": legacy policies (onSuccess/onFailure) and deletionRules cannot be used together within the same deletionStrategy"#)
            }
            // A deletion condition naming both statuses, inside a list item.
            do {
                _ = try await client.create(Self.rayJobs, Self.rayJob("cond", spec: ["entrypoint": "python x.py", "deletionStrategy": [
                    "deletionRules": [["policy": "DeleteCluster", "condition": ["jobStatus": "SUCCEEDED", "jobDeploymentStatus": "Failed"]]],
                ]]))
                Issue.record("accepted")
            } catch let error as KubeAPIError {
                #expect(error.status.message?.contains(#"spec.deletionStrategy.deletionRules[0].condition: Invalid value: "object": JobStatus and JobDeploymentStatus cannot be used together within the same deletion condition."#) == true)
            }
            // managedBy must be one of two values, and then never changes.
            do {
                _ = try await client.create(Self.rayJobs, Self.rayJob("owner", spec: ["entrypoint": "python x.py", "managedBy": "someone-else"]))
                Issue.record("accepted")
            } catch let error as KubeAPIError {
                #expect(error.status.message?.hasSuffix(#"spec.managedBy: Invalid value: "string": the managedBy field value must be either 'ray.io/kuberay-operator' or 'kueue.x-k8s.io/multikueue'"#) == true)
            }
            var created = try await client.create(Self.rayJobs, Self.rayJob("managed", spec: ["entrypoint": "python x.py", "managedBy": "ray.io/kuberay-operator"]))
            created["spec"]?["managedBy"] = "kueue.x-k8s.io/multikueue"
            do {
                _ = try await client.update(Self.rayJobs, created)
                Issue.record("a transition rule was not enforced")
            } catch let error as KubeAPIError {
                #expect(error.status.message == #"RayJob.ray.io "managed" is invalid: spec.managedBy: Invalid value: "string": the managedBy field is immutable"#)
            }
            // An unchanged managedBy passes the transition rule on other updates.
            created["spec"]?["managedBy"] = "ray.io/kuberay-operator"
            created["spec"]?["entrypoint"] = "python y.py"
            _ = try await client.update(Self.rayJobs, created)
        }
    }

    @Test("a rule the sandbox cannot evaluate is reported once as a warning when the CRD is created, and messageExpression and reason shape the error")
    func unsupportedRuleWarns() async throws {
        try await KubeSandbox.with { _, client in
            let crd: JSONValue = [
                "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": ["name": "widgets.example.com"],
                "spec": ["group": "example.com", "scope": "Namespaced", "names": ["plural": "widgets", "kind": "Widget"],
                         "versions": [["name": "v1", "served": true, "storage": true, "schema": ["openAPIV3Schema": [
                            "type": "object",
                            "properties": ["spec": [
                                "type": "object",
                                "properties": ["size": ["type": "integer"], "memory": ["type": "string"]],
                                "x-kubernetes-validations": [
                                    ["rule": "self.size <= 10", "messageExpression": "'size ' + string(self.size) + ' is over 10'", "reason": "FieldValueForbidden", "fieldPath": ".size"],
                                    ["rule": "quantity(self.memory).isLessThan(quantity('1Gi'))", "message": "too much memory"],
                                ],
                            ]],
                         ]]]]],
            ]
            let response = try await client.raw(method: "POST", path: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body: crd.serialized(), contentType: "application/json")
            #expect(response.status == 201)
            #expect(response.warnings.count == 1)
            #expect(response.warnings.first?.contains(#"cannot evaluate the x-kubernetes-validations rule "quantity(self.memory).isLessThan(quantity('1Gi'))" at v1:spec"#) == true)
            let widgets = ResourceType(group: "example.com", version: "v1", kind: "Widget", plural: "widgets", namespaced: true)
            do {
                _ = try await client.create(widgets, ["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "w", "namespace": "default"], "spec": ["size": 12, "memory": "2Gi"]])
                Issue.record("accepted")
            } catch let error as KubeAPIError {
                #expect(error.status.message == #"Widget.example.com "w" is invalid: spec.size: Forbidden: size 12 is over 10"#)
            }
        }
    }
}

