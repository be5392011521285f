import Foundation
import KubeClient
import KubeSandbox
import TaskPlugins

extension Drill {
    /// Two executor processes with `--leader-elect`, each with a ServiceAccount token of its own
    /// so the sandbox's audit records tell their writes apart. The leader is killed with SIGKILL
    /// once a quarter of 1,000 (200) TaskActions are done; the standby must take the Lease once
    /// it has not been renewed for a lease duration, finish the run, and never write while the
    /// other leads.
    static func leaderFailover(short: Bool) async throws -> DrillResult {
        let count = short ? 200 : 1000
        let leaseName = "abf369a8.flyte.org"
        // client-go's defaults, which `run` keeps: a standby takes a lease not renewed for
        // 15 s, trying every 2 s stretched by up to 20 %.
        let leaseDuration = 15.0, retryPeriod = 2.0
        return try await DrillWorld.with(executor: false, auditWrites: true) { world in
            let users = ["a", "b"].map { "system:serviceaccount:default:executor-\($0)" }
            let processes = try ["a", "b"].map { id in
                try ExecutorProcess(sandbox: world.sandbox, authentication: .bearerToken(world.sandbox.serviceAccountToken(namespace: "default", name: "executor-\(id)")),
                                    arguments: ["--leader-elect"], environment: ["POD_NAME": "drill-\(id)"])
            }
            defer { processes.forEach { $0.stop() } }
            try processes[0].start()
            guard await world.waitForLeaseHolder(leaseName, prefix: "drill-a_", limit: .seconds(60)) else {
                throw DrillError(processes[0].unexpectedExit ?? "the first executor did not take the lease within 60 s")
            }
            try processes[1].start()
            let started = ContinuousClock.now
            let names = try await world.create(count, prefix: "failover")
            while await world.countTerminal(names) < count / 4 {
                if ContinuousClock.now - started > .seconds(300) { throw DrillError("a quarter of the TaskActions did not finish within 300 s") }
                try await Task.sleep(for: .milliseconds(250))
            }
            let killedAt = Date()
            processes[0].kill()
            let tookOver = await world.waitForLeaseHolder(leaseName, prefix: "drill-b_", limit: .seconds(60))
            let terminal = await world.waitTerminal(names, limit: short ? .seconds(180) : .seconds(600), giveUp: { processes[1].unexpectedExit != nil })
            let converged = (ContinuousClock.now - started).seconds
            let audit = try await Audit.run(world, names: names)

            let records = world.sandbox.auditRecords
            let leaseWrites = records.filter { $0.resource == "leases" && $0.name == leaseName }
            let lastRenewal = leaseWrites.last { $0.user == users[0] }?.time
            let acquired = leaseWrites.first { $0.user == users[1] }?.time
            let writers = Self.writersByAction(records, names: names, users: users)
            // Writes the standby made before it held the lease, and actions whose writes run
            // a → b → a (or with any write by b before one by a): two leaders at once.
            let standbyWrites = records.filter { record in record.user == users[1] && record.resource != "leases" && acquired.map { record.time < $0 } ?? true }.count
            let both = writers.values.filter { Set($0).count == 2 }.count
            let overlapping = writers.values.filter { sequence in
                guard let firstB = sequence.firstIndex(of: 1) else { return false }
                return sequence[firstB...].contains(0)
            }.count
            var result = DrillResult(name: "leader-failover", actions: count, audit: audit, convergeSeconds: converged, requestsPerAction: nil)
            // For the investigation: every write to an action whose Pod was made twice.
            let creates = await world.sandbox.createCounts(Pod.resourceType)
            let doubled = Set(creates.filter { $0.value > 1 }.keys.map { String($0.dropFirst("default/".count)) })
            let start = records.first?.time ?? killedAt
            for record in records where record.name.map({ doubled.contains($0) || doubled.contains(ChildNames.generated(taskAction: $0, attempt: 1)) }) == true {
                result.audit.details.append(String(format: "t=%.3f ", record.time.timeIntervalSince(start)) + "\(record.user.split(separator: ":").last ?? "") \(record.verb) \(record.resource)/\(record.subresource ?? "") \(record.name ?? "")")
            }
            result.audit.details.append(String(format: "killed at t=%.3f", killedAt.timeIntervalSince(start)))
            let takeover = acquired.map { $0.timeIntervalSince(killedAt) }
            let gap = lastRenewal.flatMap { renewal in acquired.map { $0.timeIntervalSince(renewal) } }
            result.extra = [("takeover_s", takeover.map { String(format: "%.1f", $0) } ?? "-"), ("unrenewed_s", gap.map { String(format: "%.1f", $0) } ?? "-"),
                            ("handed_over", "\(both)"), ("by_two_leaders", "\(overlapping)"), ("standby_writes", "\(standbyWrites)")]
            if let exit = processes[1].unexpectedExit { result.failures.append(exit) }
            if terminal < count { result.failures.append("\(count - terminal) not terminal") }
            if !tookOver || acquired == nil { result.failures.append("the standby never took the lease") }
            // The standby counts the lease duration from when it saw the last renewal, which its
            // poll (every retry period, up to 20 % jitter) finds up to one period late, and takes
            // the lease at its first poll after that: at most two jittered periods past the
            // duration (client-go's algorithm), plus 1 s of scheduling slack.
            let bound = leaseDuration + 2 * retryPeriod * 1.2
            if let gap, gap > bound + 1 {
                result.failures.append(String(format: "the standby took the lease %.1f s after its last renewal; at most %.1f expected", gap, bound))
            }
            if overlapping > 0 { result.failures.append("\(overlapping) actions written by both leaders at once") }
            if standbyWrites > 0 { result.failures.append("the standby wrote \(standbyWrites) times before it led") }
            if both == 0 { result.failures.append("no action was handed over mid-run (killed too late?)") }
            return result
        }
    }

    /// For every action, which process (0 or 1, the index in `users`) made each write to it or
    /// to one of its Pods, in the order the server took them.
    static func writersByAction(_ records: [AuditRecord], names: [String], users: [String]) -> [String: [Int]] {
        var owner: [String: String] = [:]
        for name in names {
            owner["taskactions/\(name)"] = name
            for attempt in 1...4 { owner["pods/\(ChildNames.generated(taskAction: name, attempt: attempt))"] = name }
        }
        var writers: [String: [Int]] = [:]
        for record in records {
            guard let writer = users.firstIndex(of: record.user), let name = record.name, let action = owner["\(record.resource)/\(name)"] else { continue }
            writers[action, default: []].append(writer)
        }
        return writers
    }
}

extension DrillWorld {
    /// Waits until the Lease's holder identity starts with `prefix`; whether it did in `limit`.
    func waitForLeaseHolder(_ name: String, prefix: String, limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let lease = try? await client.get(Lease.self, name: name, namespace: "default"), lease.spec?.holderIdentity?.hasPrefix(prefix) == true { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}
