import DequeModule
import Foundation

/// The part of each resource's recent changes a watch may resume from, as kube-apiserver's
/// watch cache holds it: per resource, at least `minimum` events and every event younger than
/// `freshness`, at most `maximum` (kube-apiserver: 100, 75 s and 102,400, its dynamic sizing).
/// A watch from a version older than the window ends with 410 Expired, so an informer's
/// relist path runs against the sandbox as it does against a real server.
struct WatchCache: Sendable {
    struct Settings: Sendable, Equatable {
        var minimum = 100
        var freshness: Duration = .seconds(75)
        var maximum = 102_400
    }

    let settings: Settings
    private var events: [String: Deque<(version: Int64, at: Date)>] = [:]
    /// Per resource, the newest version no longer in the window.
    private var evictedThrough: [String: Int64] = [:]

    init(_ settings: Settings) {
        self.settings = settings
    }

    mutating func record(_ storageKey: String, version: Int64, at now: Date) {
        let freshSince = now.addingTimeInterval(-Double(settings.freshness.components.seconds) - Double(settings.freshness.components.attoseconds) / 1e18)
        // In place: a copy taken out of the dictionary (`var window = events[key]`) shares its
        // storage with the one left in it, so every append copied the whole window (up to
        // `maximum` entries) and the sandbox's writes cost O(window) each under load.
        if let evicted = Self.append((version, now), to: &events[storageKey, default: []], settings: settings, freshSince: freshSince) {
            evictedThrough[storageKey] = evicted
        }
    }

    /// Appends `entry` and evicts what falls out of the window; returns the newest version evicted.
    private static func append(_ entry: (version: Int64, at: Date), to window: inout Deque<(version: Int64, at: Date)>, settings: Settings, freshSince: Date) -> Int64? {
        window.append(entry)
        var evicted: Int64?
        while let oldest = window.first, window.count > settings.maximum || (window.count > settings.minimum && oldest.at < freshSince) {
            window.removeFirst()
            evicted = oldest.version
        }
        return evicted
    }

    /// The oldest version a watch of `storageKey` may start from; nil when nothing was evicted.
    func oldestResumable(_ storageKey: String) -> Int64? {
        evictedThrough[storageKey]
    }

    /// Forgets every window, as a compaction does: every older version is then too old.
    mutating func compact(through version: Int64) {
        for key in Set(events.keys).union(evictedThrough.keys) { evictedThrough[key] = version }
        events.removeAll()
    }
}
