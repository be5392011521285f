import FlyteIDL
import Foundation

/// Reads `{{.Inputs.x}}` values from an inputs file on a local path (`file://` or absolute),
/// the only storage this executor reads itself. Anywhere else (s3, gs) the placeholder is an
/// error the task sees, since silently leaving it unrendered would run the task wrong.
enum LocalInputs {
    static func reader(_ path: String) -> (@Sendable (String) throws -> String)? {
        let local: String
        if path.hasPrefix("file://") { local = String(path.dropFirst("file://".count)) } else if path.hasPrefix("/") { local = path } else { return nil }
        return { name in
            guard let data = FileManager.default.contents(atPath: local) else {
                throw TemplateRenderer.RenderError(message: "cannot read inputs file \(local)")
            }
            let map = try Flyteidl2_Core_LiteralMap(serializedBytes: data)
            guard let literal = map.literals[name] else {
                throw TemplateRenderer.RenderError(message: "input \"\(name)\" not found in \(local)")
            }
            return try render(literal)
        }
    }

    static func render(_ literal: Flyteidl2_Core_Literal) throws -> String {
        switch literal.value {
        case .scalar(let scalar):
            switch scalar.value {
            case .primitive(let p):
                switch p.value {
                case .integer(let i): return String(i)
                case .boolean(let b): return b ? "true" : "false"
                case .floatValue(let f): return goFloat(f)
                case .stringValue(let s): return s
                case .datetime(let t): return GoTimestamp.text(seconds: t.seconds, nanos: t.nanos)
                case .duration(let d): return GoDuration.text(Double(d.seconds) + Double(d.nanos) / 1e9)
                case nil: break
                }
            case .blob(let b): return b.uri
            case .schema(let s): return s.uri
            default: break
            }
        case .collection(let c):
            return "[" + (try c.literals.map(render)).joined(separator: ",") + "]"
        default: break
        }
        throw TemplateRenderer.RenderError(message: "input literal cannot be rendered as text")
    }

    /// Go's `%v` for a float64: shortest representation, exponent form outside 1e-4..1e21.
    static func goFloat(_ f: Double) -> String {
        if f == f.rounded(), abs(f) < 1e21 {
            if abs(f) >= 1e6 || f == 0 { return abs(f) >= 1e21 ? "\(f)" : (f == 0 ? "0" : String(format: "%g", f).replacingOccurrences(of: "e+0", with: "e+")) }
            return String(Int64(f))
        }
        return "\(f)"
    }

}
