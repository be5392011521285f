import KubeClient

/// How fast this host runs one thread of the executor's own code right now, so that a CPU figure
/// measured on a slow or shared host can be told from one measured on a quiet host. The executor's
/// CPU per TaskAction moved by a factor of two between evenings with no change to the code; the
/// issue's CPU targets are for a quiet machine, and this line says how fast the host ran one
/// thread around the runs (a neighbour on the other core can still move the executor's figure).
///
/// The measure is the "Watch event decoding" section's status-view row: 20,000 recorded Pod
/// watch events decoded on one thread with `Pod.statusViewDecoder`, median of three passes.
enum HostPace {
    /// That row on the quiet run of 2026-11-23 (docs/benchmarks.md, "Watch event decoding").
    static let quietEventsPerSecond = 72_969.0

    /// Events in the stream `measure` is given (`PodEvents.stream(count: eventCount)`).
    static let eventCount = 20_000

    /// Pod watch events of `events` decoded per second on one thread, now.
    static func measure(_ events: [UInt8]) throws -> Double {
        try decodeRate(events, runs: 3, decode).perSecond
    }

    /// The status-view row's work on one event line.
    static func decode(_ line: ArraySlice<UInt8>) throws {
        _ = try WatchEventDecoder.typed(line, as: Pod.self, decoder: Pod.statusViewDecoder)
    }

    /// "41853 events/s (57% of the quiet reference)".
    static func describe(_ perSecond: Double) -> String {
        "\(Int(perSecond)) events/s (\(Int((perSecond / quietEventsPerSecond * 100).rounded()))% of the quiet reference)"
    }
}
