@testable import ExecutorControllers
import ExecutorAPI
import FlyteDataPlane
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntimeTesting
import SwiftProtobuf
import TaskPlugins
import Testing

/// Flyte's `core-sleep` plugin: a task that succeeds once its duration input has passed,
/// with no child and its start kept in the plugin state.
@Suite("core-sleep")
struct SleepPluginTests {
    static func template(inputs: [(String, Flyteidl2_Core_SimpleType)] = [("d", .duration)], outputs: Bool = false) -> Flyteidl2_Core_TaskTemplate {
        var t = Flyteidl2_Core_TaskTemplate()
        t.id.name = "flyte.durable.sleep"
        t.type = SleepDriver.taskType
        t.interface.inputs.variables = inputs.map { name, type in
            var entry = Flyteidl2_Core_VariableEntry()
            entry.key = name
            entry.value.type.simple = type
            return entry
        }
        if outputs {
            var out = Flyteidl2_Core_VariableEntry()
            out.key = "o0"
            out.value.type.simple = .string
            t.interface.outputs.variables = [out]
        }
        return t
    }

    static func inputs(_ literals: [String: Flyteidl2_Core_Literal]) throws -> [UInt8] {
        var map = Flyteidl2_Core_LiteralMap()
        map.literals = literals
        return try map.serializedBytes()
    }

    static func duration(_ seconds: Int64, nanos: Int32 = 0) -> Flyteidl2_Core_Literal {
        var literal = Flyteidl2_Core_Literal()
        literal.scalar.primitive.duration = Google_Protobuf_Duration(seconds: seconds, nanos: nanos)
        return literal
    }

    /// A TaskAction whose inputs are the local file `<directory>/<name>/inputs.pb`.
    static func action(_ name: String, template: Flyteidl2_Core_TaskTemplate, directory: URL) throws -> TaskAction {
        var action = Fixtures.taskAction(name, taskType: SleepDriver.taskType, template: try template.serializedBytes())
        action.spec.inputUri = "file://\(directory.path)/\(name)/inputs.pb"
        return action
    }

    static func write(_ bytes: [UInt8], to directory: URL, _ name: String) throws {
        try FileManager.default.createDirectory(at: directory.appendingPathComponent(name), withIntermediateDirectories: true)
        try Data(bytes).write(to: directory.appendingPathComponent("\(name)/inputs.pb"))
    }

    @Test("invalid sleeps fail BadTaskSpecification with Flyte's messages; a valid one runs until its end, counted from the start kept in the plugin state")
    func driver() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sleep-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let driver = SleepDriver(store: nil, now: { now })
        func handle(_ template: Flyteidl2_Core_TaskTemplate, name: String, state: PluginState = PluginState()) async throws -> (PhaseInfo, PluginState) {
            let action = try Self.action(name, template: template, directory: directory)
            let context = TaskExecutionContext(taskAction: action, template: template, properties: driver.properties, config: PluginConfig(), now: now)
            return try await driver.handle(context, state: state)
        }
        try Self.write(try Self.inputs(["d": Self.duration(5, nanos: 500_000_000)]), to: directory, "ok")
        try Self.write(try Self.inputs(["d": Self.duration(-1)]), to: directory, "negative")
        var text = Flyteidl2_Core_Literal()
        text.scalar.primitive.stringValue = "5s"
        try Self.write(try Self.inputs(["d": text]), to: directory, "text")
        try Self.write(try Self.inputs([:]), to: directory, "empty")

        for (template, name, message) in [
            (Self.template(inputs: []), "ok", "task type [core-sleep] requires exactly one duration input"),
            (Self.template(inputs: [("a", .duration), ("b", .duration)]), "ok", "task type [core-sleep] requires exactly one duration input"),
            (Self.template(outputs: true), "ok", "task type [core-sleep] does not support outputs"),
            (Self.template(inputs: [("d", .integer)]), "ok", "input [d] must be typed as duration"),
            (Self.template(), "missing", "task type [core-sleep] requires a duration input value"),
            (Self.template(), "empty", "duration input [d] is missing"),
            (Self.template(), "text", "duration input [d] must be a duration literal"),
            (Self.template(), "negative", "duration input [d] must be non-negative"),
        ] {
            let (info, _) = try await handle(template, name: name)
            #expect(info.phase == .permanentFailure && info.error?.code == "BadTaskSpecification" && info.error?.message == message, "\(message)")
        }

        // First round: running, the start kept, back when the sleep ends.
        let (first, state) = try await handle(Self.template(), name: "ok")
        #expect(first.phase == .running && first.recheckAfter == .milliseconds(5500))
        #expect(state.startedAt == now.timeIntervalSince1970 && state.started)
        #expect(PluginState(base64: state.base64) == state)
        // A later round (or another executor) counts from the kept start.
        var earlier = state
        earlier.startedAt = now.timeIntervalSince1970 - 2
        #expect(try await handle(Self.template(), name: "ok", state: earlier).0.recheckAfter == .milliseconds(3500))
        earlier.startedAt = now.timeIntervalSince1970 - 6
        #expect(try await handle(Self.template(), name: "ok", state: earlier).0.phase == .success)
        // An input in a bucket no store is configured for is a system error (retried), not the task's.
        var remote = try Self.action("ok", template: Self.template(), directory: directory)
        remote.spec.inputUri = "s3://bucket/metadata/r1/ok/inputs.pb"
        await #expect(throws: BlobStoreError.self) {
            _ = try await driver.handle(TaskExecutionContext(taskAction: remote, template: Self.template(), properties: driver.properties, config: PluginConfig(), now: now), state: PluginState())
        }
    }

    @Test("a core-sleep TaskAction runs for its duration with no child and succeeds; a bad one fails")
    func scenario() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sleep-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.write(try Self.inputs(["d": Self.duration(1, nanos: 200_000_000)]), to: directory, "nap")
        try await ExecutorHarness.with { h in
            try await h.create(try Self.action("nap", template: Self.template(), directory: directory))
            try await h.create(try Self.action("nap-bad", template: Self.template(outputs: true), directory: directory))
            let done = try await h.terminal("nap")
            let history = done.status?.phaseHistory ?? []
            #expect(history.map(\.phase) == ["Executing", "Completed"])
            let started = try #require(history.first.flatMap { KubeTime.parse($0.occurredAt) })
            let ended = try #require(history.last.flatMap { KubeTime.parse($0.occurredAt) })
            // Recorded to the second: 1.2 s apart is at least 1 s apart.
            #expect(ended.timeIntervalSince(started) >= 1)
            #expect(try await h.pods().isEmpty)
            let events = h.sink.events.value.filter { $0.id.name == "nap" }
            #expect(events.map(\.phase) == [.running, .succeeded])

            let bad = try await h.terminal("nap-bad")
            #expect(bad.status?.errorState?.code == "BadTaskSpecification")
            #expect(bad.status?.errorState?.message == "task type [core-sleep] does not support outputs")
        }
    }
}
