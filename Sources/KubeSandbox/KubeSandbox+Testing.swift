import KubeClient

extension KubeSandbox {
    /// Starts a sandbox, hands it and a client to `body`, and shuts both down afterwards,
    /// whether `body` returns or throws.
    ///
    /// ```swift
    /// try await KubeSandbox.with { sandbox, client in
    ///     _ = try await client.create(ConfigMap(metadata: .init(name: "c", namespace: "default")))
    /// }
    /// ```
    @discardableResult
    public static func with<T>(
        _ options: Options = Options(), authentication: Authentication = .clientCertificate,
        configure: (inout ClientConfiguration) -> Void = { _ in },
        _ body: (KubeSandbox, KubernetesClient) async throws -> T
    ) async throws -> T {
        let sandbox = try await KubeSandbox.start(options)
        var config = sandbox.clientConfiguration(authentication: authentication)
        configure(&config)
        let client: KubernetesClient
        do {
            client = try KubernetesClient(configuration: config)
        } catch {
            await sandbox.shutdown()
            throw error
        }
        do {
            let result = try await body(sandbox, client)
            try? await client.shutdown()
            await sandbox.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            await sandbox.shutdown()
            throw error
        }
    }
}
