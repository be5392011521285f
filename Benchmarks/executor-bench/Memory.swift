import CMalloc
import Foundation

/// Memory figures of this process.
enum Memory {
    /// Bytes the allocator has handed out and not had back (glibc `mallinfo2`): what live
    /// objects cost, without the pages the allocator keeps for reuse.
    static func heapInUse() -> Int {
        Int(cmalloc_heap_in_use())
    }

    /// Returns freed pages to the system so a following RSS reading means something.
    static func trim() {
        cmalloc_trim()
    }

    /// `VmRSS` or `VmHWM` from /proc/self/status, in bytes.
    static func status(_ field: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return (line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0) * 1024
        }
        return 0
    }

    static var resident: Int { status("VmRSS") }

    /// Resets VmHWM to the current RSS (Linux 4.0+), so a later reading is the peak of what
    /// ran in between.
    static func resetPeak() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }
    static var peakResident: Int { status("VmHWM") }

    static func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
}
