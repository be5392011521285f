import Foundation
import KubeClient

/// Flyte's TaskAction CRD (a copy of `shared/fixtures/flyte.org_taskactions.yaml`, so the tests
/// need nothing outside the repository).
enum Fixtures {
    static var directory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Fixtures"
    }

    static func taskActionCRD() throws -> JSONValue {
        let text = try String(contentsOfFile: directory + "/flyte.org_taskactions.yaml", encoding: .utf8)
        guard let crd = try JSONValue.documents(yaml: text).first else { throw KubeClientError.decoding("empty CRD fixture") }
        return crd
    }

    static let crdType = ResourceType.customResourceDefinitions
    static let taskActions = ResourceType(group: "flyte.org", version: "v1", kind: "TaskAction", plural: "taskactions", namespaced: true)

    static func taskAction(_ name: String, runName: String = "run-1", extra: [String: JSONValue] = [:]) -> JSONValue {
        var spec: JSONValue = ["runName": .string(runName), "actionName": "a0", "project": "p", "domain": "development", "taskType": "container"]
        for (k, v) in extra { spec[k] = v }
        return ["apiVersion": "flyte.org/v1", "kind": "TaskAction", "metadata": ["name": .string(name), "namespace": "default"], "spec": spec]
    }
}
