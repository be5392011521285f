import Foundation
import KubeClient

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

let eventCount = Int(ProcessInfo.processInfo.environment["BENCH_EVENTS"] ?? "") ?? 20_000
let runs = Int(ProcessInfo.processInfo.environment["BENCH_RUNS"] ?? "") ?? 5
let stream = PodEvents.stream(count: eventCount)
let averageBytes = stream.count / eventCount

print("## Watch event decoding")
print("")
print("\(eventCount) recorded Pod watch events (a typical Flyte task Pod with managedFields, \(averageBytes) bytes each), fed in 16 KiB chunks; median of \(runs) runs, one core.")
print("")
print("| decoder | events/s | MB/s |")
print("|---|---:|---:|")
let only = ProcessInfo.processInfo.environment["BENCH_ONLY"]
func row(_ name: String, _ key: String, _ decode: (ArraySlice<UInt8>) throws -> Void) throws {
    guard only == nil || only == key else { return }
    let result = try measure(runs: runs) { try decodeStream(stream) { line in try decode(line); return WatchEvent<Int>.bookmark(resourceVersion: "") } }
    print("| \(name) | \(Int(result.perSecond)) | \(String(format: "%.1f", Double(stream.count) / result.seconds / 1e6)) |")
}
let lean = JSONBytesDecoder(discardUnknownFields: true, discardManagedFields: true)
try row("typed `Pod` for a cache: managedFields and unknown fields dropped", "lean") { _ = try WatchEventDecoder.typed($0, as: Pod.self, decoder: lean) }
try row("typed `Pod`, every field kept", "typed") { _ = try WatchEventDecoder.typed($0, as: Pod.self) }
try row("typed `Pod`, every field kept, through the parsed tree", "tree-typed") { line in
    if let object = try WatchEventDecoder.dynamic(line).object { _ = try JSONValueDecoder().decode(Pod.self, from: object) }
}
try row("dynamic `JSONValue`", "dynamic") { _ = try WatchEventDecoder.dynamic($0) }
try row("JSON tree only (`JSONValue.parse`)", "tree") { _ = try JSONValue.parse($0) }
try row("line splitting only", "lines") { _ in }
