import ArgumentParser

/// The executor's command line.
@main
struct ExecutorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "executor",
        abstract: "A Kubernetes operator that runs Flyte v2 TaskActions.",
        version: BuildInfo.version,
        subcommands: [RunCommand.self, DevCommand.self, SandboxCommand.self, ManifestsCommand.self, VersionCommand.self])
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
