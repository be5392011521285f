import Foundation
import KubeClient

// The executor child (and the floor's child) runs its tasks on the event loops, as `executor run`
// does by default; BENCH_TASKS_ON_EVENT_LOOPS=0 runs them on Swift's pool, as `executor run
// --no-tasks-on-event-loops`. Only those children: the driver and the sandbox child block threads
// reading pipes.
// BENCH_EVENT_LOOPS=n: the executor child's NIO group (its connections) has n threads, not
// `executor run`'s default (EventLoopConcurrency.defaultLoopCount, one).
let benchEventLoops = ProcessInfo.processInfo.environment["BENCH_EVENT_LOOPS"].flatMap(Int.init) ?? EventLoopConcurrency.defaultLoopCount
if CommandLine.arguments.count > 1, ["serve-bench-executor", "serve-floor"].contains(CommandLine.arguments[1]) {
    EventLoopConcurrency.suggestLoopCount(benchEventLoops)
    if ProcessInfo.processInfo.environment["BENCH_TASKS_ON_EVENT_LOOPS"] != "0", !EventLoopConcurrency.install() {
        // Said aloud: the figures of this run are those of the pool, whatever the table says.
        FileHandle.standardError.write(Data("warning: the event loops could not be installed as the global executor; tasks run on Swift's pool\n".utf8))
    }
}

// `make bench`: measured throughput, printed as a Markdown table with the command that made it.
// Each figure is the median of several runs on one core (the decoding is single-threaded).

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

func measure(runs: Int, _ body: () throws -> Int) rethrows -> (perSecond: Double, seconds: Double) {
    var rates: [Double] = []
    var times: [Double] = []
    for _ in 0..<runs {
        let clock = ContinuousClock()
        var count = 0
        let elapsed = try clock.measure { count = try body() }
        rates.append(Double(count) / elapsed.seconds)
        times.append(elapsed.seconds)
    }
    return (median(rates), median(times))
}

/// Feeds the stream in 16 KiB chunks, as the network delivers it, through the line decoder.
func decodeStream<T>(_ bytes: [UInt8], _ decode: (ArraySlice<UInt8>) throws -> WatchEvent<T>) throws -> Int {
    var decoder = WatchLineDecoder()
    var events = 0
    var offset = 0
    while offset < bytes.count {
        let end = min(offset + 16384, bytes.count)
        decoder.append(bytes[offset..<end])
        offset = end
        while let line = try decoder.nextLine() {
            _ = try decode(line)
            events += 1
        }
    }
    decoder.finish()
    while let line = try decoder.nextLine() {
        _ = try decode(line)
        events += 1
    }
    return events
}

/// Events of `events` per second and seconds per pass with `decode` run on each line: median of `runs` passes.
func decodeRate(_ events: [UInt8], runs: Int, _ decode: (ArraySlice<UInt8>) throws -> Void) throws -> (perSecond: Double, seconds: Double) {
    try measure(runs: runs) { try decodeStream(events) { line in try decode(line); return WatchEvent<Int>.bookmark(resourceVersion: "") } }
}

if CommandLine.arguments.count > 3, CommandLine.arguments[1] == "measure-informer" {
    try await InformerBench.measureAndPrint(port: Int(CommandLine.arguments[2]) ?? 0, variantIndex: Int(CommandLine.arguments[3]) ?? 0)
    exit(0)
}
if CommandLine.arguments.count > 2, CommandLine.arguments[1] == "serve-bench-executor" {
    try await ExecutorBench.serveExecutor(port: Int(CommandLine.arguments[2]) ?? 0)
    exit(0)
}
if CommandLine.arguments.count > 3, CommandLine.arguments[1] == "serve-floor", let variant = FloorBench.Variant(rawValue: CommandLine.arguments[3]) {
    try await FloorBench.serve(port: Int(CommandLine.arguments[2]) ?? 0, variant: variant)
    exit(0)
}
if CommandLine.arguments.count > 1, CommandLine.arguments[1] == "serve-executor-sandbox" {
    try await ExecutorBench.serveSandbox()
    exit(0)
}
if CommandLine.arguments.count > 2, CommandLine.arguments[1] == "serve-sandbox" {
    try await InformerBench.serveSandbox(count: Int(CommandLine.arguments[2]) ?? 10_000)
    exit(0)
}

