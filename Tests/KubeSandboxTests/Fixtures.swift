import Foundation
import KubeClient

/// Flyte's TaskAction CRD, read from the shared fixtures beside the repository.
enum Fixtures {
    static var sharedDirectory: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.deletingLastPathComponent().path + "/shared/fixtures"
    }

    static func taskActionCRD() throws -> JSONValue {
        let text = try String(contentsOfFile: sharedDirectory + "/flyte.org_taskactions.yaml", encoding: .utf8)
        guard let crd = try JSONValue.documents(yaml: text).first else { throw KubeClientError.decoding("empty CRD fixture") }
        return crd
    }

    static let crdType = ResourceType(group: "apiextensions.k8s.io", version: "v1", kind: "CustomResourceDefinition", plural: "customresourcedefinitions", namespaced: false)
    static let taskActions = ResourceType(group: "flyte.org", version: "v1", kind: "TaskAction", plural: "taskactions", namespaced: true)

    static func taskAction(_ name: String, runName: String = "run-1", extra: [String: JSONValue] = [:]) -> JSONValue {
        var spec: JSONValue = ["runName": .string(runName), "actionName": "a0", "project": "p", "domain": "development", "taskType": "container"]
        for (k, v) in extra { spec[k] = v }
        return ["apiVersion": "flyte.org/v1", "kind": "TaskAction", "metadata": ["name": .string(name), "namespace": "default"], "spec": spec]
    }
}
