import ExecutorAPI
import FlyteDataPlane
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntime
import Logging
import SwiftProtobuf
import TaskPlugins

/// Flyte's `core-sleep` plugin: a task that makes nothing and succeeds once the duration given
/// as its one input has passed (a durable sleep in a run). No child, no API call: the attempt's
/// start is kept in its plugin state (so a restart or a new leader does not start the sleep
/// over, as Flyte's in-memory start time does), and the round asks to come back when the
/// sleep ends.
///
/// The template must declare exactly one input, typed as a duration, and no outputs; the
/// input's value is read from `<inputPrefix>/inputs.pb` through the blob store.
final class SleepDriver: PluginDriver {
    static let taskType = "core-sleep"

    let id = SleepDriver.taskType
    let taskTypes = [SleepDriver.taskType]
    let properties = PluginProperties()
    var childResource: ResourceType? { nil }
    var availability: PluginAvailability { .ready }
    let store: any BlobStore
    let now: @Sendable () -> Date

    /// - Parameter store: where the inputs are read; without one, local files only (an `s3://`
    ///   input is then a system error saying no S3 store is configured).
    init(store: (any BlobStore)?, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store ?? BlobStores(s3: nil)
        self.now = now
    }

    func start(manager: Manager, controller: Controller, namespaces: [String?], discovery: Backoff, ownerFinished: @escaping @Sendable (String, String) -> Bool, onReady: @escaping @Sendable () -> Void) {}

    func handle(_ context: TaskExecutionContext, state: PluginState) async throws -> (PhaseInfo, PluginState) {
        var state = state
        let duration: Double
        switch try await Self.duration(context, store: store) {
        case .failure(let problem):
            return (.failure("BadTaskSpecification", problem.message), state)
        case .success(let seconds):
            duration = seconds
        }
        let now = self.now()
        if state.startedAt == nil {
            state.started = true
            state.startedAt = now.timeIntervalSince1970
        }
        let remaining = (state.startedAt ?? 0) + duration - now.timeIntervalSince1970
        if remaining <= 0 { return (.success(), state) }
        var running = PhaseInfo.running()
        running.recheckAfter = .milliseconds(Int64((remaining * 1000).rounded(.up)))
        return (running, state)
    }

    func abort(_ context: TaskExecutionContext) async throws {}
    func release(_ context: TaskExecutionContext) async {}
    func shrinkFinishedChild(namespace: String, name: String) {}

    struct InvalidInput: Error {
        var message: String
    }

    /// The sleep's length in seconds, or why the task is not a valid sleep (Flyte's messages).
    /// Throws when the inputs cannot be read (a system error: retried).
    static func duration(_ context: TaskExecutionContext, store: any BlobStore) async throws -> Result<Double, InvalidInput> {
        let interface = context.template.interface
        guard interface.hasInputs, interface.inputs.variables.count == 1, let input = interface.inputs.variables.first else {
            return .failure(InvalidInput(message: "task type [\(taskType)] requires exactly one duration input"))
        }
        if interface.hasOutputs, !interface.outputs.variables.isEmpty {
            return .failure(InvalidInput(message: "task type [\(taskType)] does not support outputs"))
        }
        guard input.hasValue, input.value.hasType, case .simple(.duration)? = input.value.type.type else {
            return .failure(InvalidInput(message: "input [\(input.key)] must be typed as duration"))
        }
        guard let inputs = try await store.inputs(of: context, maxBytes: 10 * 1024 * 1024) else {
            return .failure(InvalidInput(message: "task type [\(taskType)] requires a duration input value"))
        }
        guard let literal = inputs.literals[input.key] else {
            return .failure(InvalidInput(message: "duration input [\(input.key)] is missing"))
        }
        guard case .duration(let value)? = literal.scalar.primitive.value else {
            return .failure(InvalidInput(message: "duration input [\(input.key)] must be a duration literal"))
        }
        let seconds = Double(value.seconds) + Double(value.nanos) / 1e9
        guard seconds >= 0 else {
            return .failure(InvalidInput(message: "duration input [\(input.key)] must be non-negative"))
        }
        return .success(seconds)
    }
}
