import Foundation
import KubeClient
import KubeSandbox

/// The executor binary run against the drill's sandbox, to be killed and started again.
final class ExecutorProcess {
    let kubeconfig: String
    let arguments: [String]
    let environment: [String: String]
    private var process: ChildProcess.Running?

    /// - Parameters:
    ///   - authentication: who the process is to the sandbox (a ServiceAccount token tells two
    ///     processes' writes apart in its audit records).
    ///   - arguments: added to `run`'s, and then the words of `DRILL_EXECUTOR_ARGS` (to drill
    ///     the executor as run with a flag, e.g. `--no-tasks-on-event-loops`).
    ///   - environment: added to this process's.
    init(sandbox: KubeSandbox, authentication: KubeSandbox.Authentication = .clientCertificate, arguments: [String] = [], environment: [String: String] = [:]) throws {
        kubeconfig = FileManager.default.temporaryDirectory.appendingPathComponent("drill-\(UUID().uuidString).kubeconfig").path
        try sandbox.writeKubeconfig(to: kubeconfig, authentication: authentication)
        self.arguments = arguments + (ProcessInfo.processInfo.environment["DRILL_EXECUTOR_ARGS"] ?? "").split(separator: " ").map(String.init)
        self.environment = environment
    }

    /// `executor` beside this binary (`make drill` builds both).
    static var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("executor").path
    }

    func start() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw DrillError("no executor binary at \(Self.binary): build it (make drill does)")
        }
        process = try ChildProcess.start(Self.binary, ["run", "--kubeconfig", kubeconfig, "--namespace", "default", "--metrics-bind-address", "0", "--health-probe-bind-address", "0", "--log-level", "error"] + arguments,
                                         environment: ProcessInfo.processInfo.environment.merging(environment) { $1 }, stderr: .capture)
    }

    /// Why the process is gone though this drill neither killed nor stopped it (it could not
    /// start, or it crashed): its exit status and the end of what it wrote to stderr; nil
    /// while it runs.
    var unexpectedExit: String? {
        guard let process, let status = process.exitStatus else { return nil }
        let said = String(decoding: process.errorOutput.suffix(2_000), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return "the executor exited on its own with status \(status)" + (said.isEmpty ? "" : ": \(said)")
    }

    /// SIGKILL: no shutdown, no lease release, requests cut off where they are.
    func kill() {
        guard let process else { return }
        process.kill()
        process.waitUntilExit()
        self.process = nil
    }

    func stop() {
        if let process {
            process.terminate()
            process.waitUntilExit()
            self.process = nil
        }
        try? FileManager.default.removeItem(atPath: kubeconfig)
    }
}

struct DrillError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
