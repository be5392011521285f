import Foundation
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

    @Test("the unique key replaces a leading non-letter run with a and other runs with _")
    func uniqueKey() {
        #expect(TemplateRenderer.uniqueKey("9abc-def--0") == "aabc_def_0")
        #expect(TemplateRenderer.uniqueKey("_ok") == "_ok")
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
}
