/// Faults a test asks the sandbox to inject into the requests it serves.
public actor FaultInjector {
    /// What happens to one matching request.
    public struct Fault: Sendable {
        /// Answer with this HTTP status instead of serving the request.
        public var code: Int?
        /// The `Retry-After` header, in seconds, sent with `code`.
        public var retryAfterSeconds: Int?
        /// Wait this long before answering.
        public var latency: Duration?
        /// Serve the request at once and hold its answer until this gate opens, as a slow
        /// network does on the way back: the change is stored, and its watch events go out,
        /// first.
        public var answerGate: AnswerGate?
    }

    struct Rule {
        var remaining: Int
        var fault: Fault
        var method: String?
        var pathContains: String?
    }

    var rules: [Rule] = []
    var latency: Duration?
    /// A share of all requests (0…1) answered with one of `codes` at random.
    var random: (fraction: Double, codes: [Int], retryAfterSeconds: Int?, exceptWatches: Bool)?
    var watchDelays: [(pathContains: String, types: Set<String>?, delay: Duration)] = []
    var served: [Int: Int] = [:]

    public init() {}

    /// Fails the next `count` requests matching `method` and `pathContains` with `code`.
    public func failNext(_ count: Int, code: Int, retryAfterSeconds: Int? = nil, method: String? = nil, pathContains: String? = nil) {
        rules.append(Rule(remaining: count, fault: Fault(code: code, retryAfterSeconds: retryAfterSeconds), method: method, pathContains: pathContains))
    }

    /// Serves the next `count` requests matching `method` and `pathContains` at once and holds
    /// their answers until the returned gate opens: their watch events reach watchers first.
    public func holdAnswers(_ count: Int, method: String? = nil, pathContains: String? = nil) -> AnswerGate {
        let gate = AnswerGate()
        rules.append(Rule(remaining: count, fault: Fault(answerGate: gate), method: method, pathContains: pathContains))
        return gate
    }

    /// Answers `fraction` of the requests (0…1), picked at random, with one of `codes`, as an
    /// overloaded or flaky API server does; `exceptWatches` spares watch requests. 0 stops it.
    public func failRandomly(fraction: Double, codes: [Int], retryAfterSeconds: Int? = nil, exceptWatches: Bool = false) {
        random = fraction > 0 && !codes.isEmpty ? (min(1, fraction), codes, retryAfterSeconds, exceptWatches) : nil
    }

    /// Delays every request by `delay`; `nil` removes the delay.
    public func setLatency(_ delay: Duration?) { latency = delay }

    /// Holds back the events of `types` (all when nil; `ADDED`, `MODIFIED`, …) of watches
    /// opened from now on whose path contains `pathContains` by `delay`, as a slow watch cache
    /// or network would. Events stay in order: one held back holds back those after it.
    public func delayWatchEvents(_ delay: Duration, pathContains: String, types: Set<String>? = nil) {
        watchDelays.append((pathContains, types, delay))
    }

    func watchDelay(path: String) -> (types: Set<String>?, delay: Duration)? {
        watchDelays.first { path.contains($0.pathContains) }.map { ($0.types, $0.delay) }
    }

    /// How many requests were answered with an injected `code` since the sandbox started, so
    /// a test can check that the fault it set up was met.
    public func servedCount(code: Int) -> Int { served[code, default: 0] }

    /// Removes every pending fault.
    public func reset() {
        rules.removeAll()
        latency = nil
        random = nil
        watchDelays.removeAll()
    }

    func take(method: String, path: String, isWatch: Bool = false) -> Fault? {
        var fault: Fault?
        if let index = rules.firstIndex(where: { rule in
            rule.remaining > 0 && (rule.method == nil || rule.method == method) && (rule.pathContains.map { path.contains($0) } ?? true)
        }) {
            rules[index].remaining -= 1
            fault = rules[index].fault
            if let code = fault?.code { served[code, default: 0] += 1 }
            if rules[index].remaining == 0 { rules.remove(at: index) }
        } else if let random, !(random.exceptWatches && isWatch), Double.random(in: 0..<1) < random.fraction, let code = random.codes.randomElement() {
            fault = Fault(code: code, retryAfterSeconds: random.retryAfterSeconds)
            served[code, default: 0] += 1
        }
        if let latency {
            fault = fault ?? Fault()
            fault?.latency = latency
        }
        return fault
    }
}

/// Holds the answers of the requests a ``FaultInjector/holdAnswers(_:method:pathContains:)``
/// rule matched until a test opens it.
public actor AnswerGate {
    private var isOpen = false
    private var waiting: [CheckedContinuation<Void, Never>] = []
    /// How many answers are being held now.
    public var held: Int { waiting.count }

    /// Lets every held answer, and every later one, go.
    public func open() {
        isOpen = true
        for answer in waiting { answer.resume() }
        waiting = []
    }

    func pass() async {
        if isOpen { return }
        await withCheckedContinuation { waiting.append($0) }
    }
}
