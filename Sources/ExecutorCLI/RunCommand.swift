import ArgumentParser
import ExecutorControllers
import Foundation
import KubeClient
import KubeRuntime
import Logging

/// `executor run`: the operator.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Reconcile TaskActions until SIGTERM or SIGINT.")

    @Option(help: "Path to a kubeconfig; default: KUBECONFIG, then in-cluster, then ~/.kube/config.")
    var kubeconfig: String?

    @Option(help: "The kubeconfig context to use; default: its current-context.")
    var context: String?

    @Option(name: .customLong("namespace"), help: "A namespace to watch; repeat for several. None watches all.")
    var namespaces: [String] = []

    @Flag(name: .customLong("leader-elect"), help: "Hold a Lease so only one replica reconciles.")
    var leaderElect = false

    @Option(name: .customLong("leader-election-namespace"), help: "Namespace of the leader election Lease; default: the Pod's namespace, else the kubeconfig's.")
    var leaderElectionNamespace: String?

    @Option(name: .customLong("leader-election-id"), help: "Name of the leader election Lease.")
    var leaderElectionID = "abf369a8.flyte.org"

    @Option(name: .customLong("metrics-bind-address"), help: "Where /metrics is served; 0 turns it off.")
    var metricsBindAddress = ":8080"

    @Option(name: .customLong("health-probe-bind-address"), help: "Where /healthz and /readyz are served; 0 turns them off.")
    var healthProbeBindAddress = ":8081"

    @Option(name: .customLong("max-concurrent-reconciles"), help: "Reconcile workers; never two on one TaskAction.")
    var maxConcurrentReconciles = 10

    @Flag(name: .customLong("apps"), inversion: .prefixedNo, help: "Reconcile Apps into Knative Services (default: the config file's apps.enabled, which defaults to on).")
    var apps: Bool?

    @Option(help: "YAML configuration file (plugins, GC, max-system-failures, grace periods, default-for-task-types).")
    var config: String?

    @Option(name: .customLong("log-format"), help: "json or text.")
    var logFormat = "json"

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    @Option(name: .customLong("graceful-shutdown-timeout"), help: "Seconds each stage may take to stop.")
    var gracefulShutdownTimeout = 30

    /// HTTP/1.1 by default: against HTTP/2 it measured the same CPU and a third less peak
    /// memory for the executor's traffic (docs/benchmarks.md).
    @Option(name: .customLong("kube-api-http-version"), help: "http1 (keep-alive connections; the default, measured cheaper for this traffic) or automatic (HTTP/2 where TLS negotiates it, as client-go).")
    var kubeAPIHTTPVersion = ClientConfiguration.HTTPVersionPreference.http1.rawValue

    /// On by default. Every watch event and API answer arrives on an event loop and is handled
    /// by a task; with the tasks on those loops there is no thread hand-off between the two: a
    /// tenth to a sixth less CPU per TaskAction and about half the context switches at a steady
    /// rate, saturated CPU, throughput and writes the same within the runs' spread
    /// (docs/benchmarks.md). The reconcile workers are spread over the loops (each prefers one),
    /// so the work does not all follow the one loop whose watch woke it. The price: a plugin
    /// that blocks its thread stalls that loop's API traffic. The executor names such a plugin
    /// (`executor_plugin_slow_calls_total`, a warning) and a held loop (`event_loop_blocked_total`,
    /// a warning); `--no-tasks-on-event-loops` puts the tasks back on Swift's pool.
    @Flag(name: .customLong("tasks-on-event-loops"), inversion: .prefixedNo, help: "Run Swift Concurrency's tasks on the event loops that carry the API traffic (the default): less CPU and latency (docs/benchmarks.md); --no-tasks-on-event-loops runs them on Swift's pool, for plugins that block a thread.")
    var tasksOnEventLoops = true

    /// One by default (``EventLoopConcurrency/defaultLoopCount``): measured cheaper than a loop
    /// per core, and the executor's traffic is far below what one core carries.
    @Option(name: .customLong("event-loops"), help: "NIO event loops (threads) for the API traffic and, with --tasks-on-event-loops, the tasks; default 1 (measured cheaper than one per core; docs/benchmarks.md). Raise it when one core is not enough.")
    var eventLoops = EventLoopConcurrency.defaultLoopCount

    /// NIO's own ceiling is 1,024; more loops than this is a typo, not a configuration.
    static let maxEventLoops = 256

    func validate() throws {
        guard LogFormat(rawValue: logFormat) != nil else { throw ValidationError("--log-format must be json or text, not \"\(logFormat)\"") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical; not \"\(logLevel)\"") }
        guard ClientConfiguration.HTTPVersionPreference(rawValue: kubeAPIHTTPVersion) != nil else {
            throw ValidationError("--kube-api-http-version must be http1 or automatic, not \"\(kubeAPIHTTPVersion)\"")
        }
        guard (1...Self.maxEventLoops).contains(eventLoops) else { throw ValidationError("--event-loops must be between 1 and \(Self.maxEventLoops), not \(eventLoops)") }
        guard maxConcurrentReconciles >= 1 else { throw ValidationError("--max-concurrent-reconciles must be at least 1") }
        for (flag, address) in [("--metrics-bind-address", metricsBindAddress), ("--health-probe-bind-address", healthProbeBindAddress)] where address != "0" {
            do { _ = try ProbeServer.parse(address: address) } catch { throw ValidationError("\(flag): \(error)") }
        }
    }

    func run() async throws {
        // Before the caches' list pages are decoded: without it, glibc keeps what they freed.
        let allocator = AllocatorTuning.returnFreedMemoryPromptly()
        // Before anything uses NIO's singleton group: it is sized once, when first used.
        EventLoopConcurrency.suggestLoopCount(eventLoops)
        // Before any work starts, so every task after this point runs on the loops.
        let onEventLoops = tasksOnEventLoops && EventLoopConcurrency.install()
        // validate() has checked both.
        (LogFormat(rawValue: logFormat) ?? .json).bootstrap(level: Logger.Level(rawValue: logLevel) ?? .info)
        let logger = Logger(label: "executor")
        do {
            try await serve(logger: logger, tasksOnEventLoops: onEventLoops, allocator: allocator)
        } catch let error as LeaderElectionLost {
            logger.error("exiting: \(error)")
            throw ExitCode(1)
        } catch let error as ExitCode {
            throw error
        } catch {
            // One line saying what is wrong, then a non-zero exit.
            FileHandle.standardError.write(Data("executor: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    func serve(logger: Logger, tasksOnEventLoops: Bool, allocator: AllocatorTuning.Outcome) async throws {
        var executorConfig = try config.map(ExecutorConfig.load(path:)) ?? ExecutorConfig()
        if let apps { executorConfig.apps.enabled = apps }
        var clientConfiguration = try ClientConfiguration.load(kubeconfig: kubeconfig, context: context)
        clientConfiguration.httpVersion = ClientConfiguration.HTTPVersionPreference(rawValue: kubeAPIHTTPVersion) ?? .http1
        let metrics = MetricsRegistry()
        let client = try KubernetesClient(configuration: clientConfiguration, logger: logger, observer: metrics.restClientObserver())
        var options = ManagerOptions(metricsBindAddress: metricsBindAddress, healthProbeBindAddress: healthProbeBindAddress, gracefulShutdownTimeout: .seconds(gracefulShutdownTimeout))
        if leaderElect {
            let namespace = leaderElectionNamespace ?? ProcessInfo.processInfo.environment["POD_NAMESPACE"] ?? clientConfiguration.namespace
            options.leaderElection = LeaderElectionConfig(leaseName: leaderElectionID, namespace: namespace)
        }
        let manager = Manager(client: client, options: options, metrics: metrics, logger: logger)
        let dataPlane = try DataPlane.make(config: executorConfig, manager: manager, logger: logger)
        let notifier = try WebhookNotifier.make(config: executorConfig.notifications, cluster: executorConfig.cluster, manager: manager, logger: logger)
        _ = Executor(manager: manager, config: executorConfig, namespaces: namespaces, plugins: ExecutorCLI.plugins, sink: dataPlane.sink, errorDocuments: dataPlane.errorDocuments, taskCache: dataPlane.taskCache, blobStore: dataPlane.blobStore, notifier: notifier, options: ControllerOptions(maxConcurrentReconciles: maxConcurrentReconciles, workerExecutors: EventLoopConcurrency.loopExecutors()), logger: logger)
        if self.tasksOnEventLoops && !tasksOnEventLoops {
            logger.warning("tasks run on Swift's pool: the event loops could not be installed as Swift Concurrency's global executor (another hook was set first, or this Swift's hook is not one the executor knows)")
        }
        logger.info("starting", metadata: ["server": "\(clientConfiguration.server)", "namespaces": "\(namespaces.isEmpty ? "all" : namespaces.joined(separator: ","))", "leaderElection": "\(leaderElect)", "tasks": "\(tasksOnEventLoops ? "event loops" : "Swift's pool")", "eventLoops": "\(eventLoops)", "allocator": "\(allocator.description)"])
        defer { Task { try? await client.shutdown() } }
        try await manager.runUntilSignalled()
    }
}
