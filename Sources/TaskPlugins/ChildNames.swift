/// Names of the objects plugins create.
public enum ChildNames {
    /// `<taskaction>-<attempt-1>`, shortened when a plugin caps the length, and made a valid
    /// DNS-1123 subdomain.
    public static func generated(taskAction name: String, attempt: Int, maxLength: Int? = nil) -> String {
        var generated = sanitize("\(name)-\(max(0, attempt - 1))")
        if let maxLength, generated.count > maxLength {
            generated = "f" + base32(fnv1a32(generated))
        }
        return generated
    }

    /// Base32 of the big-endian bytes of `value`, in Flyte's alphabet, without padding.
    static func base32(_ value: UInt32) -> String {
        FlyteBase32.encode([UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)])
    }

    /// A DNS-1123 subdomain: camelCase to kebab-case, lower case, only `[-.a-z0-9]`, no
    /// leading or trailing `.`/`-`; longer than 253 characters it is cut and a hash appended.
    public static func sanitize(_ name: String) -> String {
        if isDNS1123Subdomain(name) { return name }
        var kebab = ""
        var previousLower = false
        for ch in name {
            if ch.isUppercase && previousLower { kebab.append("-") }
            previousLower = ch.isLowercase || ch.isNumber
            kebab.append(contentsOf: ch.lowercased())
        }
        var cleaned = String(kebab.filter { $0 == "-" || $0 == "." || ("a"..."z").contains($0) || ("0"..."9").contains($0) })
        while let first = cleaned.first, first == "-" || first == "." { cleaned.removeFirst() }
        while let last = cleaned.last, last == "-" || last == "." { cleaned.removeLast() }
        if cleaned.count > 253 {
            cleaned = String(cleaned.prefix(253 - 9)) + "-" + base32(fnv1a32(cleaned)).prefix(8)
        }
        return cleaned
    }

    public static func isDNS1123Label(_ s: String) -> Bool {
        guard !s.isEmpty, s.count <= 63 else { return false }
        let chars = Array(s.utf8)
        guard let first = chars.first, let last = chars.last, lowercaseAlphanumeric(first), lowercaseAlphanumeric(last) else { return false }
        return chars.allSatisfy { lowercaseAlphanumeric($0) || $0 == 45 }
    }

    public static func isDNS1123Subdomain(_ s: String) -> Bool {
        // Dot-separated labels of `[a-z0-9-]`, each 1-63 long and alphanumeric at both ends;
        // one pass over the bytes (this runs for every reconcile's generated name).
        let utf8 = s.utf8
        guard !utf8.isEmpty, utf8.count <= 253 else { return false }
        var length = 0
        var previous: UInt8 = 0
        for c in utf8 {
            if c == UInt8(ascii: ".") {
                guard length > 0, lowercaseAlphanumeric(previous) else { return false }
                length = 0
            } else {
                guard lowercaseAlphanumeric(c) || c == UInt8(ascii: "-"), length > 0 || lowercaseAlphanumeric(c), length < 63 else { return false }
                length += 1
            }
            previous = c
        }
        return length > 0 && lowercaseAlphanumeric(previous)
    }

    /// A label value: at most 63 characters of `[-._a-zA-Z0-9]`, starting and ending alphanumeric.
    public static func labelValue(_ s: String) -> String {
        // Runs for several labels each round: when every byte is already allowed (the usual
        // case) only the cut and the trim apply, with no Character (grapheme) walk.
        let utf8 = s.utf8
        func allowed(_ c: UInt8) -> Bool { alphanumeric(c) || c == 45 || c == 95 || c == 46 }
        if utf8.allSatisfy(allowed) {
            var bytes = utf8.prefix(63)
            while let first = bytes.first, !alphanumeric(first) { bytes.removeFirst() }
            while let last = bytes.last, !alphanumeric(last) { bytes.removeLast() }
            return bytes.count == utf8.count ? s : String(Substring(bytes))
        }
        var v = String(s.map { ch -> Character in
            (ch.isASCII && (ch.isLetter || ch.isNumber || ch == "-" || ch == "_" || ch == ".")) ? ch : "-"
        }.prefix(63))
        while let f = v.first, !(f.isLetter || f.isNumber) { v.removeFirst() }
        while let l = v.last, !(l.isLetter || l.isNumber) { v.removeLast() }
        return v
    }

    /// ASCII `[a-z0-9]`: what DNS-1123 names are made of, with `-` inside.
    static func lowercaseAlphanumeric(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 48 && c <= 57) }

    /// ASCII `[a-zA-Z0-9]`.
    static func alphanumeric(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) }
}