let environment = ProcessInfo.processInfo.environment
let only = environment["BENCH_ONLY"]
func wanted(_ key: String) -> Bool { only == nil || only == key || only!.split(separator: ",").contains(Substring(key)) }

let eventCount = Int(ProcessInfo.processInfo.environment["BENCH_EVENTS"] ?? "") ?? 20_000
let runs = Int(ProcessInfo.processInfo.environment["BENCH_RUNS"] ?? "") ?? 5
let decodeKeys = ["status-view", "lean", "typed", "tree-typed", "dynamic", "tree", "lines"]
let stream = decodeKeys.contains(where: wanted) ? PodEvents.stream(count: eventCount) : []
if decodeKeys.contains(where: wanted) {
let averageBytes = stream.count / eventCount

print("## Watch event decoding")
print("")
print("\(eventCount) recorded Pod watch events (a typical Flyte task Pod with managedFields, \(averageBytes) bytes each), fed in 16 KiB chunks; median of \(runs) runs, one core.")
print("")
print("| decoder | events/s | MB/s |")
print("|---|---:|---:|")
func row(_ name: String, _ key: String, _ decode: (ArraySlice<UInt8>) throws -> Void) throws {
    guard wanted(key) else { return }
    let result = try decodeRate(stream, runs: runs, decode)
    print("| \(name) | \(Int(result.perSecond)) | \(String(format: "%.1f", Double(stream.count) / result.seconds / 1e6)) |")
}
let lean = JSONBytesDecoder(discardUnknownFields: true, discardManagedFields: true)
try row("typed `Pod` for the executor's status-view cache: also skips what the view drops (`Pod.statusViewDecoder`)", "status-view", HostPace.decode)
try row("typed `Pod` for a cache: managedFields and unknown fields dropped", "lean") { _ = try WatchEventDecoder.typed($0, as: Pod.self, decoder: lean) }
try row("typed `Pod`, every field kept", "typed") { _ = try WatchEventDecoder.typed($0, as: Pod.self) }
try row("typed `Pod`, every field kept, through the parsed tree", "tree-typed") { line in
    if let object = try WatchEventDecoder.dynamic(line).object { _ = try JSONValueDecoder().decode(Pod.self, from: object) }
}
try row("dynamic `JSONValue`", "dynamic") { _ = try WatchEventDecoder.dynamic($0) }
try row("JSON tree only (`JSONValue.parse`)", "tree") { _ = try JSONValue.parse($0) }
try row("line splitting only", "lines") { _ in }
}

if wanted("kubetime") {
    let count = 100_000
    print("")
    print("## Kubernetes timestamps")
    print("")
    print("\(count) dates formatted and parsed, nanoseconds per call, median of \(runs) runs, one core; Foundation's `Date.ISO8601FormatStyle` beside `KubeTime`, which replaced it.")
    print("")
    print("| call | Foundation | KubeTime | ratio |")
    print("|---|---:|---:|---:|")
    for row in KubeTimeBench.run(count: count, runs: runs) {
        print("| \(row.name) | \(Int(row.foundation)) ns | \(Int(row.kubeTime)) ns | \(String(format: "%.1f×", row.foundation / row.kubeTime)) |")
    }
}

// MARK: - Controller runtime (issue 3)

if wanted("informer") {
    let pods = Int(environment["BENCH_PODS"] ?? "") ?? 10_000
    let informerRuns = max(1, min(runs, 3))
    let rows = try await InformerBench.withSandbox(count: pods) { port in
        var rows: [(InformerBench.Variant, [InformerBench.Result])] = []
        for variant in InformerBench.Variant.allCases {
            var results: [InformerBench.Result] = []
            for _ in 0..<informerRuns { results.append(try await InformerBench.measureInChild(port: port, variant: variant)) }
            rows.append((variant, results))
        }
        return rows
    }
    print("")
    print("## Informer over \(pods) Pods")
    print("")
    print("A sandbox in a child process holds \(pods) typical Flyte task Pods (with managedFields, as above); each run is a fresh process with one label-scoped `Informer<Pod>`, listing 500 per page. Median of \(informerRuns) runs per row. Heap bytes are glibc's `mallinfo2` in-use bytes after sync minus before, divided by the Pods cached.")
    print("")
    print("| cache | time to synced | heap bytes per cached Pod | RSS growth | peak RSS during sync |")
    print("|---|---:|---:|---:|---:|")
    for (variant, results) in rows {
        print("| \(variant.rawValue) | \(String(format: "%.2f", median(results.map(\.syncSeconds)))) s | \(Int(median(results.map { Double($0.heapPerPod) }))) | \(Memory.mib(Int(median(results.map { Double($0.residentGrowth) })))) | \(Memory.mib(Int(median(results.map { Double($0.peakDuringSync) })))) |")
    }
    print("")
    print("RSS growth is after sync and `malloc_trim`, against the RSS before the informer started; the peak is the process's VmHWM during the sync, runtime and client included.")
}

