import Foundation
import Logging

// `drills [--short] [name …]`: runs the reliability drills (all by default) and prints one
// line of figures each; exits 1 when any fails. See docs/reliability.md.
let arguments = Array(CommandLine.arguments.dropFirst())
let short = arguments.contains("--short")
let names = arguments.filter { !$0.hasPrefix("--") }
if let unknown = names.first(where: { Drill(rawValue: $0) == nil }) {
    FileHandle.standardError.write(Data("drills: unknown drill \"\(unknown)\"; known: \(Drill.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
    exit(2)
}
let level = Logger.Level(rawValue: ProcessInfo.processInfo.environment["DRILL_LOG_LEVEL"] ?? "critical") ?? .critical
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = level
    return handler
}
var failed = false
for drill in Drill.allCases where names.isEmpty || names.contains(drill.rawValue) {
    do {
        let result = try await drill.run(short: short)
        print(result.line)
        for problem in result.failures + result.audit.problems.prefix(20) + result.audit.lost.prefix(20).map({ "not terminal: \($0)" }) {
            print("  \(problem)")
        }
        if ProcessInfo.processInfo.environment["DRILL_DEBUG"] != nil {
            for detail in result.audit.details { print("  detail: \(detail)") }
        }
        if !result.passed { failed = true }
    } catch {
        print("drill=\(drill.rawValue) result=FAIL error=\"\(error)\"")
        failed = true
    }
}
exit(failed ? 1 : 0)
