import ArgumentParser
import ExecutorControllers
import Synchronization

/// The executor's command line as a library, so a package with plugins of its own builds its
/// own `executor` binary without a fork: its `main.swift` is one call.
///
/// ```swift
/// import ExecutorCLI
/// import ExecutorControllers
///
/// await ExecutorCLI.main(plugins: PluginRegistration.builtIn + [.plugin { _ in JobPlugin() }])
/// ```
///
/// The built-in `executor` is that call with ``PluginRegistration/builtIn``. Every subcommand
/// (`run`, `dev`, `manifests`, `plugins`, and `describe` for the child kinds) then uses the
/// given plugins; `manifests` writes their RBAC rules into `config/rbac/role.yaml`.
public enum ExecutorCLI {
    private static let registered = Mutex<[PluginRegistration]>(PluginRegistration.builtIn)

    /// The plugins the subcommands use.
    static var plugins: [PluginRegistration] { registered.withLock { $0 } }

    /// Parses the process's arguments and runs the subcommand with `plugins` registered in
    /// order (the last registration of a task type wins). Exits the process when done.
    public static func main(plugins: [PluginRegistration]) async {
        registered.withLock { $0 = plugins }
        await ExecutorCommand.main()
    }
}

/// The executor's command line.
struct ExecutorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "executor",
        abstract: "A Kubernetes operator that runs Flyte v2 TaskActions.",
        version: BuildInfo.version,
        subcommands: [RunCommand.self, GetCommand.self, DescribeCommand.self, WatchCommand.self, DevCommand.self, SandboxCommand.self, ManifestsCommand.self, PluginsCommand.self, VersionCommand.self])
}

/// Build identity, printed by `executor version`.
enum BuildInfo {
    static let version = "0.1.0"
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the executor's version.")

    func run() {
        print("executor \(BuildInfo.version)")
    }
}