if wanted("taskaction-cache") {
    let count = Int(environment["BENCH_TASKACTIONS"] ?? "") ?? 5_000
    func heap(sharing: Bool, trimmed: Bool, template: String) throws -> Int {
        Int(median(try (0..<3).map { _ in Double(try TaskActionCacheBench.heapPerTaskAction(count: count, sharing: sharing, trimmed: trimmed, template: template)) }))
    }
    let vector = TaskActionCacheBench.vectorTemplate
    let python = TaskActionCacheBench.pythonTemplate
    print("")
    print("## A cached TaskAction")
    print("")
    print("\(count) completed TaskActions (four phases, two conditions, plugin state; 40 finish per second, so timestamps repeat) decoded as the informer decodes them and kept as its store keeps them (boxed, in a dictionary); heap bytes (glibc `mallinfo2` in use) per TaskAction, median of 3. Templates: the fact sheet's vector 7.1 (\(vector.utf8.count) characters of base64, shared by `SharedStrings`) and a Python task's as an SDK writes it (\(python.utf8.count) characters, too long to share).")
    print("")
    print("| strings | vector 7.1 template | Python task template |")
    print("|---|---:|---:|")
    print("| each decoded on its own | \(try heap(sharing: false, trimmed: false, template: vector)) | \(try heap(sharing: false, trimmed: false, template: python)) |")
    print("| shared through `SharedStrings` | \(try heap(sharing: true, trimmed: false, template: vector)) | \(try heap(sharing: true, trimmed: false, template: python)) |")
    print("| shared, and a finished TaskAction trimmed (what the executor keeps) | \(try heap(sharing: true, trimmed: true, template: vector)) | \(try heap(sharing: true, trimmed: true, template: python)) |")
    func podHeap(_ view: TaskActionCacheBench.EndedPodView) throws -> Int {
        Int(median(try (0..<3).map { _ in Double(try TaskActionCacheBench.heapPerEndedPod(count: count, view: view)) }))
    }
    print("")
    print("The Pod of a finished TaskAction: \(count) Succeeded Pods (three conditions, one container status) decoded as the Pod plugin's informer decodes them; heap bytes per Pod, median of 3.")
    print("")
    print("| kept as | heap bytes per cached Pod |")
    print("|---|---:|")
    print("| the generic status view | \(try podHeap(.statusView)) |")
    print("| the Pod plugin's view (an ended Pod without its conditions) | \(try podHeap(.plugin)) |")
    print("| the Pod plugin's finished view (metadata and phase: the executor's once the TaskAction is over) | \(try podHeap(.finished)) |")
}

if wanted("children") {
    let count = Int(environment["BENCH_CHILDREN"] ?? "") ?? 5_000
    var rows: [String: [ChildCacheBench.Result]] = [:]
    for _ in 0..<max(1, min(runs, 3)) {
        for result in try ChildCacheBench.run(count: count) { rows[result.kind, default: []].append(result) }
    }
    print("")
    print("## Cached Spark and Ray children")
    print("")
    print("\(count) SparkApplications and \(count) RayJobs as the API server sends them once their operator runs them (the plugins' spec from the flyteidl2 vectors, operator status, managedFields), decoded with the plugin's decoder and kept after its cache transform, as its informer keeps them. Heap bytes are glibc's in-use bytes after minus before, per object; median of \(max(1, min(runs, 3))) runs. Target: 4 KB each.")
    print("")
    print("| child | bytes on the wire | heap bytes per cached object |")
    print("|---|---:|---:|")
    for kind in ["SparkApplication", "RayJob"] {
        let results = rows[kind] ?? []
        print("| \(kind) | \(Int(median(results.map { Double($0.wireBytes) }))) | \(Int(median(results.map { Double($0.heapPerObject) }))) |")
    }
}

