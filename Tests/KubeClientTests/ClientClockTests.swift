import Foundation
import KubeClient
import KubeRuntimeTesting
import KubeSandbox
import Testing

/// The client's retries wait on the clock it is given, so their timing is tested without
/// real time.
@Suite("Client retries on an injected clock")
struct ClientClockTests {
    /// Waits (in real time, briefly) until something sleeps on `clock`.
    static func untilSleeping(_ clock: ManualClock) async throws {
        try await eventually("a sleeper on the clock") { clock.sleeperCount > 0 }
    }

    @Test("a 429's Retry-After is waited out on the client's clock, then the call succeeds")
    func retryAfter() async throws {
        try await KubeSandbox.with { sandbox, _ in
            await sandbox.faults.failNext(1, code: 429, retryAfterSeconds: 30, method: "GET", pathContains: "configmaps")
            let clock = ManualClock()
            let client = try KubernetesClient(configuration: sandbox.clientConfiguration(), clock: clock)
            let call = Task { try await client.list(ConfigMap.self, namespace: "default") }
            try await Self.untilSleeping(clock)
            #expect(clock.nextDeadline == clock.now + .seconds(30))
            clock.advance(by: .seconds(30))
            _ = try await call.value
            #expect(await sandbox.faults.servedCount(code: 429) == 1)
            try await client.shutdown()
        }
    }

    @Test("a 500 on a GET is retried after the policy's backoff: the first delay lies between the initial backoff and half again")
    func backoff() async throws {
        try await KubeSandbox.with { sandbox, _ in
            await sandbox.faults.failNext(2, code: 500, method: "GET", pathContains: "configmaps")
            let clock = ManualClock()
            var configuration = sandbox.clientConfiguration()
            configuration.retry = .init(maxAttempts: 5, initialBackoff: .seconds(10), maxBackoff: .seconds(60))
            let client = try KubernetesClient(configuration: configuration, clock: clock)
            let call = Task { try await client.list(ConfigMap.self, namespace: "default") }
            try await Self.untilSleeping(clock)
            let first = try #require(clock.nextDeadline) - clock.now
            #expect(first >= .seconds(10) && first <= .seconds(15), "\(first)")
            clock.advance(by: first)
            try await Self.untilSleeping(clock)
            let second = try #require(clock.nextDeadline) - clock.now
            #expect(second >= .seconds(20) && second <= .seconds(30), "\(second)")
            clock.advance(by: second)
            _ = try await call.value
            #expect(await sandbox.faults.servedCount(code: 500) == 2)
            try await client.shutdown()
        }
    }
}
