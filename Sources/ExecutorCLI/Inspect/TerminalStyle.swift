import ExecutorControllers
import Foundation

/// Colour for people, plain text for pipes: ANSI colours only when standard output is a
/// terminal, `NO_COLOR` is unset or empty (no-color.org) and `TERM` is not `dumb`.
struct TerminalStyle: Sendable {
    var colored: Bool

    static let plain = TerminalStyle(colored: false)

    /// What this process's standard output and environment call for.
    static func detect(environment: [String: String] = ProcessInfo.processInfo.environment) -> TerminalStyle {
        let noColor = !(environment["NO_COLOR"] ?? "").isEmpty
        let dumb = environment["TERM"] == "dumb"
        return TerminalStyle(colored: isatty(STDOUT_FILENO) == 1 && !noColor && !dumb)
    }

    enum Color: String {
        case red = "31", green = "32", yellow = "33", blue = "34", cyan = "36", gray = "90", bold = "1"
    }

    func paint(_ text: String, _ color: Color?) -> String {
        guard colored, let color, !text.isEmpty else { return text }
        return "\u{1B}[\(color.rawValue)m\(text)\u{1B}[0m"
    }

    func bold(_ text: String) -> String { paint(text, .bold) }

    /// A phase in its colour: green done, red failed, blue running, yellow waiting.
    func phase(_ phase: String) -> String {
        paint(phase, Self.color(ofPhase: phase))
    }

    static func color(ofPhase phase: String) -> Color? {
        switch PhaseChange.normalizedPhase(phase) {
        case "SUCCEEDED", "ACTIVE": .green
        case "FAILED", "TIMEDOUT", "ABORTED", "RETRYABLEFAILURE": .red
        case "RUNNING", "DEPLOYING": .blue
        case "QUEUED", "INITIALIZING", "PAUSED", "PENDING", "WAITINGFORRESOURCES": .yellow
        case "STOPPED": .gray
        default: nil
        }
    }
}

/// Columns aligned as kubectl aligns them: left-justified, three spaces apart, the last
/// column not padded. Widths count what is shown, not the colour codes around it.
struct TextTable {
    var header: [String]
    var rows: [[(text: String, color: TerminalStyle.Color?)]] = []

    init(_ header: [String]) {
        self.header = header
    }

    mutating func add(_ cells: [(text: String, color: TerminalStyle.Color?)]) {
        rows.append(cells)
    }

    mutating func add(plain cells: [String]) {
        rows.append(cells.map { ($0, nil) })
    }

    func render(style: TerminalStyle, indent: String = "") -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.text.count)
            }
        }
        func line(_ cells: [(text: String, color: TerminalStyle.Color?)]) -> String {
            var out = indent
            for (index, cell) in cells.enumerated() {
                let last = index == cells.count - 1
                out += style.paint(cell.text, cell.color)
                if !last { out += String(repeating: " ", count: widths[index] - cell.text.count + 3) }
            }
            while out.hasSuffix(" ") { out.removeLast() }
            return out
        }
        var lines = [line(header.map { ($0, nil) })]
        lines += rows.map(line)
        return lines.joined(separator: "\n") + "\n"
    }
}

/// `text` on one line: runs of white space that hold a line break become one space (Flyte's
/// Pod messages end in newlines), and the ends are trimmed.
func oneLine(_ text: String) -> String {
    guard text.contains(where: \.isNewline) else { return text.trimmingCharacters(in: .whitespaces) }
    return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
}
