import ArgumentParser
import ExecutorAPI
import ExecutorControllers
import Foundation
import KubeClient
import KubeRuntime
import KubeSandbox
import Logging

/// `executor dev` (`make dev`): everything in one process with no cluster: a sandbox with the
/// simulated kubelet and operators (Spark, KubeRay, Knative, the Kubeflow training operator, Dask,
/// JobSet), a simulated connector service,
/// the CRDs, the executor, the samples, and each TaskAction's phase timeline as it happens.
/// Ctrl-C stops it all.
struct DevCommand: AsyncParsableCommand {
    /// The task type of the connector sample (`config/samples/`), which the simulated
    /// connector answers.
    static let connectorTaskType = "bigquery_query_job_task"

    static let configuration = CommandConfiguration(commandName: "dev", abstract: "Run a sandbox, the executor and the samples, printing phase timelines.")

    @Option(help: "Port of the sandbox's API server.")
    var port = 6443

    @Option(name: .customLong("kubeconfig-out"), help: "Where to write a kubeconfig for kubectl.")
    var kubeconfigOut = "sandbox.kubeconfig"

    @Option(help: "Directory of sample TaskActions to apply (kustomization.yaml is skipped).")
    var samples = "config/samples"

    func run() async throws {
        var quiet = Logger.Level.warning
        if ProcessInfo.processInfo.environment["EXECUTOR_DEV_VERBOSE"] != nil { quiet = .info }
        LogFormat.text.bootstrap(level: quiet)
        var options = KubeSandbox.Options()
        options.port = port
        options.kubelet = true
        options.operators = SimulatedOperators.Kind.allCases
        let sandbox: KubeSandbox
        do {
            sandbox = try await KubeSandbox.start(options)
        } catch {
            throw ValidationError("cannot start the sandbox on port \(port): \(error) (try --port 0)")
        }
        try sandbox.writeKubeconfig(to: kubeconfigOut)
        say("sandbox    \(sandbox.url.absoluteString)  (kubectl --kubeconfig \(kubeconfigOut) get taskactions,pods)")
        let client = try KubernetesClient(configuration: sandbox.clientConfiguration())
        _ = try await client.create(ResourceType.customResourceDefinitions, TaskActionSchema.crd)
        _ = try await client.create(ResourceType.customResourceDefinitions, AppSchema.crd)
        say("crd        taskactions.flyte.org and apps.flyte.org installed; sparkapplications, rayjobs, pytorchjobs, tfjobs, mpijobs, daskjobs, jobsets and Knative Serving with their simulated operators")

        // The connector sample's peer: a connector service on loopback that the executor's
        // connector plugin calls over gRPC, polled every second (Flyte's 30 s is for real jobs).
        let connector = try await SimulatedConnector.start(categories: [(Self.connectorTaskType, 0)])
        var config = ExecutorConfig()
        config.connectorService.defaultConnector.endpoint = connector.endpoint
        config.connectorService.supportedTaskTypes = [Self.connectorTaskType]
        config.connectorService.resyncIntervalSeconds = 1
        say("connector  \(connector.endpoint)  (a simulated connector service for \(Self.connectorTaskType) tasks, over gRPC)")

        let manager = Manager(client: client, options: ManagerOptions(metricsBindAddress: "127.0.0.1:0", healthProbeBindAddress: "127.0.0.1:0"))
        _ = Executor(manager: manager, config: config, plugins: ExecutorCLI.plugins)
        let executor = Task { try await manager.run() }
        await manager.informers.waitForSync()
        say("executor   running  (metrics http://127.0.0.1:\(manager.metricsPort ?? 0)/metrics, ready http://127.0.0.1:\(manager.healthPort ?? 0)/readyz)")

        let timeline = Task { await Self.printTimelines(client) }
        let appTimeline = Task { await Self.printAppTimelines(client) }
        var applied = 0
        for file in (try? FileManager.default.contentsOfDirectory(atPath: samples))?.sorted() ?? [] where file.hasSuffix(".yaml") && file != "kustomization.yaml" {
            let text = try String(contentsOfFile: samples + "/" + file, encoding: .utf8)
            for document in try JSONValue.documents(yaml: text) {
                switch document["kind"]?.stringValue {
                case "TaskAction": _ = try await client.create(TaskAction.resourceType, document, namespace: "default")
                case "App": _ = try await client.create(App.resourceType, document, namespace: "default")
                default: continue
                }
                say("applied    \(document.value(atPath: "metadata.name")?.stringValue ?? "?")  from \(samples)/\(file)")
                applied += 1
            }
        }
        if applied == 0 { say("no samples found in \(samples); create TaskActions and Apps with kubectl") }
        let executable = Self.executablePath
        say("inspect    \(executable) describe taskaction sample-run-a1 --kubeconfig \(kubeconfigOut)")
        say("           \(executable) get taskactions --kubeconfig \(kubeconfigOut) -o wide;  \(executable) watch taskaction NAME --kubeconfig \(kubeconfigOut)")
        say("Ctrl-C to stop")
        await SignalWaiter.wait(for: [.sigint, .sigterm])
        say("stopping")
        timeline.cancel()
        appTimeline.cancel()
        executor.cancel()
        _ = try? await executor.value
        await connector.stop()
        try? await client.shutdown()
        await sandbox.shutdown()
    }

