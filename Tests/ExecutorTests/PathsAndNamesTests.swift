import FlyteIDL
import Foundation
import SwiftProtobuf
import Testing
@testable import TaskPlugins

@Suite("Paths, names and templates")
struct PathsAndNamesTests {
    @Test("the output shard matches Go's FNV-1a vectors")
    func shard() {
        #expect(TaskPaths.shard(namespace: "flyte", name: "my-action-abc") == "hu")
        #expect(TaskPaths.shard(namespace: "ns-a", name: "action-1") == "97")
        #expect(TaskPaths.shard(namespace: "development", name: "r1-a0") == "8u")
    }

    @Test("the action output path puts the shard under the bucket")
    func outputPath() {
        let paths = TaskPaths(namespace: "flyte", name: "my-action-abc", inputUri: "s3://my-bucket/meta/inputs.pb", runOutputBase: "s3://my-bucket/org/proj/dev/run123", actionName: "action-0", attempt: 1)
        #expect(paths.outputPrefix == "s3://my-bucket/hu/org/proj/dev/run123/action-0/1")
        #expect(paths.inputPrefix == "s3://my-bucket/meta")
        #expect(paths.inputPath == "s3://my-bucket/meta/inputs.pb")
        #expect(paths.previousCheckpointPrefix == nil)
        let second = TaskPaths(namespace: "flyte", name: "my-action-abc", inputUri: "s3://b/x", runOutputBase: "s3://my-bucket/org/proj/dev/run123", actionName: "action-0", attempt: 2)
        #expect(second.previousCheckpointPrefix == "s3://my-bucket/hu/org/proj/dev/run123/action-0/1/_flytecheckpoints")
        #expect(second.checkpointOutputPrefix == "s3://my-bucket/hu/org/proj/dev/run123/action-0/2/_flytecheckpoints")
    }

    @Test("placeholders render case-insensitively with either sigil and inner whitespace")
    func render() throws {
        let paths = TaskPaths(namespace: "flyte", name: "my-action-abc", inputUri: "s3://b/in", runOutputBase: "s3://my-bucket/run", actionName: "a", attempt: 1)
        let r = TemplateRenderer(paths: paths, generatedName: "my-action-abc-0", namespace: "flyte")
        #expect(try r.render("{{.input}}") == "s3://b/in/inputs.pb")
        #expect(try r.render("{{ $Input }}") == "s3://b/in/inputs.pb")
        #expect(try r.render("--out={{.OUTPUTPREFIX}}") == "--out=s3://my-bucket/hu/run/a/1")
        #expect(try r.render("{{.rawOutputDataPrefix}}") == "s3://my-bucket/hu/run/a/1")
        #expect(try r.render("{{.inputPrefix}}") == "s3://b/in")
        #expect(try r.render("{{.prevCheckpointPrefix}}") == "\"\"")
        #expect(try r.render("{{.checkpointOutputPrefix}}") == "s3://my-bucket/hu/run/a/1/_flytecheckpoints")
        #expect(try r.render("{{.perRetryUniqueKey}}") == "my_action_abc_0")
        #expect(try r.render("{{.taskTemplatePath}}") == "inline://taskTemplate")
        #expect(try r.render("{{.namespace}}") == "flyte")
        #expect(try r.render("{{.runName}}") == "{{.runName}}")
        #expect(try r.render("{{. input}}") == "{{. input}}")
        #expect(throws: TemplateRenderer.RenderError.self) { try r.render("{{.Inputs.x}}") }
    }

    @Test("a datetime input renders as Go's ptypes.TimestampString: RFC 3339 in UTC, nanoseconds without trailing zeros")
    func datetimeInput() throws {
        func rendered(_ seconds: Int64, _ nanos: Int32) throws -> String {
            var literal = Flyteidl2_Core_Literal()
            literal.scalar.primitive.datetime = Google_Protobuf_Timestamp(seconds: seconds, nanos: nanos)
            return try LocalInputs.render(literal)
        }
        // What Go's time.Time.Format(time.RFC3339Nano) writes for these.
        #expect(try rendered(0, 0) == "1970-01-01T00:00:00Z")
        #expect(try rendered(1_700_000_000, 500_000_000) == "2023-11-14T22:13:20.5Z")
        #expect(try rendered(1_700_000_000, 123_456_789) == "2023-11-14T22:13:20.123456789Z")
        #expect(try rendered(1_700_000_000, 1_000) == "2023-11-14T22:13:20.000001Z")
        #expect(try rendered(-1, 0) == "1969-12-31T23:59:59Z")
        #expect(try rendered(951_782_400, 0) == "2000-02-29T00:00:00Z")
        #expect(try rendered(-62_135_596_800, 0) == "0001-01-01T00:00:00Z")
        #expect(try rendered(253_402_300_799, 999_999_999) == "9999-12-31T23:59:59.999999999Z")
        // Outside protobuf's range Go prints the error in parentheses.
        #expect(try rendered(253_402_300_800, 0).hasSuffix("after 10000-01-01)"))
        #expect(try rendered(-62_135_596_801, 0).hasSuffix("before 0001-01-01)"))
        #expect(try rendered(0, 1_000_000_000).hasSuffix("nanos not in range [0, 1e9))"))
    }

