import Foundation
import KubeClient

/// Kubernetes timestamps formatted and parsed by ``KubeTime`` against Foundation's
/// `Date.ISO8601FormatStyle`, which it replaced: the executor formats one per log line and
/// status write and parses several per reconcile round.
enum KubeTimeBench {
    struct Row {
        var name: String
        var foundation: Double
        var kubeTime: Double
    }

    /// Nanoseconds per call, the median of `runs`, each over `count` dates.
    static func run(count: Int, runs: Int) -> [Row] {
        let dates = (0..<count).map { Date(timeIntervalSince1970: 1_700_000_000 + Double($0) * 7.123457) }
        let texts = dates.map(KubeTime.format)
        let microTexts = dates.map(KubeTime.formatMicro)
        let style = Date.ISO8601FormatStyle()
        let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        func time(_ body: () -> Int) -> Double {
            var samples: [Double] = []
            for _ in 0..<runs {
                var sink = 0
                let elapsed = ContinuousClock().measure { sink &+= body() }
                if sink == -1 { print("") }  // keeps the work
                samples.append(elapsed.seconds / Double(count) * 1e9)
            }
            return median(samples)
        }
        return [
            Row(name: "format `2006-01-02T15:04:05Z`",
                foundation: time { dates.reduce(0) { $0 &+ style.format($1).utf8.count } },
                kubeTime: time { dates.reduce(0) { $0 &+ KubeTime.format($1).utf8.count } }),
            Row(name: "format MicroTime `…05.000000Z`",
                foundation: time { dates.reduce(0) { $0 &+ fractional.format($1).utf8.count } },
                kubeTime: time { dates.reduce(0) { $0 &+ KubeTime.formatMicro($1).utf8.count } }),
            Row(name: "parse `2006-01-02T15:04:05Z`",
                foundation: time { texts.reduce(0) { $0 &+ Int((try? style.parse($1))?.timeIntervalSince1970 ?? 0) } },
                kubeTime: time { texts.reduce(0) { $0 &+ Int(KubeTime.parse($1)?.timeIntervalSince1970 ?? 0) } }),
            Row(name: "parse MicroTime",
                foundation: time { microTexts.reduce(0) { $0 &+ Int((try? fractional.parse($1))?.timeIntervalSince1970 ?? 0) } },
                kubeTime: time { microTexts.reduce(0) { $0 &+ Int(KubeTime.parse($1)?.timeIntervalSince1970 ?? 0) } }),
        ]
    }
}
