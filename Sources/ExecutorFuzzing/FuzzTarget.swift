import ExecutorAPI
import ExecutorControllers
import FlyteDataPlane
import FlyteIDL
import Foundation
import KubeClient
import KubeSandbox
import SwiftProtobuf
import TaskPlugins

/// The bytes the executor accepts from the network and from its users, one fuzz target each.
/// `make fuzz` runs every target under libFuzzer with AddressSanitizer (the `Fuzz/` package);
/// `make test` replays the committed seeds and every input that ever crashed
/// (`Fuzz/corpus/<target>/`, `Fuzz/regressions/<target>/`). Errors for bad input are
/// expected; a crash, a hang or a failed `precondition` is a finding.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A watch response body: the line splitter fed in uneven chunks, each line decoded as an
    /// event of Pods (full and the cache's status view), TaskActions and `JSONValue`.
    case watchStream = "watch-stream"
    /// `JSONParser` (the tree) and `JSONReader` (the models' byte decoder).
    case json
    /// YAML: a kubeconfig and the executor's config file.
    case yaml
    /// Label and field selectors.
    case selectors
    /// `spec.taskTemplate` bytes through the Pod, Spark and Ray plugins' build.
    case taskTemplate = "task-template"
    /// The sandbox's structural-schema pruning and validation with the TaskAction CRD.
    case schema
    /// The sandbox's JSON patch, merge patch and strategic merge patch.
    case patch
    /// The sandbox's CEL rules (`x-kubernetes-validations`).
    case cel
    /// A Pod's `flyte.secrets/s<N>` annotations as the secrets webhook reads them (any user
    /// who can create a labelled Pod writes them): one annotation per line.
    case secretAnnotations = "secret-annotations"

    /// Runs one input.
    public func run(_ bytes: [UInt8]) {
        switch self {
        case .watchStream: Self.watchStream(bytes)
        case .json: Self.json(bytes)
        case .yaml: Self.yaml(bytes)
        case .selectors: Self.selectors(bytes)
        case .taskTemplate: Self.taskTemplate(bytes)
        case .schema: Self.taskActionSchema.run(bytes)
        case .patch: SandboxFuzzing.patch(bytes)
        case .cel: SandboxFuzzing.cel(bytes)
        case .secretAnnotations: Self.secretAnnotations(bytes)
        }
    }

    static let taskActionSchema = SandboxFuzzing.Schema(crd: TaskActionSchema.crd)

    static func watchStream(_ bytes: [UInt8]) {
        var lines = WatchLineDecoder(maxLineBytes: 1 << 16)
        // The first byte sets the chunk size, so the fuzzer explores where reads split a line.
        let chunk = Int(bytes.first ?? 7) % 61 + 1
        var seen = 0
        func drain(_ lines: inout WatchLineDecoder) -> Bool {
            do {
                while let line = try lines.nextLine() {
                    seen += line.count
                    _ = try? WatchEventDecoder.dynamic(line)
                    _ = try? WatchEventDecoder.typed(line, as: Pod.self)
                    _ = try? WatchEventDecoder.typed(line, as: Pod.self, decoder: Pod.statusViewDecoder)
                    _ = try? WatchEventDecoder.typed(line, as: TaskAction.self)
                }
                return true
            } catch {
                return false  // an oversized line ends the stream, as it ends a watch
            }
        }
        for offset in stride(from: 0, to: bytes.count, by: chunk) {
            lines.append(bytes[offset..<min(bytes.count, offset + chunk)])
            guard drain(&lines) else { return }
        }
        lines.finish()
        guard drain(&lines) else { return }
        // Lines come out without their newlines: never more bytes than went in.
        precondition(seen <= bytes.count)
    }

    static func json(_ bytes: [UInt8]) {
        if let value = try? JSONValue.parse(bytes) {
            // What was parsed serializes to JSON that parses back and serializes to the same
            // text (a number may change form, 1E2 to 100, but only once).
            let text = value.serialized(sortedKeys: true)
            guard let again = try? JSONValue.parse(text) else { preconditionFailure("serialized JSON does not parse: \(String(decoding: text.prefix(300), as: UTF8.self))") }
            precondition(again.serialized(sortedKeys: true) == text, "JSON round trip changed \(String(decoding: text.prefix(300), as: UTF8.self)) into \(String(decoding: again.serialized(sortedKeys: true).prefix(300), as: UTF8.self))")
        }
        _ = try? JSONReader.withReader(bytes) { try $0.readValue() }
        _ = try? JSONReader.withReader(bytes) { try $0.skipValue() }
        _ = try? JSONBytesDecoder().decode(TaskAction.self, from: bytes)
        _ = try? JSONBytesDecoder().decode(Pod.self, from: bytes)
        _ = try? Pod.statusViewDecoder.decode(Pod.self, from: bytes)
        _ = try? JSONReader.withReader(bytes) { try $0.readRootObject(TaskAction.self) }
    }

    static func yaml(_ bytes: [UInt8]) {
        guard let text = String(validating: bytes, as: UTF8.self) else { return }
        _ = try? JSONValue(yaml: text)
        _ = try? KubeConfigFile.parse(yaml: text, path: "fuzz.kubeconfig")
        _ = try? ExecutorConfig.parse(yaml: text, path: "fuzz.yaml")
    }

    static func selectors(_ bytes: [UInt8]) {
        guard let text = String(validating: bytes, as: UTF8.self) else { return }
        let labels: [String: String] = ["app": "x", "flyte.org/run": "r1", "tier": "", "a.b/c-d_e": "v"]
        if let selector = try? LabelSelector(parsing: text) {
            _ = selector.matches(labels)
            // What a selector prints parses back to a selector that prints the same.
            guard let again = try? LabelSelector(parsing: selector.description) else { preconditionFailure("label selector \"\(selector)\" does not parse") }
            precondition(again.description == selector.description, "label selector round trip: \"\(selector)\" → \"\(again)\"")
        }
        if let selector = try? FieldSelector(parsing: text) {
            _ = selector.matches(["metadata.name": "x", "status.phase": "Running"])
            guard let again = try? FieldSelector(parsing: selector.description) else { preconditionFailure("field selector \"\(selector)\" does not parse") }
            precondition(again.description == selector.description, "field selector round trip: \"\(selector)\" → \"\(again)\"")
        }
    }

    static func taskTemplate(_ bytes: [UInt8]) {
        guard let template = try? Flyteidl2_Core_TaskTemplate(serializedBytes: bytes) else { return }
        var spec = TaskActionSpec(runName: "fuzz", project: "p", domain: "d", actionName: "a0", taskType: template.type, taskTemplate: nil,
                                  inputUri: "s3://bucket/metadata/fuzz/a0/inputs.pb", runOutputBase: "s3://bucket/data/fuzz")
        spec.taskTemplate = Data(bytes).base64EncodedString()
        var metadata = ObjectMeta(name: "fuzz-a0", namespace: "default")
        metadata.uid = "00000000-0000-0000-0000-000000000001"
        let taskAction = TaskAction(metadata: metadata, spec: spec)
        let now = Date(timeIntervalSince1970: 1_764_000_000)
        for attempt in 1...2 {
            var context = TaskExecutionContext(taskAction: taskAction, template: template, properties: PluginProperties(), config: PluginConfig(), now: now)
            context.attempt = attempt
            _ = try? PodPlugin().build(context)
            _ = try? SparkPlugin().build(context)
            _ = try? RayPlugin().build(context)
        }
        // The task cache's key of this template, with the same bytes read as its inputs: it
        // never traps, and a LiteralMap written and read back hashes the same.
        let inputs = (try? Flyteidl2_Core_LiteralMap(serializedBytes: bytes)) ?? Flyteidl2_Core_LiteralMap()
        if let key = try? CacheKey(task: template.id, interface: template.interface, inputs: inputs, ignoredInputs: template.metadata.cacheIgnoreInputVars, cacheVersion: "v1") {
            let again = try? CacheKey(task: template.id, interface: template.interface,
                                      inputs: (try? Flyteidl2_Core_LiteralMap(serializedBytes: inputs.serializedBytes() as [UInt8])) ?? inputs,
                                      ignoredInputs: template.metadata.cacheIgnoreInputVars, cacheVersion: "v1")
            precondition(again == key, "the cache key of a LiteralMap read back differs: \(key) / \(again.map(\.value) ?? "none")")
        }
    }

    static func secretAnnotations(_ bytes: [UInt8]) {
        var annotations: [String: String] = [:]
        for (index, line) in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            annotations[SecretAnnotations.prefix + String(index)] = String(line)
        }
        guard let secrets = try? SecretAnnotations.secrets(in: annotations) else { return }
        // What the webhook read, written as the executor writes it, reads back the same.
        let again = try? SecretAnnotations.secrets(in: SecretAnnotations.annotations(secrets))
        precondition(again == secrets, "secrets read from annotations do not survive being written again: \(secrets)")
    }
}
