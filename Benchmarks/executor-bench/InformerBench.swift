import Foundation
import KubeClient
import KubeRuntime
import KubeSandbox

/// An informer over many Pods in a sandbox that runs in a child process, so this process's
/// memory is the informer's alone.
enum InformerBench {
    static let namespace = "flytesnacks-development"

    /// The child: a plain-HTTP sandbox loaded with `count` Pods; prints its port, then waits
    /// for stdin to close.
    static func serveSandbox(count: Int) async throws {
        var options = KubeSandbox.Options()
        options.tls = false
        options.historyCapacity = 1000
        let sandbox = try await KubeSandbox.start(options)
        let client = try KubernetesClient(configuration: sandbox.clientConfiguration())
        _ = try await client.create(Namespace(metadata: ObjectMeta(name: namespace)))
        try await withThrowingTaskGroup(of: Void.self) { group in
            let workers = 32
            for w in 0..<workers {
                group.addTask {
                    for i in stride(from: w, to: count, by: workers) {
                        var pod = PodEvents.pod(i, phase: "Running")
                        // As recorded from a watch; a create must not name a resourceVersion.
                        pod["metadata"]?["resourceVersion"] = nil
                        _ = try await client.create(Pod.resourceType, pod, namespace: namespace)
                        // A merge patch: the sandbox's admission may have touched the Pod since.
                        _ = try await client.patch(Pod.resourceType, name: "\(pod["metadata"]?["name"]?.stringValue ?? "")", namespace: namespace, .merge(["status": pod["status"] ?? .null]), subresource: "status")
                    }
                }
            }
            try await group.waitForAll()
        }
        FileHandle.standardOutput.write(Data("\(sandbox.port)\n".utf8))
        _ = FileHandle.standardInput.readDataToEndOfFile()
        try await client.shutdown()
        await sandbox.shutdown()
    }

    struct Result {
        var pods: Int
        var syncSeconds: Double
        var heapPerPod: Int
        var residentGrowth: Int
        var peakDuringSync: Int
    }

    /// How the informer stores Pods.
    enum Variant: String, CaseIterable, Sendable {
        case full = "typed `Pod`, managedFields stripped, unknown members kept"
        case lean = "typed `Pod`, managedFields and unknown members dropped"
        case statusView = "`CacheTransforms.podStatusView`: metadata (one annotation kept), status, container names"
        case statusViewPruned = "the same view, decoded with `Pod.statusViewDecoder` (what the view drops is skipped while decoding), as the executor runs it"
    }

    /// Starts the child sandbox with `count` Pods and hands its port to `body`.
    static func withSandbox<T>(count: Int, _ body: (Int) async throws -> T) async throws -> T {
        try await withSandbox(arguments: ["serve-sandbox", String(count)], body)
    }

    /// Starts this binary as a child with `arguments`; it prints its port on the first line.
    static func withSandbox<T>(arguments: [String], _ body: (Int) async throws -> T) async throws -> T {
        let child = try ChildProcess.start(CommandLine.arguments[0], arguments, stdin: .pipe, stdout: .capture, stderr: .inherit)
        defer {
            child.closeInput()
            child.waitUntilExit()
        }
        guard let line = await child.nextLine(), let port = Int(line.trimmingCharacters(in: .whitespaces)) else { throw BenchError.childExited }
        return try await body(port)
    }

    /// Runs ``measure(port:variant:)`` in a fresh process, so its memory figures are its own.
    static func measureInChild(port: Int, variant: Variant) async throws -> Result {
        let child = try ChildProcess.start(CommandLine.arguments[0], ["measure-informer", String(port), String(describing: Variant.allCases.firstIndex(of: variant)!)], stdout: .capture, stderr: .inherit)
        let status = await child.exit()
        let data = child.output
        let fields = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
        guard status == 0, fields.count == 5 else { throw BenchError.childExited }
        return Result(pods: Int(fields[0]), syncSeconds: fields[1], heapPerPod: Int(fields[2]), residentGrowth: Int(fields[3]), peakDuringSync: Int(fields[4]))
    }

    /// The child side of ``measureInChild(port:variant:)``.
    static func measureAndPrint(port: Int, variantIndex: Int) async throws {
        let r = try await measure(port: port, variant: Variant.allCases[variantIndex])
        print(r.pods, r.syncSeconds, r.heapPerPod, r.residentGrowth, r.peakDuringSync)
    }

    /// Times one informer's sync over the child's Pods and weighs its cache.
    static func measure(port: Int, variant: Variant) async throws -> Result {
        let client = try KubernetesClient(configuration: ClientConfiguration(server: URL(string: "http://127.0.0.1:\(port)")!))
        var options = InformerOptions()
        options.discardUnknownFields = variant != .full
        Memory.trim()
        let heapBefore = Memory.heapInUse()
        let residentBefore = Memory.resident
        Memory.resetPeak()
        let informer = Informer<Pod>(client: client, scope: InformerScope(namespace: namespace, labelSelector: "flyte.org/managed=true"), options: options,
            transform: variant == .statusView || variant == .statusViewPruned ? CacheTransforms.podStatusView(annotations: ["primary_container_name"]) : nil,
            decoder: variant == .statusViewPruned ? Pod.statusViewDecoder : nil)
        let started = ContinuousClock.now
        let task = Task { await informer.run() }
        await informer.waitForSync()
        let syncSeconds = (ContinuousClock.now - started).seconds
        let peak = Memory.peakResident
        Memory.trim()
        let heapAfter = Memory.heapInUse()
        let residentAfter = Memory.resident
        let cached = informer.store.count
        task.cancel()
        await task.value
        try await client.shutdown()
        return Result(pods: cached, syncSeconds: syncSeconds, heapPerPod: (heapAfter - heapBefore) / max(cached, 1), residentGrowth: residentAfter - residentBefore, peakDuringSync: peak)
    }

    enum BenchError: Error { case childExited }
}
