import Foundation
import Logging

// `drills [--short] [name …]`: runs the reliability drills (all by default) and prints one
// line of figures each; exits 1 when any fails. See docs/reliability.md.
/// One line at once, also when standard output is a file (print's buffer would hold it).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

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
        say(result.line)
        for problem in result.failures + result.audit.problems.prefix(20) + result.audit.lost.prefix(20).map({ "not terminal: \($0)" }) {
            say("  \(problem)")
        }
        // A failure says what it found (CI keeps only this output); DRILL_DEBUG says it always.
        if ProcessInfo.processInfo.environment["DRILL_DEBUG"] != nil {
            for detail in result.audit.details { say("  detail: \(detail)") }
        } else if !result.passed {
            for detail in result.audit.details.prefix(20) { say("  detail: \(detail)") }
        }
        if !result.passed { failed = true }
    } catch {
        say("drill=\(drill.rawValue) result=FAIL error=\"\(error)\"")
        failed = true
    }
}
exit(failed ? 1 : 0)
