import ExecutorAPI
import Foundation
import KubeClient
import KubeSandbox
import Testing

@Suite("TaskAction CRD")
struct CRDTests {
    /// The schema without descriptions, which are prose.
    static func stripped(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            var out: [String: JSONValue] = [:]
            for (k, v) in members where k != "description" { out[k] = stripped(v) }
            return .object(out)
        case .array(let items): return .array(items.map(stripped))
        default: return value
        }
    }

    @Test("the generated schema, printer columns and names equal Flyte's, descriptions aside")
    func matchesFlyte() throws {
        let flyte = try Fixtures.flyteCRD()
        let ours = TaskActionSchema.crd
        #expect(ours["spec"]?["names"] == flyte["spec"]?["names"])
        #expect(ours["spec"]?["scope"] == flyte["spec"]?["scope"])
        #expect(ours["spec"]?["group"] == flyte["spec"]?["group"])
        let flyteVersion = try #require(flyte["spec"]?["versions"]?.arrayValue?.first)
        let ourVersion = try #require(ours["spec"]?["versions"]?.arrayValue?.first)
        #expect(ourVersion["additionalPrinterColumns"] == flyteVersion["additionalPrinterColumns"])
        #expect(ourVersion["subresources"] == flyteVersion["subresources"])
        let flyteSchema = Self.stripped(flyteVersion["schema"]?["openAPIV3Schema"] ?? .null)
        let ourSchema = Self.stripped(ourVersion["schema"]?["openAPIV3Schema"] ?? .null)
        for part in ["spec", "status"] {
            let theirs = flyteSchema["properties"]?[part]
            let mine = ourSchema["properties"]?[part]
            #expect(mine?["required"] == theirs?["required"], "\(part) required")
            let names = Set(theirs?["properties"]?.objectValue?.keys.map { $0 } ?? [])
            #expect(Set(mine?["properties"]?.objectValue?.keys.map { $0 } ?? []) == names, "\(part) properties")
            for name in names.sorted() {
                #expect(mine?["properties"]?[name] == theirs?["properties"]?[name], "\(part).\(name)")
            }
        }
        #expect(ourSchema["required"] == flyteSchema["required"])
    }

    @Test("the schema's properties are exactly the Swift model's fields")
    func schemaMatchesModel() {
        let spec = Set(TaskActionSchema.spec["properties"]?.objectValue?.keys.map { $0 } ?? [])
        #expect(spec == Set(TaskActionSpec.CodingKeys.allCases.map(\.rawValue)))
        let status = Set(TaskActionSchema.status["properties"]?.objectValue?.keys.map { $0 } ?? [])
        #expect(status == Set(TaskActionStatus.CodingKeys.allCases.map(\.rawValue)))
    }

    @Test("the committed config/crd/bases file is what executor manifests writes")
    func committedFileIsCurrent() throws {
        let path = Fixtures.repositoryRoot + "/config/crd/bases/flyte.org_taskactions.yaml"
        let committed = try String(contentsOfFile: path, encoding: .utf8)
        #expect(committed == (try TaskActionSchema.yaml()), "config/crd/bases is stale: run `make manifests`")
    }

    @Test("the committed YAML reads back as the generated CRD")
    func yamlReadsBack() throws {
        let path = Fixtures.repositoryRoot + "/config/crd/bases/flyte.org_taskactions.yaml"
        let parsed = try #require(try JSONValue.documents(yaml: try String(contentsOfFile: path, encoding: .utf8)).first)
        #expect(parsed == TaskActionSchema.crd)
    }

    @Test("the API server with the generated CRD accepts Flyte's field set and rejects what Flyte's rejects")
    func validation() async throws {
        try await KubeSandbox.with { _, client in
            _ = try await client.create(Fixtures.crdType, TaskActionSchema.crd)
            var full = Fixtures.taskAction("full")
            full.spec.parentActionName = "a0"
            full.spec.actionType = "task"
            full.spec.cacheKey = "k"
            full.spec.shortName = "say_hello"
            full.spec.interruptible = true
            full.spec.group = "g"
            full.spec.conditionSpec = Data([1, 2]).base64EncodedString()
            let created = try await client.create(full)
            #expect(created.spec == full.spec)

            var long = Fixtures.taskAction("long")
            long.spec.runName = String(repeating: "r", count: 31)
            await #expect(throws: KubeAPIError.self) { _ = try await client.create(long) }
            do {
                _ = try await client.create(long)
            } catch let error as KubeAPIError {
                #expect(error.isInvalid)
                #expect(error.status.message?.contains("spec.runName") == true)
            }
            var badType = Fixtures.taskAction("bad-type")
            badType.spec.actionType = "workflow"
            await #expect(throws: KubeAPIError.self) { _ = try await client.create(badType) }
            let missing: JSONValue = ["apiVersion": "flyte.org/v1", "kind": "TaskAction", "metadata": ["name": "missing", "namespace": "default"], "spec": ["runName": "r", "project": "p", "domain": "d"]]
            await #expect(throws: KubeAPIError.self) { _ = try await client.create(TaskAction.resourceType, missing, namespace: "default") }
        }
    }
}
