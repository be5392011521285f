@testable import ExecutorControllers
import ExecutorAPI
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntimeTesting
import KubeSandbox
import Synchronization
import TaskPlugins
import Testing

/// The secrets webhook: Flyte's secret managers on a Pod's JSON, the AdmissionReview
/// exchange, the configuration, and the certificates.
@Suite("Secrets webhook")
struct SecretsWebhookTests {
    static func secret(group: String = "", key: String, mount: Flyteidl2_Core_Secret.MountType = .any, envVar: String = "", groupVersion: String = "") -> Flyteidl2_Core_Secret {
        SecretAnnotationsTests.secret(group: group, groupVersion: groupVersion, key: key, mount: mount, envVar: envVar)
    }

    /// A Pod with one container and the labels and annotations the executor writes.
    static func pod(_ secrets: [Flyteidl2_Core_Secret], labels: [String: String] = ["organization": "flyte", "project": "p", "domain": "development"], initContainers: [JSONValue]? = nil) -> JSONValue {
        var annotations: [String: JSONValue] = [:]
        for (key, value) in SecretAnnotations.annotations(secrets) { annotations[key] = .string(value) }
        var spec: JSONValue = ["containers": [["name": "container1", "image": "img"]]]
        if let initContainers { spec["initContainers"] = .array(initContainers) }
        return [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": "a0", "labels": .object(labels.mapValues(JSONValue.string)), "annotations": .object(annotations)],
            "spec": spec,
        ]
    }

    /// The Embedded manager reading the namespace `flyte`, Flyte's default.
    static let embedded: SecretsWebhookConfig.EmbeddedSecretManagerConfig = {
        var config = SecretsWebhookConfig.EmbeddedSecretManagerConfig()
        config.namespace = "flyte"
        return config
    }()

    /// Secrets kept in memory, by namespace and name.
    final class MemoryStore: SecretStore {
        let secrets = Mutex<[String: [String: [UInt8]]]>([:])
        let reads = Mutex<[String]>([])
        func put(namespace: String = "flyte", org: String = "flyte", domain: String = "", project: String = "", name: String, value: String) {
            let id = SecretNames.scopedID(org: org, domain: domain, project: project, name: name)
            secrets.withLock { $0["\(namespace)/\(SecretNames.md5Hex(id))"] = [id: Array(value.utf8)] }
        }
        func secretData(namespace: String, name: String) async throws -> [String: [UInt8]]? {
            reads.withLock { $0.append(name) }
            return secrets.withLock { $0["\(namespace)/\(name)"] }
        }
        /// Image-pull Secrets by namespace and name; copies land here too.
        let imagePull = Mutex<[String: String]>([:])
        func mirror(name: String, from namespace: String, to target: String) async throws -> Bool {
            imagePull.withLock { secrets in
                guard let reference = secrets["\(namespace)/\(name)"] else { return false }
                if secrets["\(target)/\(name)"] == nil { secrets["\(target)/\(name)"] = reference }
                return true
            }
        }
    }

    static func env(_ pod: JSONValue, container: Int = 0, field: String = "containers") -> [JSONValue] {
        pod.value(atPath: "spec")?[field]?[container]?["env"]?.arrayValue ?? []
    }

    @Test("annotations decode to the secrets in the order written: Flyte's own vectors, Go's escapes, and s10 after s2")
    func annotationsDecode() throws {
        // marshaler_test.go's vectors.
        #expect(try SecretAnnotations.secrets(in: ["flyte.secrets/s0": "m4zg54lqhiqceozhhixvyxbcbi"]) == [Self.secret(group: ";':/\\", key: "")])
        #expect(try SecretAnnotations.secrets(in: ["flyte.secrets/s0": "nnsxsoraejwxsx2lmv3secq"]) == [Self.secret(key: "my_key")])
        // This executor's own vectors, every field and escape.
        let written = SecretAnnotationsTests.vectors.map(\.0) + (0..<9).map { Self.secret(key: "k\($0)", mount: .file) }
        let read = try SecretAnnotations.secrets(in: SecretAnnotations.annotations(written).merging(["team": "ml"]) { $1 })
        #expect(read == written)
        #expect(throws: SecretAnnotations.Unreadable.self) { try SecretAnnotations.secrets(in: ["flyte.secrets/s0": "not base32!"]) }
        #expect(throws: SecretAnnotations.Unreadable.self) { try SecretAnnotations.secrets(in: ["flyte.secrets/s0": FlyteBase32.encode("key: 7 7".utf8)]) }
    }