if wanted("workqueue") {
    let keys = Int(environment["BENCH_KEYS"] ?? "") ?? 200_000
    var results: [WorkQueueBench.Result] = []
    for _ in 0..<runs { results.append(await WorkQueueBench.run(keys: keys, workers: 8)) }
    print("")
    print("## Work queue")
    print("")
    print("\(keys) distinct keys; median of \(runs) runs.")
    print("")
    print("| operation | per second |")
    print("|---|---:|")
    print("| add (new key) | \(Int(median(results.map(\.addsPerSecond)))) |")
    print("| get + done, one worker | \(Int(median(results.map(\.getsPerSecond)))) |")
    print("| add ×2 + get + done, 8 workers concurrently (keys processed) | \(Int(median(results.map(\.concurrentPerSecond)))) |")
}
if wanted("executor") {
    let saturatedCount = Int(environment["BENCH_TASKACTIONS"] ?? "") ?? 1000
    let pacedCount = Int(environment["BENCH_PACED"] ?? "") ?? 600
    let rate = Double(environment["BENCH_RATE"] ?? "") ?? 20
    let executorRuns = Int(environment["BENCH_EXECUTOR_RUNS"] ?? "") ?? 3
    var saturated: [ExecutorBench.Result] = []
    var paced: [ExecutorBench.Result] = []
    let paceEvents = PodEvents.stream(count: HostPace.eventCount)
    let paceBefore = try HostPace.measure(paceEvents)
    for _ in 0..<executorRuns {
        if saturatedCount > 0 { saturated.append(try await ExecutorBench.run(count: saturatedCount, load: .saturated)) }
        if pacedCount > 0 { paced.append(try await ExecutorBench.run(count: pacedCount, load: .paced(perSecond: rate))) }
    }
    let paceAfter = try HostPace.measure(paceEvents)
    func cell(_ results: [ExecutorBench.Result], _ format: String, _ value: (ExecutorBench.Result) -> Double) -> String {
        guard !results.isEmpty else { return "–" }
        let values = results.map(value)
        let each = values.map { String(format: format, $0) }.joined(separator: ", ")
        return "**\(String(format: format, median(values)))** (\(each))"
    }
    print("")
    print("## TaskActions end to end, the executor measured alone")
    print("")
    let transport = transportUnderTest.tls ? (environment["BENCH_HTTP"] == "2" ? "HTTPS, the executor on the HTTP/2 it offers (BENCH_TLS=1 BENCH_HTTP=2)" : "HTTPS offering HTTP/2, the executor on HTTP/1.1 keep-alive as `executor run` (BENCH_TLS=1)") : "plain HTTP/1.1"
    let layout = "\(benchEventLoops) event loop\(benchEventLoops == 1 ? "" : "s")\(environment["BENCH_TASKS_ON_EVENT_LOOPS"] == "0" ? ", tasks on Swift's pool" : " carrying the tasks")"
    print("Three processes: a sandbox (\(transport), simulated kubelet moving each Pod Running → Succeeded at once), the executor (`Manager` + `Executor`, 10 workers, \(layout), as `executor run` wires them; its own getrusage, VmHWM and request log), and this driver creating TaskActions and timing them through watches. Median of \(executorRuns) runs, each run's figure in brackets; each run starts fresh processes.")
    print("")
    print("| per TaskAction unless noted | \(saturatedCount) at once | \(pacedCount) at \(Int(rate))/s |")
    print("|---|---:|---:|")
    print("| TaskActions Succeeded/s | \(cell(saturated, "%.1f") { $0.succeededPerSecond }) | \(cell(paced, "%.1f") { $0.succeededPerSecond }) |")
    print("| executor CPU (user + system) | \(cell(saturated, "%.2f ms") { $0.cpuPerAction * 1000 }) | \(cell(paced, "%.2f ms") { $0.cpuPerAction * 1000 }) |")
    print("| of which system (kernel) | \(cell(saturated, "%.2f ms") { $0.executor.systemSeconds / Double($0.count) * 1000 }) | \(cell(paced, "%.2f ms") { $0.executor.systemSeconds / Double($0.count) * 1000 }) |")
    print("| executor context switches | \(cell(saturated, "%.1f") { Double($0.executor.contextSwitches) / Double($0.count) }) | \(cell(paced, "%.1f") { Double($0.executor.contextSwitches) / Double($0.count) }) |")
    print("| API writes by the executor | \(cell(saturated, "%.2f") { Double($0.executor.writes) / Double($0.count) }) | \(cell(paced, "%.2f") { Double($0.executor.writes) / Double($0.count) }) |")
    print("| reconcile rounds | \(cell(saturated, "%.2f") { Double($0.executor.rounds) / Double($0.count) }) | \(cell(paced, "%.2f") { Double($0.executor.rounds) / Double($0.count) }) |")
    print("| API requests by the executor (watches included) | \(cell(saturated, "%.2f") { Double($0.executor.all) / Double($0.count) }) | \(cell(paced, "%.2f") { Double($0.executor.all) / Double($0.count) }) |")
    print("| create → Pod p50 / p99 | \(cell(saturated, "%.0f") { ExecutorBench.percentile($0.createToPod, 0.5) }) / \(cell(saturated, "%.0f ms") { ExecutorBench.percentile($0.createToPod, 0.99) }) | \(cell(paced, "%.0f") { ExecutorBench.percentile($0.createToPod, 0.5) }) / \(cell(paced, "%.0f ms") { ExecutorBench.percentile($0.createToPod, 0.99) }) |")
    print("| create → Succeeded p50 / p99 | \(cell(saturated, "%.0f") { ExecutorBench.percentile($0.createToSucceeded, 0.5) }) / \(cell(saturated, "%.0f ms") { ExecutorBench.percentile($0.createToSucceeded, 0.99) }) | \(cell(paced, "%.0f") { ExecutorBench.percentile($0.createToSucceeded, 0.5) }) / \(cell(paced, "%.0f ms") { ExecutorBench.percentile($0.createToSucceeded, 0.99) }) |")
    print("| executor peak RSS (whole run) | \(cell(saturated, "%.1f MiB") { Double($0.executor.peakResident) / 1_048_576 }) | \(cell(paced, "%.1f MiB") { Double($0.executor.peakResident) / 1_048_576 }) |")
    print("| executor peak heap in use (sampled 5/s) | \(cell(saturated, "%.1f MiB") { Double($0.executor.peakHeap) / 1_048_576 }) | \(cell(paced, "%.1f MiB") { Double($0.executor.peakHeap) / 1_048_576 }) |")
    print("| executor heap in use / RSS at the end | \(cell(saturated, "%.1f MiB") { Double($0.executor.heapAtEnd) / 1_048_576 }) / \(cell(saturated, "%.1f MiB") { Double($0.executor.residentAtEnd) / 1_048_576 }) | \(cell(paced, "%.1f MiB") { Double($0.executor.heapAtEnd) / 1_048_576 }) / \(cell(paced, "%.1f MiB") { Double($0.executor.residentAtEnd) / 1_048_576 }) |")
    if let last = saturated.last {
        print("")
        print("Requests of the last saturated run, per TaskAction: " + last.executor.requests.sorted { $0.key < $1.key }.map { "`\($0.key)` \(String(format: "%.2f", Double($0.value) / Double(last.count)))" }.joined(separator: ", ") + ".")
    }
    print("")
    print("Host pace (Pod watch events decoded on one thread with `Pod.statusViewDecoder`, as the status-view row of \"Watch event decoding\"; the quiet reference is \(Int(HostPace.quietEventsPerSecond))/s): before the runs \(HostPace.describe(paceBefore)), after them \(HostPace.describe(paceAfter)). CPU per TaskAction grows as the host slows; the issue's CPU targets are for a quiet host.")
}

