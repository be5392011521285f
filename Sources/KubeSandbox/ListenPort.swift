import Foundation

/// Where a sandbox asked for "any free port" listens: a random port below the kernel's
/// ephemeral range (`net.ipv4.ip_local_port_range`), not one the kernel picks from it.
///
/// Why: ``KubeSandbox/restart()`` serves again on the same port, as an API server comes back
/// at its address. A port from the ephemeral range can be taken, between stop and restart, as
/// the local port of any outgoing connection on the machine (a test suite opens thousands),
/// and then the restart fails with "Address already in use". Outgoing connections never take a
/// port below the range.
enum ListenPort {
    /// The lowest port tried; below it are well-known and registered services.
    static let floor = 10_000

    /// Up to `count` distinct random ports between ``floor`` and the ephemeral range, or none
    /// when the range cannot be read or leaves no room (then the kernel picks).
    static func candidates(count: Int = 16) -> [Int] {
        guard let low = ephemeralRangeStart(), low - floor >= 1_000 else { return [] }
        var ports = Set<Int>()
        while ports.count < count { ports.insert(Int.random(in: floor..<low)) }
        return Array(ports)
    }

    /// The first port of the kernel's ephemeral range, or nil when it cannot be read.
    static func ephemeralRangeStart(rangeFile: String = "/proc/sys/net/ipv4/ip_local_port_range") -> Int? {
        guard let text = try? String(contentsOfFile: rangeFile, encoding: .utf8) else { return nil }
        return text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) }
    }
}
