import ArgumentParser
import ExecutorControllers
import Foundation
import Logging
import TaskPlugins

/// The kinds `get`, `describe` and `watch` accept, with kubectl's spellings.
enum InspectedKind: String, ExpressibleByArgument, CaseIterable {
    case taskactions, apps

    init?(argument: String) {
        switch argument.lowercased() {
        case "taskactions", "taskaction", "ta", "taskactions.flyte.org": self = .taskactions
        case "apps", "app", "apps.flyte.org": self = .apps
        default: return nil
        }
    }
}

/// `executor get taskactions|apps`: a table like kubectl's.
struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "List TaskActions or Apps: phase, attempt, age and duration.",
                                                    discussion: "Examples:\n  executor get taskactions -A --phase failed\n  executor get ta --run r1 -o wide\n  executor get apps")

    @Argument(help: "taskactions (ta) or apps.")
    var kind: InspectedKind

    @OptionGroup var cluster: ClusterOptions

    @Flag(name: [.customShort("A"), .customLong("all-namespaces")], help: "Every namespace.")
    var allNamespaces = false

    @Option(name: [.short, .customLong("selector")], help: "A label selector, e.g. flyte.org/run=r1.")
    var selector: String?

    @Option(help: "Only TaskActions in this phase (Queued, Initializing, Running, Succeeded, Failed, Aborted, TimedOut, Paused, Pending).")
    var phase: String?

    @Option(help: "Only the TaskActions of this run.")
    var run: String?

    @Option(name: [.short, .customLong("output")], help: "table (default), wide, json or yaml.")
    var output: String = "table"

    func validate() throws {
        guard Inspector.Format(rawValue: output) != nil else { throw ValidationError("--output must be one of table, wide, json, yaml; not \"\(output)\"") }
        if kind == .apps, phase != nil || run != nil { throw ValidationError("--phase and --run apply to taskactions") }
    }

    func run() async throws {
        try await CLIErrors.oneLine {
            try await cluster.inspect { inspector, namespace in
                let format = Inspector.Format(rawValue: output) ?? .table
                let scope = allNamespaces ? nil : namespace
                let (text, empty): (String, String?)
                switch kind {
                case .taskactions:
                    let items = try await inspector.taskActions(Inspector.Query(namespace: scope, labelSelector: selector, phase: phase, run: run))
                    (text, empty) = (try inspector.renderTaskActions(items, format: format, allNamespaces: allNamespaces), items.isEmpty ? "TaskActions" : nil)
                case .apps:
                    let items = try await inspector.apps(namespace: scope, labelSelector: selector)
                    (text, empty) = (try inspector.renderApps(items, format: format, allNamespaces: allNamespaces), items.isEmpty ? "Apps" : nil)
                }
                if let empty, format == .table || format == .wide {
                    FileHandle.standardError.write(Data("No \(empty) found\(scope.map { " in namespace \($0)" } ?? "").\n".utf8))
                }
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }
    }
}

/// `executor describe taskaction NAME`: spec, timeline, attempts, error, events.
struct DescribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "describe", abstract: "Show a TaskAction's spec, timeline of phases, attempts with their child objects, error and Events.",
                                                    discussion: "Example:\n  executor describe taskaction sample-run-a1 --kubeconfig sandbox.kubeconfig")

    @Argument(help: "taskaction (ta).")
    var kind: InspectedKind

    @Argument(help: "The TaskAction's name.")
    var name: String

    @OptionGroup var cluster: ClusterOptions

    func validate() throws {
        guard kind == .taskactions else { throw ValidationError("describe supports taskaction; for apps use `executor get apps -o yaml`") }
    }

    func run() async throws {
        try await CLIErrors.oneLine {
            try await cluster.inspect { inspector, namespace in
                FileHandle.standardOutput.write(Data(try await inspector.describe(name, namespace: namespace).utf8))
            }
        }
    }
}

/// `executor watch taskaction NAME` (or `-l`, `--run`): transitions as they happen; exit 0
/// when all succeeded, 1 when any did not, 2 when it could not watch.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "watch", abstract: "Print TaskAction phase changes as they happen; exit 0 once all succeeded, 1 if any failed.",
                                                    discussion: "Exit codes: 0 every watched TaskAction succeeded; 1 one failed, timed out, was aborted or deleted; 2 the watch could not be made (no CRD, RBAC, unknown name).\nExamples:\n  executor watch taskaction r1-a0\n  executor watch ta --run r1")

    @Argument(help: "taskaction (ta).")
    var kind: InspectedKind

    @Argument(help: "The TaskAction's name; or select with --selector / --run.")
    var name: String?

    @OptionGroup var cluster: ClusterOptions

    @Option(name: [.short, .customLong("selector")], help: "A label selector.")
    var selector: String?

    @Option(help: "Every TaskAction of this run.")
    var run: String?

    func validate() throws {
        guard kind == .taskactions else { throw ValidationError("watch supports taskaction") }
        guard name != nil || selector != nil || run != nil else { throw ValidationError("name a TaskAction, or select with --selector or --run") }
    }

    func run() async throws {
        let outcome = try await CLIErrors.oneLine {
            try await cluster.inspect { inspector, namespace in
                try await inspector.watch(name: name, query: Inspector.Query(namespace: namespace, labelSelector: selector, run: run)) { line in
                    FileHandle.standardOutput.write(Data((line + "\n").utf8))
                }
            }
        }
        if outcome == .failed { throw ExitCode(1) }
    }
}

/// Errors of the people-facing commands: one line on standard error, exit code 2.
enum CLIErrors {
    static func oneLine<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ExitCode {
            throw error
        } catch {
            FileHandle.standardError.write(Data("executor: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}

extension ExecutorCLI {
    /// The registered plugins as a registry, to name each task type's child kind.
    static func registry() -> PluginRegistry {
        var logger = Logger(label: "plugins")
        logger.logLevel = .error
        return PluginRegistration.registry(plugins, config: ExecutorConfig(), logger: logger)
    }
}