if wanted("startup") {
    let count = Int(environment["BENCH_EXISTING"] ?? "") ?? 10_000
    let quiet = Double(environment["BENCH_QUIET_SECONDS"] ?? "") ?? 60
    let runs = Int(environment["BENCH_STARTUP_RUNS"] ?? "") ?? 3
    var results: [StartupBench.Result] = []
    for _ in 0..<runs { results.append(try await StartupBench.run(count: count, quietSeconds: quiet)) }
    func cell(_ format: String, _ value: (StartupBench.Result) -> Double) -> String {
        let values = results.map(value)
        return "**\(String(format: format, median(values)))** (\(values.map { String(format: format, $0) }.joined(separator: ", ")))"
    }
    print("")
    print("## Start-up and steady state with \(count) existing terminal TaskActions and their Pods")
    print("")
    print("The sandbox is seeded first; then the executor starts in its own process (no leader election). Ready = launched to ready as `/readyz` says (the TaskAction and Pod caches synced, every plugin's kind looked up). Settled = three seconds in a row under 20 ms of executor CPU each. Quiet = the \(Int(quiet)) s after that. Median of \(runs) runs, each run's figure in brackets.")
    print("")
    print("| | figure |")
    print("|---|---:|")
    print("| launch → ready | \(cell("%.2f s") { $0.secondsToReady }) |")
    print("| ready → settled (start-up rounds done) | \(cell("%.1f s") { $0.secondsToSettle }) |")
    print("| executor peak RSS | \(cell("%.1f MiB") { Double($0.executor.peakResident) / 1_048_576 }) |")
    print("| executor peak heap in use, launch → settled (sampled 5/s) | \(cell("%.1f MiB") { Double($0.executor.peakHeap) / 1_048_576 }) |")
    print("| executor heap in use when quiet (glibc `mallinfo2`) | \(cell("%.1f MiB") { Double($0.executor.heapAtEnd) / 1_048_576 }) |")
    print("| executor RSS when quiet | \(cell("%.1f MiB") { Double($0.executor.residentAtEnd) / 1_048_576 }) |")
    print("| API requests per minute when quiet | \(cell("%.1f") { $0.requestsPerMinute }) |")
    print("| executor CPU when quiet, per minute | \(cell("%.0f ms") { $0.executor.cpuSeconds / $0.quietSeconds * 60 * 1000 }) |")
    if let last = results.last, !last.executor.requests.isEmpty {
        print("")
        print("Requests of the last run when quiet: " + last.executor.requests.sorted { $0.key < $1.key }.map { "`\($0.key)` \($0.value)" }.joined(separator: ", ") + ".")
    }
}

