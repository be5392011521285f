import ArgumentParser
import Foundation
import KubeSandbox
import UnixSignals

/// `executor sandbox`: an in-process Kubernetes API server for trying the executor without a cluster.
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run KubeSandbox, an in-process Kubernetes API server, on loopback.",
        discussion: "Writes a kubeconfig that kubectl and the executor can use, then serves until interrupted.")

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port: Int = 6443

    @Option(name: .customLong("kubeconfig-out"), help: "Where to write the kubeconfig for this sandbox.")
    var kubeconfigOut: String = "sandbox.kubeconfig"

    @Flag(help: "Run a simulated kubelet that moves Pods through Pending, Running and Succeeded or Failed.")
    var kubelet = false

    @Flag(name: .customLong("insecure-http"), help: "Serve plain HTTP without authentication instead of HTTPS.")
    var insecureHTTP = false

    @Flag(help: "Offer HTTP/2 over TLS (ALPN h2), as kube-apiserver does; without it, HTTP/1.1 only.")
    var http2 = false

    @Option(name: .customLong("bookmark-interval"), help: "Seconds between watch bookmarks.")
    var bookmarkInterval: Int = 60

    @Option(help: "Simulated operators to run, comma-separated: spark (SparkApplications), ray (RayJobs), knative (Services), pytorch, tensorflow, mpi (the Kubeflow training operator's PyTorchJobs, TFJobs, MPIJobs), dask (DaskJobs), jobset (JobSets). Their CRDs are installed.")
    var operators: String = ""

    @Option(help: "How requests are authorized: AlwaysAllow, or RBAC to enforce Roles and bindings for ServiceAccount tokens (kubectl create token <sa>).")
    var authorization: String = "AlwaysAllow"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535, got \(port)") }
        guard ["alwaysallow", "rbac"].contains(authorization.lowercased()) else { throw ValidationError("--authorization must be AlwaysAllow or RBAC, got \(authorization)") }
        _ = try Self.operatorKinds(operators)
        guard bookmarkInterval > 0 else { throw ValidationError("--bookmark-interval must be positive") }
    }

    /// `spark,ray,knative,pytorch,tensorflow,mpi,dask,jobset` as operator kinds.
    static func operatorKinds(_ text: String) throws -> [SimulatedOperators.Kind] {
        try text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { name in
            guard let kind = SimulatedOperators.Kind(rawValue: name) else {
                throw ValidationError("--operators takes \(SimulatedOperators.Kind.allCases.map(\.rawValue).joined(separator: ", ")), got \(name)")
            }
            return kind
        }
    }

    func run() async throws {
        var options = KubeSandbox.Options()
        options.port = port
        options.tls = !insecureHTTP
        options.http2 = http2
        options.bookmarkInterval = .seconds(bookmarkInterval)
        options.kubelet = kubelet
        options.authorization = authorization.lowercased() == "rbac" ? .rbac : .alwaysAllow
        options.operators = try Self.operatorKinds(operators)
        let sandbox: KubeSandbox
        do {
            sandbox = try await KubeSandbox.start(options)
        } catch {
            throw ValidationError("cannot start the sandbox on port \(port): \(error)")
        }
        try sandbox.writeKubeconfig(to: kubeconfigOut)
        say("KubeSandbox serving \(sandbox.url.absoluteString)")
        say("kubeconfig written to \(kubeconfigOut): kubectl --kubeconfig \(kubeconfigOut) get ns")
        if !options.operators.isEmpty {
            say("simulated operators: \(options.operators.map(\.rawValue).joined(separator: ", ")) (their CRDs are installed)")
        }
        if options.authorization == .rbac {
            say("RBAC is enforced for ServiceAccounts: kubectl --kubeconfig \(kubeconfigOut) create token <serviceaccount> gives a token to act as one")
        }
        await SignalWaiter.wait(for: [.sigint, .sigterm])
        say("stopping")
        await sandbox.shutdown()
    }
}

/// Writes a line to stdout at once, even when stdout is a pipe.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Waits for a termination signal, through swift-service-lifecycle's `UnixSignals` as the
/// manager does.
enum SignalWaiter {
    static func wait(for signals: [UnixSignal]) async {
        for await _ in await UnixSignalsSequence(trapping: signals) { return }
    }
}
