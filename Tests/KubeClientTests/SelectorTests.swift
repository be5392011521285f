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

    @Test("field selectors split and unescape as apimachinery's fields.ParseSelector: the first operator from the left, a bare = or , in a value refused, and description escapes so it parses back (a fuzzing find)")
    func fieldSelectorGoRules() throws {
        #expect(try FieldSelector(parsing: #"a=b\=c"#).requirements == [.init(field: "a", value: "b=c")])
        #expect(try FieldSelector(parsing: #"a!=x\\y"#).requirements == [.init(field: "a", value: #"x\y"#, negated: true)])
        #expect(try FieldSelector(parsing: "a==").requirements == [.init(field: "a", value: "")])
        #expect(try FieldSelector(parsing: #"a=b\"#).requirements == [.init(field: "a", value: "b")], "a trailing backslash is dropped, as Go drops it")
        for bad in ["a=b==c", "a==b=c", #"a=b\x"#, "=x"] {
            #expect(throws: SelectorError.self, "\(bad)") { try FieldSelector(parsing: bad) }
        }
        let odd = FieldSelector(requirements: [.init(field: "metadata.name", value: #"a,b=c\d"#)])
        #expect(odd.description == #"metadata.name=a\,b\=c\\d"#)
        #expect(try FieldSelector(parsing: odd.description) == odd)
    }
}