    @Test("K8s manager: ENV_VAR as an optional secretKeyRef, FILE and ANY as Flyte's volume, items of one group merged, no key refused")
    func k8sManager() async throws {
        let injector = K8sSecretInjector(envVarPrefix: "_UNION_")
        var edits = PodSpecEdits(Self.pod([]))
        try await injector.inject(Self.secret(group: "grOUP", key: "HELLO", mount: .envVar), into: &edits)
        // k8s_secrets_test.go's successPodEnv.
        #expect(Self.env(edits.pod) == [
            ["name": "FLYTE_SECRETS_ENV_PREFIX", "value": "_UNION_"],
            ["name": "_UNION_GROUP_HELLO", "valueFrom": ["secretKeyRef": ["name": "grOUP", "key": "HELLO", "optional": true]]],
        ])

        edits = PodSpecEdits(Self.pod([]))
        try await injector.inject(Self.secret(group: "grOUP", key: "HELLO", mount: .file), into: &edits)
        try await injector.inject(Self.secret(group: "grOUP", key: "world"), into: &edits)
        // successPodMultiFiles: volume m4ze5vkql3 (Flyte's base32 of "grOUP_") with both items.
        #expect(edits.pod.value(atPath: "spec.volumes") == [[
            "name": "m4ze5vkql3",
            "secret": ["secretName": "grOUP", "items": [["key": "HELLO", "path": "hello"], ["key": "world", "path": "world"]], "optional": true],
        ]])
        #expect(edits.pod.value(atPath: "spec")?["containers"]?[0]?["volumeMounts"] == [["name": "m4ze5vkql3", "readOnly": true, "mountPath": "/etc/flyte/secrets/group"]])
        #expect(Self.env(edits.pod) == [["name": "FLYTE_SECRETS_FILE_PREFIX", "value": ""], ["name": "FLYTE_SECRETS_DEFAULT_DIR", "value": "/etc/flyte/secrets"]])

        // No group: the MD5 of the key names the Secret, as Flyte's secret service names it.
        edits = PodSpecEdits(Self.pod([]))
        try await injector.inject(Self.secret(key: "token", mount: .envVar, envVar: "TOKEN"), into: &edits)
        #expect(Self.env(edits.pod).first == ["name": "FLYTE_SECRETS_ENV_PREFIX", "value": "_UNION_"])
        #expect(Self.env(edits.pod)[1] == ["name": "TOKEN", "valueFrom": ["secretKeyRef": ["name": .string(SecretNames.md5Hex("token")), "key": "token", "optional": true]]])
        #expect(SecretNames.md5Hex("token") == "94a08da1fecbb6e8b46990538c7b50b2")

        await #expect(throws: SecretInjectionFailure.self) { try await injector.inject(Self.secret(group: "g", key: ""), into: &edits) }
    }

    @Test("Embedded manager with imagePullSecrets: Flyte's image-pull names, the scope's image-pull Secret mirrored and named on the Pod (sorted, once), none when the scope has none or it is off")
    func embeddedImagePullSecrets() async throws {
        // imagepull_kubernetes_utils_test.go's vectors.
        #expect(SecretNames.imagePull(org: "myorg", domain: "development", project: "myproject", name: "docker-registry") == "img-pull-93ec8baf1e7d7e87")
        #expect(SecretNames.imagePull(org: "", domain: "development", project: "myproject", name: "docker-registry") == "img-pull-6d48430fc6e4845c")
        #expect(SecretNames.imagePull(org: "", domain: "", project: "", name: "") == "img-pull-f1ae2a75ed1f9972")
        #expect(SecretNames.imagePull(org: "my-org", domain: "dev.domain", project: "project_123", name: "docker@registry") == "img-pull-e0a5894d0b16a3c7")

        let store = MemoryStore()
        store.put(domain: "development", name: "registry", value: "robot")
        store.put(name: "api_token", value: "s3cret")
        // Found at the domain scope: that scope's image-pull Secret is the one used.
        let pullName = SecretNames.imagePull(org: "flyte", domain: "development", project: "", name: "registry")
        store.imagePull.withLock { $0["flyte/\(pullName)"] = "dockerconfig" }
        var config = Self.embedded
        config.imagePullSecretsEnabled = true
        let injector = EmbeddedSecretInjector(config: config, envVarPrefix: "_UNION_", store: store)

        var pod = Self.pod([])
        pod["metadata"]?["namespace"] = "flytesnacks-development"
        pod["spec"]?["imagePullSecrets"] = [["name": "zz-existing"], ["name": "aa-existing"]]
        var edits = PodSpecEdits(pod)
        try await injector.inject(Self.secret(key: "registry", mount: .envVar), into: &edits)
        try await injector.inject(Self.secret(key: "registry", mount: .envVar, envVar: "AGAIN"), into: &edits)
        #expect(edits.pod.value(atPath: "spec.imagePullSecrets") == [["name": "aa-existing"], ["name": .string(pullName)], ["name": "zz-existing"]])
        #expect(store.imagePull.withLock { $0["flytesnacks-development/\(pullName)"] } == "dockerconfig")

        edits = PodSpecEdits(pod)
        try await injector.inject(Self.secret(key: "api_token", mount: .envVar), into: &edits)
        #expect(edits.pod.value(atPath: "spec.imagePullSecrets") == pod.value(atPath: "spec.imagePullSecrets"))
        edits = PodSpecEdits(pod)
        try await EmbeddedSecretInjector(config: Self.embedded, envVarPrefix: "_UNION_", store: store).inject(Self.secret(key: "registry", mount: .envVar), into: &edits)
        #expect(edits.pod.value(atPath: "spec.imagePullSecrets") == pod.value(atPath: "spec.imagePullSecrets"))
        #expect(try ExecutorConfig.parse(yaml: "webhook: {embeddedSecretManagerConfig: {imagePullSecrets: {enabled: true}}}", path: "c").webhook.embedded.imagePullSecretsEnabled)
    }

    @Test("Embedded manager: the narrowest scope holding the secret, its value as a variable or a file written by Flyte's init container; missing labels, a key absent from its Secret and binary values refused")
    func embeddedManager() async throws {
        let store = MemoryStore()
        store.put(domain: "development", name: "api_token", value: "s3cret")          // domain scope
        store.put(name: "api_token", value: "org-wide")                                  // org scope, shadowed
        store.put(domain: "development", project: "p", name: "cert", value: "PEM\ndata") // project scope
        store.put(name: "shared", value: "org-only")
        let injector = EmbeddedSecretInjector(config: Self.embedded, envVarPrefix: "_UNION_", store: store)

        var edits = PodSpecEdits(Self.pod([]))
        try await injector.inject(Self.secret(key: "api_token", mount: .envVar), into: &edits)
        try await injector.inject(Self.secret(key: "shared", envVar: "SHARED"), into: &edits)
        #expect(Self.env(edits.pod) == [
            ["name": "SHARED", "value": "org-only"],
            ["name": "FLYTE_SECRETS_ENV_PREFIX", "value": "_UNION_"],
            ["name": "_UNION_API_TOKEN", "value": "s3cret"],
        ])
        // Project, then domain: the project scope of api_token was looked at first.
        let projectID = SecretNames.scopedID(org: "flyte", domain: "development", project: "p", name: "api_token")
        #expect(store.reads.withLock { $0.first } == SecretNames.md5Hex(projectID))

        edits = PodSpecEdits(Self.pod([]))
        try await injector.inject(Self.secret(key: "cert", mount: .file, envVar: "CERT_PATH"), into: &edits)
        try await injector.inject(Self.secret(key: "shared", mount: .file, envVar: "SHARED_PATH"), into: &edits)
        let initContainer = try #require(edits.pod.value(atPath: "spec")?["initContainers"]?[0])
        #expect(initContainer["name"] == "init-embedded-secret")
        #expect(initContainer["command"]?[2]?.stringValue == EmbeddedSecretInjector.script)
        #expect(EmbeddedSecretInjector.script.hasPrefix("\n\t\t\t\tprintf \"%s\" \"$SECRETS\" \\\n") && EmbeddedSecretInjector.script.hasSuffix("}'\n\t\t\t\t"))
        // The init container gets the variables every container gets, as Flyte's does, and SECRETS.
        #expect(initContainer["env"]?.arrayValue?.last == ["name": "SECRETS", "value": .string("cert=\(Data("PEM\ndata".utf8).base64EncodedString())\nshared=\(Data("org-only".utf8).base64EncodedString())\n")])
        #expect(Self.env(edits.pod, field: "initContainers") == Self.env(edits.pod) + [["name": "SECRETS", "value": initContainer["env"]?.arrayValue?.last?["value"] ?? ""]])
        #expect(initContainer["volumeMounts"] == [["name": "embedded-secret-vol", "readOnly": false, "mountPath": "/etc/flyte/secrets"]])
        #expect(edits.pod.value(atPath: "spec.volumes") == [["name": "embedded-secret-vol", "emptyDir": ["medium": "Memory"]]])
        #expect(edits.pod.value(atPath: "spec")?["containers"]?[0]?["volumeMounts"] == [["name": "embedded-secret-vol", "readOnly": true, "mountPath": "/etc/flyte/secrets"]])
        // The second FILE secret's variable is set too (Flyte's returns before setting it).
        #expect(Self.env(edits.pod) == [
            ["name": "SHARED_PATH", "value": "/etc/flyte/secrets/shared"],
            ["name": "CERT_PATH", "value": "/etc/flyte/secrets/cert"],
            ["name": "FLYTE_SECRETS_FILE_PREFIX", "value": ""],
            ["name": "FLYTE_SECRETS_DEFAULT_DIR", "value": "/etc/flyte/secrets"],
        ])

        var bare = PodSpecEdits(Self.pod([], labels: ["organization": "flyte", "domain": "development"]))
        await #expect(throws: SecretInjectionFailure("secret read requirements not met due to empty project field in the pod labels")) {
            try await injector.inject(Self.secret(key: "api_token"), into: &bare)
        }
        await #expect(throws: SecretInjectionFailure("secret not found across all scopes")) {
            try await injector.inject(Self.secret(key: "missing"), into: &edits)
        }
        // A Secret at the right name whose data lacks the id is an error, not a miss.
        let orgID = SecretNames.scopedID(org: "flyte", domain: "", project: "", name: "odd")
        store.secrets.withLock { $0["flyte/\(SecretNames.md5Hex(orgID))"] = ["other": [1]] }
        await #expect(throws: SecretInjectionFailure("secret \(orgID) read as empty from the secret manager")) {
            try await injector.inject(Self.secret(key: "odd"), into: &edits)
        }
        store.secrets.withLock { $0["flyte/\(SecretNames.md5Hex(orgID))"] = [orgID: [0xff, 0xfe]] }
        await #expect(throws: SecretInjectionFailure.self) { try await injector.inject(Self.secret(key: "odd", mount: .envVar), into: &edits) }
    }

    @Test("the mutator tries Global, then the configured managers, and refuses a secret none injects with every manager's reason")
    func mutator() async throws {
        let store = MemoryStore()
        store.put(name: "db", value: "from-embedded")
        var global = GlobalSecretInjector(config: GlobalSecretsConfig(), envVarPrefix: "_UNION_")
        global.environment = { $0 == "FLYTE_SECRET_TEAM_DB" ? "from-env" : nil }
        global.readFile = { _ in nil }
        let mutator = PodSecretsMutator(injectors: [global, EmbeddedSecretInjector(config: Self.embedded, envVarPrefix: "_UNION_", store: store)])

        // Global has team/db as a variable: ENV_VAR goes there; FILE it cannot do, so Embedded does.
        guard case .mutated(let pod) = await mutator.mutate(Self.pod([Self.secret(group: "team", key: "db", mount: .envVar), Self.secret(group: "team", key: "db", mount: .file)])) else {
            Issue.record("not mutated")
            return
        }
        #expect(Self.env(pod).contains(["name": "_UNION_TEAM_DB", "value": "from-env"]))
        #expect(pod.value(atPath: "spec")?["initContainers"]?[0]?["env"]?.arrayValue?.last == ["name": "SECRETS", "value": .string("db=\(Data("from-embedded".utf8).base64EncodedString())\n")])

        #expect(await mutator.mutate(Self.pod([])) == .unchanged)
        guard case .denied(let message) = await mutator.mutate(Self.pod([Self.secret(key: "nope")])) else {
            Issue.record("not denied")
            return
        }
        #expect(message == "none of the secret managers injected secret [key:\"nope\"]: Global: both key and group are required parameters. Secret: [key:\"nope\"]; Embedded: secret not found across all scopes")
        var unreadable = Self.pod([])
        unreadable["metadata"]?["annotations"] = ["flyte.secrets/s0": "!!"]
        #expect(await mutator.mutate(unreadable) == .denied("failed to unmarshal secrets from pod annotations: error unmarshaling secret [flyte.secrets/s0]. Error: illegal base32 data"))
    }

    @Test("an AdmissionReview is answered in its own version with a JSON patch that makes the mutated Pod; other requests pass untouched; a body that is not a review is refused")
    func admissionReview() async throws {
        let store = MemoryStore()
        store.put(name: "tok", value: "v")
        let mutator = PodSecretsMutator(injectors: [EmbeddedSecretInjector(config: Self.embedded, envVarPrefix: "_UNION_", store: store)])
        let pod = Self.pod([Self.secret(key: "tok", mount: .envVar)])
        for version in ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"] {
            let review: JSONValue = ["apiVersion": .string(version), "kind": "AdmissionReview", "request": ["uid": "u-1", "operation": "CREATE", "kind": ["group": "", "version": "v1", "kind": "Pod"], "object": pod]]
            let answer = try await AdmissionReview.answer(review.serialized()) { await mutator.mutate($0) }
            #expect(answer["apiVersion"]?.stringValue == version)
            #expect(answer.value(atPath: "response.uid") == "u-1")
            #expect(answer.value(atPath: "response.allowed") == true)
            #expect(answer.value(atPath: "response.patchType") == "JSONPatch")
            let encoded = try #require(answer.value(atPath: "response.patch")?.stringValue)
            let patch = try JSONValue.parse(Array(try #require(Data(base64Encoded: encoded))))
            #expect(patch == [["op": "add", "path": "/spec/containers", "value": [["name": "container1", "image": "img", "env": [
                ["name": "_UNION_TOK", "value": "v"], ["name": "FLYTE_SECRETS_ENV_PREFIX", "value": "_UNION_"],
            ]]]]])
        }
        let deletion: JSONValue = ["apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": ["uid": "u-2", "operation": "DELETE", "kind": ["group": "", "version": "v1", "kind": "Pod"], "object": pod]]
        let passed = try await AdmissionReview.answer(deletion.serialized()) { _ in Issue.record("asked about a delete"); return .unchanged }
        #expect(passed["response"] == ["uid": "u-2", "allowed": true])
        let refused: JSONValue = ["apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": ["uid": "u-3", "operation": "CREATE", "kind": ["group": "", "version": "v1", "kind": "Pod"], "object": Self.pod([Self.secret(key: "gone")])]]
        let denied = try await AdmissionReview.answer(refused.serialized()) { await mutator.mutate($0) }
        #expect(denied.value(atPath: "response.allowed") == false)
        #expect(denied.value(atPath: "response.status.code") == 400)
        #expect(denied.value(atPath: "response.status.message")?.stringValue?.hasPrefix(PodSecretsMutator.notInjected) == true)
        await #expect(throws: AdmissionReview.Malformed.self) { _ = try await AdmissionReview.answer(Array("{}".utf8)) { _ in .unchanged } }
        await #expect(throws: AdmissionReview.Malformed.self) { _ = try await AdmissionReview.answer(Array("nope".utf8)) { _ in .unchanged } }
    }

    @Test("Flyte's webhook section reads as written in its chart; the managers that are not built and unknown keys are refused by name")
    func configuration() throws {
        let flyte = try ExecutorConfig.parse(yaml: """
            webhook:
              enabled: true
              certDir: /var/run/flyte/certs
              localCert: true
              secretName: flyte-binary-webhook-secret
              serviceName: flyte-binary-webhook
              servicePort: 443
              secretManagerTypes:
                - Embedded
              embeddedSecretManagerConfig:
                type: K8s
                k8sConfig:
                  namespace: flyte
              cacheInvalidationPort: 9444
            secrets:
              env-prefix: MY_
            """, path: "c.yaml")
        #expect(flyte.webhook.enabled && flyte.webhook.localCert && flyte.webhook.certDir == "/var/run/flyte/certs")
        #expect(flyte.webhook.serviceName == "flyte-binary-webhook" && flyte.webhook.secretName == "flyte-binary-webhook-secret")
        #expect(flyte.webhook.secretManagerTypes == [.embedded] && flyte.webhook.embedded.namespace == "flyte")
        #expect(flyte.secrets.envPrefix == "MY_" && flyte.secrets.secretsPrefix == "/etc/secrets")
        #expect(try ExecutorConfig.parse(yaml: "webhook: {secretManagerType: k8s}", path: "c").webhook.secretManagerTypes == [.k8s])
        let selected = try ExecutorConfig.parse(yaml: "webhook: {enabled: true, namespaceSelector: {matchLabels: {flyte: \"true\"}, matchExpressions: [{key: team, operator: Exists}]}}", path: "c")
        #expect(MutatingWebhookRegistration.configuration(selected.webhook, namespace: "n", caPEM: "").value(atPath: "webhooks")?[0]?["namespaceSelector"] == ["matchLabels": ["flyte": "true"], "matchExpressions": [["key": "team", "operator": "Exists"]]])

        for (yaml, words) in [
            ("webhook: {secretManagerTypes: [AWS]}", "webhook.secretManagerTypes: AWS is not supported"),
            ("webhook: {embeddedSecretManagerConfig: {type: GCP}}", "webhook.embeddedSecretManagerConfig.type: GCP is not supported"),
            ("webhook: {listenPorts: 1}", "webhook: unknown key \"listenPorts\""),
            ("webhook: {enabled: true, webhookTimeout: 31}", "webhook.webhookTimeout: must be 1 to 30 seconds"),
            ("webhook: {enabled: true, localCert: true}", "webhook.localCert: needs certDir"),
            ("secrets: {type: vault}", "secrets.type: vault is not supported"),
            ("webhook: {enabled: true, namespaceSelector: {matchLabel: {a: b}}}", "webhook.namespaceSelector: unknown key \"matchLabel\""),
            ("webhook: {enabled: true, namespaceSelector: {matchExpressions: [{key: a, operator: Has}]}}", "operator \"Has\" is not In, NotIn, Exists or DoesNotExist"),
            ("webhook: {enabled: true, namespaceSelector: {matchExpressions: [{key: a, operator: In}]}}", "matchExpressions[0]: In needs values"),
        ] {
            #expect {
                _ = try ExecutorConfig.parse(yaml: yaml, path: "c.yaml")
            } throws: { error in
                "\(error)".contains(words)
            }
        }
    }

    @Test("certificates: made for the Service's three names, refused for another Service, near their end or with a key of another; the TLS context takes them")
    func certificates() throws {
        let made = try WebhookCertificates.generate(service: "flyte-pod-webhook", namespace: "flyte")
        #expect(made.problem(service: "flyte-pod-webhook", namespace: "flyte") == nil)
        _ = try made.tlsContext()
        #expect(made.problem(service: "other", namespace: "flyte") == "the certificate does not name other, other.flyte, other.flyte.svc")
        #expect(made.problem(service: "flyte-pod-webhook", namespace: "flyte", now: Date().addingTimeInterval(WebhookCertificates.lifetime - 86400))?.contains("ends within") == true)
        let other = try WebhookCertificates.generate(service: "flyte-pod-webhook", namespace: "flyte")
        #expect(WebhookCertificates(caPEM: made.caPEM, certificatePEM: made.certificatePEM, keyPEM: other.keyPEM).problem(service: "flyte-pod-webhook", namespace: "flyte") == "the key is not the certificate's")
        #expect(WebhookCertificates(caPEM: other.caPEM, certificatePEM: made.certificatePEM, keyPEM: made.keyPEM).problem(service: "flyte-pod-webhook", namespace: "flyte") == "the certificate is not signed by the CA")
        #expect(WebhookCertificates(caPEM: "", certificatePEM: "", keyPEM: "").problem(service: "s", namespace: "n")?.hasPrefix("unreadable") == true)
    }
}