if wanted("floor") {
    let count = Int(environment["BENCH_FLOOR_EVENTS"] ?? "") ?? 2000
    let rate = Double(environment["BENCH_FLOOR_RATE"] ?? "") ?? 100
    let floorRuns = Int(environment["BENCH_FLOOR_RUNS"] ?? "") ?? 3
    var results: [FloorBench.Variant: [FloorBench.Result]] = [:]
    for _ in 0..<floorRuns {
        // The bare readers speak no TLS (BENCH_TLS=1): their rows are left out there.
        for variant in FloorBench.Variant.allCases where (environment["BENCH_FLOOR_ONLY"].map({ $0 == variant.rawValue }) ?? true) && !(variant.isBareReader && transportUnderTest.tls) {
            results[variant, default: []].append(try await FloorBench.run(variant: variant, count: count, rate: rate))
        }
    }
    let measured = results
    /// Per event of each run of `variant`.
    func perEventOfRuns(_ variant: FloorBench.Variant, _ value: (FloorBench.Result) -> Double) -> [Double] {
        var values: [Double] = []
        for result in measured[variant] ?? [] { values.append(value(result) / Double(max(1, result.events))) }
        return values
    }
    func perEvent(_ variant: FloorBench.Variant, _ value: (FloorBench.Result) -> Double) -> Double {
        median(perEventOfRuns(variant, value))
    }
    func cell(_ variant: FloorBench.Variant, _ format: String, _ value: (FloorBench.Result) -> Double) -> String {
        let values = perEventOfRuns(variant, value)
        return "**\(String(format: format, median(values)))** (\(values.map { String(format: format, $0) }.joined(separator: ", ")))"
    }
    let layout = environment["BENCH_TASKS_ON_EVENT_LOOPS"] == "0" ? "tasks on Swift's pool (`BENCH_TASKS_ON_EVENT_LOOPS=0`)" : "tasks on the event loops"
    print("")
    print("## The floor: one watch event, one round, one request")
    print("")
    print("A child set up as the executor (\(layout)) handles \(count) watch events of TaskActions (an annotation patched) at \(Int(rate))/s by this process; the sandbox is a third process. Per event, median of \(floorRuns) runs, each run in brackets; the differences between rows are what the added step costs.")
    print("")
    print("| per event | CPU (user + system) | of which system | context switches |")
    print("|---|---:|---:|---:|")
    let rows: [(FloorBench.Variant, String)] = [
        (.socket, "read by a thread blocked in `read(2)` on a bare socket"), (.nio, "read by a NIO channel with NIO's HTTP decoder, split into lines"),
        (.decoded, "+ each decoded as a TaskAction's watch event, on the loop"), (.patched, "+ a merge patch sent on a NIO channel for each, its answer read"),
        (.streamed, "read through AsyncHTTPClient by a watch stream's task, decoded"),
        (.watched, "read through AsyncHTTPClient, decoded and cached by an informer"), (.reconciled, "+ a round that does nothing"), (.requested, "+ one merge patch sent in the round"),
    ]
    for (variant, name) in rows where measured[variant] != nil {
        print("| \(name) | \(cell(variant, "%.0f µs") { $0.cpuSeconds * 1e6 }) | \(cell(variant, "%.0f µs") { $0.systemSeconds * 1e6 }) | \(cell(variant, "%.1f") { Double($0.contextSwitches) }) |")
    }
    if [FloorBench.Variant.watched, .reconciled, .requested].allSatisfy({ measured[$0] != nil }) {  // the summary needs these rows
        let event = perEvent(.watched) { $0.cpuSeconds }
        let round = perEvent(.reconciled) { $0.cpuSeconds } - event
        let request = perEvent(.requested) { $0.cpuSeconds } - event - round
        print("")
        print("So one event ≈ \(String(format: "%.0f", event * 1e6)) µs, one round ≈ \(String(format: "%.0f", round * 1e6)) µs, one request ≈ \(String(format: "%.0f", request * 1e6)) µs at this rate. A TaskAction is 8 watch events to the executor (3 of its own, 5 of its Pod's), about 5.4 rounds and 3 writes: \(String(format: "%.2f", (8 * event + 5.4 * round + 3 * request) * 1000)) ms of CPU before any executor logic, were its events this far apart.")
    }
    if [FloorBench.Variant.socket, .nio, .decoded, .streamed, .watched].allSatisfy({ measured[$0] != nil }) {
        let socket = perEvent(.socket) { $0.cpuSeconds }
        let nio = perEvent(.nio) { $0.cpuSeconds }
        let decoded = perEvent(.decoded) { $0.cpuSeconds }
        let streamed = perEvent(.streamed) { $0.cpuSeconds }
        let watched = perEvent(.watched) { $0.cpuSeconds }
        func µs(_ value: Double) -> String { String(format: "%.0f µs", value * 1e6) }
        print("")
        print("Of an event's \(µs(watched)) through the informer: \(µs(socket)) is the kernel's (a bare read), \(µs(nio - socket)) NIO's event loop and HTTP decoder, \(µs(decoded - nio)) decoding the TaskAction, \(µs(streamed - decoded)) AsyncHTTPClient and the watch stream's task, and \(µs(watched - streamed)) the informer.")
    }
    if [FloorBench.Variant.decoded, .patched, .reconciled, .requested].allSatisfy({ measured[$0] != nil }) {
        let bare = perEvent(.patched) { $0.cpuSeconds } - perEvent(.decoded) { $0.cpuSeconds }
        let client = perEvent(.requested) { $0.cpuSeconds } - perEvent(.reconciled) { $0.cpuSeconds }
        print("")
        print("A request: \(String(format: "%.0f", client * 1e6)) µs through AsyncHTTPClient from a round, \(String(format: "%.0f", bare * 1e6)) µs on a bare NIO channel from the loop that read the event.")
    }
}

if environment["BENCH_DEBUG"] != nil {
    print("stride Pod \(MemoryLayout<Pod>.stride) ObjectMeta \(MemoryLayout<ObjectMeta>.stride) PodSpec \(MemoryLayout<PodSpec>.stride) PodStatus \(MemoryLayout<PodStatus>.stride) Container \(MemoryLayout<Container>.stride) ContainerStatus \(MemoryLayout<ContainerStatus>.stride)")
}