    /// `text` padded to `width`, never cut: a long name shifts its line rather than losing its
    /// end (`sample-run-tensorflow` is not `sample-run-tenso`).
    static func column(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && $0 != "." }.joined(separator: " ")
    }

    /// Prints every new phaseHistory entry of every App: `app <name>  <PHASE>/<SUBSTATE>  message`.
    /// This binary as the user can type it: relative to the working directory when inside it.
    static var executablePath: String {
        let path = URL(fileURLWithPath: CommandLine.arguments.first ?? "executor").standardizedFileURL.path
        let cwd = FileManager.default.currentDirectoryPath + "/"
        return path.hasPrefix(cwd) ? String(path.dropFirst(cwd.count)) : path
    }

    static func printAppTimelines(_ client: KubernetesClient) async {
        var printed: [String: Int] = [:]
        while !Task.isCancelled {
            do {
                let stream = try await client.watch(App.self, namespace: "default", options: WatchOptions(timeoutSeconds: 3600))
                for try await event in stream {
                    guard let app = event.object, let name = app.metadata.name else { continue }
                    let history = app.status?.phaseHistory ?? []
                    let seen = printed[name, default: 0]
                    for entry in history.dropFirst(seen) {
                        let at = entry.occurredAt.split(separator: "T").last.map { String($0.prefix(8)) } ?? entry.occurredAt
                        let state = entry.substate.map { "\(entry.phase)/\($0)" } ?? entry.phase
                        let url = entry.phase == "ACTIVE" ? app.status?.url.map { "  \($0)" } ?? "" : ""
                        say("\(at)  app \(Self.column(name, 12)) \(state.padding(toLength: 26, withPad: " ", startingAt: 0)) \(Self.oneLine(entry.message ?? ""))\(url)")
                    }
                    printed[name] = max(seen, history.count)
                }
            } catch {
                if Task.isCancelled { return }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// Prints every new phaseHistory entry of every TaskAction, and each terminal result.
    static func printTimelines(_ client: KubernetesClient) async {
        var printed: [String: Int] = [:]
        var reported = Set<String>()
        while !Task.isCancelled {
            do {
                let stream = try await client.watch(TaskAction.self, namespace: "default", options: WatchOptions(timeoutSeconds: 3600))
                for try await event in stream {
                    guard let action = event.object, let name = action.metadata.name else { continue }
                    let history = action.status?.phaseHistory ?? []
                    let seen = printed[name, default: 0]
                    for entry in history.dropFirst(seen) {
                        // occurredAt has second precision: print its time of day.
                        let at = entry.occurredAt.split(separator: "T").last.map { String($0.prefix(8)) } ?? entry.occurredAt
                        say("\(at)  \(Self.column(name, 16)) attempt \(action.status?.attempt ?? 1)  \(entry.phase.padding(toLength: 17, withPad: " ", startingAt: 0)) \(Self.oneLine(entry.message ?? ""))")
                    }
                    printed[name] = max(seen, history.count)
                    if let done = action.status?.condition(.succeeded) ?? action.status?.condition(.failed), done.status == "True", !reported.contains(name) {
                        reported.insert(name)
                        let error = action.status?.errorState.map { " [\($0.code ?? "")] \($0.message ?? "")" } ?? ""
                        say("          \(Self.column(name, 16)) \(done.type)=\(done.reason) \(Self.oneLine(error))")
                    }
                }
            } catch {
                if Task.isCancelled { return }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }
}
