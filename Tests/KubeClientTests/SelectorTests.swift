import KubeClient
import Testing

@Suite("Label and field selectors")
struct SelectorTests {
    @Test("parses every operator and matches as the API server does")
    func labelOperators() throws {
        let s = try LabelSelector(parsing: "app=web, tier!=db,env in (prod, staging),team notin (x),release,!legacy,n>3")
        #expect(s.requirements.count == 7)
        #expect(s.matches(["app": "web", "tier": "fe", "env": "prod", "team": "y", "release": "1", "n": "4"]))
        #expect(!s.matches(["app": "web", "tier": "fe", "env": "prod", "team": "y", "release": "1", "n": "4", "legacy": "1"]))
        #expect(!s.matches(["app": "web", "tier": "fe", "env": "dev", "team": "y", "release": "1", "n": "4"]))
        #expect(!s.matches(["app": "web", "env": "prod", "team": "x", "release": "1", "n": "4"]))
    }

    @Test("a missing label satisfies != and notin")
    func missingLabels() throws {
        #expect(try LabelSelector(parsing: "a!=b").matches([:]))
        #expect(try LabelSelector(parsing: "a notin (b)").matches([:]))
        #expect(try !LabelSelector(parsing: "a in (b)").matches([:]))
    }

    @Test("rejects malformed selectors with a message naming the problem", arguments: [
        "a in b", "a in (b", "=b", "a=b c", "a/b/c=d", "a=-bad-",
    ])
    func rejects(text: String) {
        #expect(throws: SelectorError.self) { try LabelSelector(parsing: text) }
    }

    @Test("field selectors support =, == and != with escaped commas")
    func fields() throws {
        let s = try FieldSelector(parsing: #"metadata.name==a\,b,status.phase!=Running"#)
        #expect(s.requirements == [.init(field: "metadata.name", value: "a,b"), .init(field: "status.phase", value: "Running", negated: true)])
        #expect(s.matches(["metadata.name": "a,b", "status.phase": "Pending"]))
        #expect(!s.matches(["metadata.name": "a,b", "status.phase": "Running"]))
        #expect(throws: SelectorError.self) { try FieldSelector(parsing: "nooperator") }
    }
}