    @Test("the unique key replaces a leading non-letter run with a and other runs with _")
    func uniqueKey() {
        #expect(TemplateRenderer.uniqueKey("9abc-def--0") == "aabc_def_0")
        #expect(TemplateRenderer.uniqueKey("_ok") == "_ok")
        #expect(TemplateRenderer.uniqueKey("x--y.Z_9") == "x_y_Z_9")
        #expect(TemplateRenderer.uniqueKey("--") == "a")
        #expect(TemplateRenderer.uniqueKey("") == "")
        // Not ASCII: by Characters, with the same rules.
        #expect(TemplateRenderer.uniqueKey("\u{e9}-x") == "ax")
        #expect(TemplateRenderer.uniqueKey("x-\u{e9}-y") == "x_y")
    }

    @Test("generated names are <name>-<attempt-1>, hashed past the plugin's maximum")
    func names() {
        #expect(ChildNames.generated(taskAction: "r1-a0", attempt: 1) == "r1-a0-0")
        #expect(ChildNames.generated(taskAction: "r1-a0", attempt: 3) == "r1-a0-2")
        let long = ChildNames.generated(taskAction: String(repeating: "x", count: 60), attempt: 1, maxLength: 47)
        #expect(long.hasPrefix("f"))
        #expect(long.count == 8)
        #expect(ChildNames.sanitize("MyAction_Name.") == "my-actionname")
    }

    @Test("label values keep [-._a-zA-Z0-9], cut at 63 and trim to alphanumeric ends; other characters become one - each")
    func labelValues() {
        #expect(ChildNames.labelValue("My_Project.v1") == "My_Project.v1")
        #expect(ChildNames.labelValue("-_.abc.-_") == "abc")
        #expect(ChildNames.labelValue(String(repeating: "a", count: 62) + "-b") == String(repeating: "a", count: 62))
        #expect(ChildNames.labelValue(String(repeating: "x", count: 70)) == String(repeating: "x", count: 63))
        #expect(ChildNames.labelValue("h\u{e9}llo w\u{f6}rld") == "h-llo-w-rld")
        // A grapheme of several scalars is one character, so one dash.
        #expect(ChildNames.labelValue("ab\r\ncd") == "ab-cd")
        #expect(ChildNames.labelValue("e\u{301}x") == "x")
        #expect(ChildNames.labelValue("---") == "")
        #expect(ChildNames.labelValue("") == "")
    }

    @Test("output paths of plain paths, of a scheme without a bucket path, and of a : without //")
    func outputPathForms() {
        #expect(TaskPaths.actionOutputPath(namespace: "flyte", name: "my-action-abc", runOutputBase: "/data/runs/", actionName: "a", attempt: 1) == "/hu/data/runs/a/1")
        #expect(TaskPaths.actionOutputPath(namespace: "flyte", name: "my-action-abc", runOutputBase: "gs://bucket", actionName: "a", attempt: 0) == "gs://bucket/hu/a/1")
        #expect(TaskPaths.actionOutputPath(namespace: "flyte", name: "my-action-abc", runOutputBase: "c:/x", actionName: "a", attempt: 2) == "/hu/c:/x/a/2")
        #expect(TaskPaths.actionOutputPath(namespace: "flyte", name: "my-action-abc", runOutputBase: "a:/b://c/d", actionName: "a", attempt: 1) == "a:/b://c/hu/d/a/1")
    }

    @Test("DNS-1123 subdomains: dot-separated labels of [a-z0-9-], 1 to 63 long, alphanumeric at both ends, 253 in all")
    func subdomains() {
        let label = String(repeating: "a", count: 63)
        for valid in ["a", "a-b.c", "a.b-c.d0", "0", label, [label, label, label, String(repeating: "b", count: 61)].joined(separator: ".")] {
            #expect(ChildNames.isDNS1123Subdomain(valid), "\(valid)")
        }
        for invalid in ["", "-a", "a-", "a..b", ".a", "a.", "A", "a_b", label + "a", "a.-b", "a-.b", "\u{e9}", [label, label, label, String(repeating: "b", count: 62)].joined(separator: ".")] {
            #expect(!ChildNames.isDNS1123Subdomain(invalid), "\(invalid)")
        }
        #expect(ChildNames.generated(taskAction: "Run.One", attempt: 1) == "run.one-0")
    }
}
