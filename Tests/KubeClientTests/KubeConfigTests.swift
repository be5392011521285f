import Foundation
@testable import KubeClient
import Testing

@Suite("Kubeconfig and in-cluster configuration")
struct KubeConfigTests {
    func config(_ yaml: String, context: String? = nil, in dir: TempDirectory? = nil) throws -> ClientConfiguration {
        let dir = try dir ?? TempDirectory()
        let path = try dir.write("config", yaml)
        return try ClientConfiguration.fromKubeconfig(paths: [path], context: context)
    }

    func message(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    static let twoContexts = """
        apiVersion: v1
        kind: Config
        current-context: dev
        clusters:
        - name: c1
          cluster:
            server: https://10.0.0.1:6443
            certificate-authority-data: \(base64(PEMFixtures.ecCertificate))
            tls-server-name: api.internal
        - name: c2
          cluster:
            server: http://127.0.0.1:8080
        users:
        - name: token-user
          user:
            token: abc
        - name: cert-user
          user:
            client-certificate-data: \(base64(PEMFixtures.rsaCertificate))
            client-key-data: \(base64(PEMFixtures.rsaKeyPKCS1))
        contexts:
        - name: dev
          context: {cluster: c1, user: token-user, namespace: team-a}
        - name: local
          context: {cluster: c2, user: cert-user}
        """

    @Test("resolves the current context: server, CA, tls-server-name, token and namespace")
    func currentContext() throws {
        let c = try config(Self.twoContexts)
        #expect(c.server.absoluteString == "https://10.0.0.1:6443")
        #expect(c.tls.caPEM == Array(PEMFixtures.ecCertificate.utf8))
        #expect(c.tls.serverName == "api.internal")
        #expect(c.namespace == "team-a")
        guard case .bearerToken("abc") = c.credentials else { Issue.record("credentials \(c.credentials)"); return }
    }

    @Test("merge keys (<<: *anchor) merge, and YAML 1.1 booleans are read, as client-go's loader reads them")
    func mergeKeysAndBooleans() throws {
        let c = try config("""
            current-context: dev
            clusters:
            - name: c
              cluster: &defaults
                server: https://10.0.0.9:6443
                insecure-skip-tls-verify: yes
            - name: d
              cluster:
                <<: *defaults
                server: https://10.0.0.10:6443
            users: [{name: u, user: {token: "007"}}]
            contexts: [{name: dev, context: {cluster: d, user: u, namespace: 'on'}}]
            """)
        #expect(c.server.absoluteString == "https://10.0.0.10:6443")
        #expect(c.tls.insecureSkipVerify)
        #expect(c.namespace == "on")
        guard case .bearerToken("007") = c.credentials else { Issue.record("credentials \(c.credentials)"); return }
    }

    @Test("an explicit context wins over current-context; a missing namespace means default")
    func explicitContext() throws {
        let c = try config(Self.twoContexts, context: "local")
        #expect(c.server.absoluteString == "http://127.0.0.1:8080")
        #expect(c.namespace == "default")
        #expect(c.tls.clientCertificatePEM == nil, "plain HTTP carries no TLS material")
    }

    @Test("reads client certificates and RSA (PKCS#1 and PKCS#8) and EC keys from files relative to the kubeconfig")
    func certificateFiles() throws {
        for key in [PEMFixtures.rsaKeyPKCS1, PEMFixtures.rsaKeyPKCS8, PEMFixtures.ecKey] {
            let dir = try TempDirectory()
            try dir.write("certs/ca.crt", PEMFixtures.ecCertificate)
            try dir.write("certs/user.crt", PEMFixtures.rsaCertificate)
            try dir.write("certs/user.key", key)
            let c = try config("""
                current-context: x
                clusters: [{name: c, cluster: {server: "https://h:1", certificate-authority: certs/ca.crt}}]
                users: [{name: u, user: {client-certificate: certs/user.crt, client-key: certs/user.key}}]
                contexts: [{name: x, context: {cluster: c, user: u}}]
                """, in: dir)
            #expect(c.tls.clientKeyPEM == Array(key.utf8))
            #expect(c.tls.caPEM == Array(PEMFixtures.ecCertificate.utf8))
        }
    }

    @Test("tokenFile, basic auth, exec and insecure-skip-tls-verify are understood")
    func otherCredentials() throws {
        let dir = try TempDirectory()
        let tokenFile = try dir.write("token", "file-token\n")
        let c = try config("""
            current-context: a
            clusters: [{name: c, cluster: {server: "https://h:1", insecure-skip-tls-verify: true}}]
            users:
            - {name: f, user: {tokenFile: \(tokenFile)}}
            - {name: b, user: {username: admin, password: secret}}
            - {name: e, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: get-token, args: [a]}}}
            contexts:
            - {name: a, context: {cluster: c, user: f}}
            - {name: b, context: {cluster: c, user: b}}
            - {name: e, context: {cluster: c, user: e}}
            """, in: dir)
        #expect(c.tls.insecureSkipVerify)
        guard case .tokenFile(tokenFile) = c.credentials else { Issue.record("\(c.credentials)"); return }
        let b = try config("""
            current-context: b
            clusters: [{name: c, cluster: {server: "https://h:1"}}]
            users: [{name: b, user: {username: admin, password: secret}}]
            contexts: [{name: b, context: {cluster: c, user: b}}]
            """)
        guard case .basic("admin", "secret") = b.credentials else { Issue.record("\(b.credentials)"); return }
    }

    @Test("KUBECONFIG merges files: the first to define a name or current-context wins; missing files are skipped")
    func mergeRules() throws {
        let dir = try TempDirectory()
        let first = try dir.write("a", """
            current-context: ctx
            clusters: [{name: shared, cluster: {server: "https://first:1"}}]
            contexts: [{name: ctx, context: {cluster: shared, user: u}}]
            """)
        let second = try dir.write("b", """
            current-context: other
            clusters: [{name: shared, cluster: {server: "https://second:1"}}]
            users: [{name: u, user: {token: from-second}}]
            contexts: [{name: other, context: {cluster: shared}}]
            """)
        let c = try ClientConfiguration.load(environment: ["KUBECONFIG": "\(first):\(dir.path)/missing:\(second)", "HOME": dir.path])
        #expect(c.server.host == "first")
        guard case .bearerToken("from-second") = c.credentials else { Issue.record("\(c.credentials)"); return }
        #expect(c.source.contains("context \"ctx\""))
    }

    @Test("a bad file or entry ends with one error naming the file, the entry and what is wrong", arguments: [
        ("clusters: [", "YAML syntax error"),
        ("current-context: nope\ncontexts: []", "context \"nope\" not found"),
        ("contexts: [{name: x, context: {cluster: c}}]", "no current-context is set"),
        ("current-context: x\ncontexts: [{name: x, context: {cluster: c}}]", "cluster \"c\" of context \"x\" not found"),
        ("current-context: x\nclusters: [{name: c, cluster: {}}]\ncontexts: [{name: x, context: {cluster: c}}]", "cluster \"c\" has no server"),
        ("current-context: x\nclusters: [{name: c, cluster: {server: \"ftp://h\"}}]\ncontexts: [{name: x, context: {cluster: c}}]", "is not an http or https URL"),
        ("current-context: x\nclusters: [{name: c, cluster: {server: \"https://h\", certificate-authority-data: \"!!\"}}]\ncontexts: [{name: x, context: {cluster: c}}]", "certificate-authority-data is not valid base64"),
        ("current-context: x\nclusters: [{name: c, cluster: {server: \"https://h\", certificate-authority: /nonexistent/ca.crt}}]\ncontexts: [{name: x, context: {cluster: c}}]", "cannot read certificate-authority /nonexistent/ca.crt"),
        ("current-context: x\nclusters: [{name: c, cluster: {server: \"https://h\"}}]\ncontexts: [{name: x, context: {cluster: c, user: dev}}]", "user \"dev\" of context \"x\" not found"),
        ("current-context: x\nclusters: [{name: c, cluster: {server: \"https://h\"}}]\nusers: [{name: dev, user: {token: t, username: a, password: b}}]\ncontexts: [{name: x, context: {cluster: c, user: dev}}]", "user \"dev\" has more than one authentication method (token, basicAuth)"),
        ("current-context: x\nclusters: [{name: c, cluster: {server: \"https://h\"}}]\nusers: [{name: dev, user: {client-key-data: \"\(base64(PEMFixtures.ecKey))\"}}]\ncontexts: [{name: x, context: {cluster: c, user: dev}}]", "user \"dev\" has a client key but no client certificate"),
        ("current-context: x\nclusters: [{name: c, cluster: {server: \"https://h\"}}]\nusers: [{name: dev, user: {client-certificate-data: \"\(base64(PEMFixtures.ecCertificate))\", client-key-data: \"\(base64("not a key"))\"}}]\ncontexts: [{name: x, context: {cluster: c, user: dev}}]", "user \"dev\": the client key is not a PEM private key (RSA or EC)"),
        ("current-context: x\nclusters: [{name: c, cluster: {server: \"https://h\"}}]\nusers: [{name: dev, user: {exec: {apiVersion: v9, command: x}}}]\ncontexts: [{name: x, context: {cluster: c, user: dev}}]", "exec apiVersion \"v9\" is not one of"),
    ])
    func badConfigurations(yaml: String, expected: String) throws {
        let dir = try TempDirectory()
        let path = try dir.write("bad-config", yaml)
        let text = message { _ = try ClientConfiguration.fromKubeconfig(paths: [path]) }
        #expect(text.contains("invalid kubeconfig \(path)"), "\(text)")
        #expect(text.contains(expected), "\(text)")
        #expect(!text.contains("\n"), "one line: \(text)")
    }

    @Test("a missing kubeconfig file is named in the error")
    func missingFile() {
        let text = message { _ = try ClientConfiguration.fromKubeconfig(paths: ["/nonexistent/kubeconfig"]) }
        #expect(text.contains("invalid kubeconfig /nonexistent/kubeconfig"))
    }

    @Test("in-cluster configuration reads the service account's token, CA and namespace")
    func inCluster() throws {
        let dir = try TempDirectory()
        try dir.write("token", "sa-token")
        try dir.write("ca.crt", PEMFixtures.ecCertificate)
        try dir.write("namespace", "flyte\n")
        let c = try ClientConfiguration.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"], serviceAccountDirectory: dir.path)
        #expect(c.server.absoluteString == "https://10.96.0.1:443")
        #expect(c.namespace == "flyte")
        #expect(c.tls.caPEM == Array(PEMFixtures.ecCertificate.utf8))
        let v6 = try ClientConfiguration.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"], serviceAccountDirectory: dir.path)
        #expect(v6.server.absoluteString == "https://[fd00::1]:443")
        #expect(throws: KubeClientError.self) { try ClientConfiguration.inCluster(environment: [:], serviceAccountDirectory: dir.path) }
    }

    @Test("the service-account token is re-read when the file changes")
    func tokenRotation() async throws {
        let dir = try TempDirectory()
        let path = try dir.write("token", "one")
        let provider = CredentialProvider(.tokenFile(path))
        #expect(try await provider.resolve().authorization == "Bearer one")
        try "two".write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(5)], ofItemAtPath: path)
        #expect(try await provider.resolve().authorization == "Bearer two")
    }

    @Test("a token rotated as the kubelet rotates it is read again, even with the old modification time")
    func tokenRotationBySymlinkSwap() async throws {
        // The kubelet writes a projected token into a new directory and renames a symlink to it
        // over the old one; `token` is a symlink through `..data`. Same size, same time: only
        // the file's identity tells them apart.
        let dir = try TempDirectory()
        let fm = FileManager.default
        let stamp = Date(timeIntervalSince1970: 1_700_000_000)
        for (version, token) in [("v1", "one"), ("v2", "two")] {
            try fm.createDirectory(atPath: dir.path + "/" + version, withIntermediateDirectories: false)
            let file = try dir.write(version + "/token", token)
            try fm.setAttributes([.modificationDate: stamp], ofItemAtPath: file)
        }
        try fm.createSymbolicLink(atPath: dir.path + "/..data", withDestinationPath: "v1")
        try fm.createSymbolicLink(atPath: dir.path + "/token", withDestinationPath: "..data/token")
        let provider = CredentialProvider(.tokenFile(dir.path + "/token"))
        #expect(try await provider.resolve().authorization == "Bearer one")
        #expect(try await provider.resolve().authorization == "Bearer one")

        try fm.createSymbolicLink(atPath: dir.path + "/..data_tmp", withDestinationPath: "v2")
        #expect(rename(dir.path + "/..data_tmp", dir.path + "/..data") == 0)
        #expect(try await provider.resolve().authorization == "Bearer two")

        try fm.removeItem(atPath: dir.path + "/v2/token")
        await #expect(throws: KubeClientError.self) { try await provider.resolve() }
    }

    @Test("an exec plugin's credential is cached until expirationTimestamp, and its errors are reported")
    func execPlugin() async throws {
        let dir = try TempDirectory()
        let counter = dir.path + "/count"
        let expiry = KubeTime.format(Date().addingTimeInterval(3600))
        let script = try dir.write("plugin.sh", """
            #!/bin/sh
            echo x >> \(counter)
            test "$(echo "$KUBERNETES_EXEC_INFO" | grep -c ExecCredential)" = 1 || exit 3
            echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-token-'$1'","expirationTimestamp":"\(expiry)"}}'
            """, executable: true)
        let exec = KubeConfigFile.ExecConfig(command: script, args: ["A"])
        let provider = CredentialProvider(.exec(exec, cluster: nil))
        #expect(try await provider.resolve().authorization == "Bearer exec-token-A")
        #expect(try await provider.resolve().authorization == "Bearer exec-token-A")
        #expect(try String(contentsOfFile: counter, encoding: .utf8).split(separator: "\n").count == 1, "cached until expiry")
        await provider.invalidate()
        _ = try await provider.resolve()
        #expect(try String(contentsOfFile: counter, encoding: .utf8).split(separator: "\n").count == 2, "re-run after invalidation")

        let expired = try dir.write("expired.sh", """
            #!/bin/sh
            echo x >> \(counter)
            echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"2000-01-01T00:00:00Z"}}'
            """, executable: true)
        let again = CredentialProvider(.exec(.init(command: expired), cluster: nil))
        _ = try await again.resolve()
        _ = try await again.resolve()
        #expect(try String(contentsOfFile: counter, encoding: .utf8).split(separator: "\n").count == 4, "an expired credential is fetched again")

        let failing = try dir.write("fail.sh", "#!/bin/sh\necho 'no credentials here' >&2\nexit 1\n", executable: true)
        await #expect(throws: KubeClientError.self) { try await CredentialProvider(.exec(.init(command: failing), cluster: nil)).resolve() }
        let garbage = try dir.write("garbage.sh", "#!/bin/sh\necho hello\n", executable: true)
        await #expect(throws: KubeClientError.self) { try await CredentialProvider(.exec(.init(command: garbage), cluster: nil)).resolve() }
    }

    @Test("an exec plugin that writes more than a pipe holds to stderr before its credential is read, not waited for forever", .timeLimit(.minutes(1)))
    func chattyExecPlugin() async throws {
        let dir = try TempDirectory()
        // 200 KB of warnings first: stderr must be drained while stdout is read.
        let script = try dir.write("chatty.sh", """
            #!/bin/sh
            head -c 200000 /dev/zero | tr '\\0' w >&2
            echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"chatty"}}'
            """, executable: true)
        #expect(try await CredentialProvider(.exec(.init(command: script), cluster: nil)).resolve().authorization == "Bearer chatty")
    }
}
