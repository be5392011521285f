import KubeClient

/// `webhook:` in the executor's config file: the Pod-mutating webhook that injects the secrets
/// a task or app asks for, as Flyte's executor runs it (`executor/pkg/webhook`,
/// `flyteplugins/.../secret/config`). The keys are Flyte's, camelCase as Flyte writes them, so
/// that section of a Flyte config carries over; `enabled` is this executor's.
///
/// ```yaml
/// webhook:
///   enabled: true
///   serviceName: flyte-pod-webhook    # the Service in front of the executor's Pods, and the
///                                     # MutatingWebhookConfiguration's name
///   servicePort: 443
///   listenPort: 9443
///   secretName: flyte-pod-webhook     # where the generated CA and serving certificate are kept
///   certDir: ""                       # tls.crt, tls.key and ca.crt from here instead (cert-manager)
///   secretManagerTypes: [Embedded]    # after Global; K8s and Embedded (type K8s) are built
///   embeddedSecretManagerConfig:
///     type: K8s
///     k8sConfig: {namespace: flyte}   # where `flyte create secret` keeps the secrets;
///                                     # default: the executor's own namespace
///   secretEnvVarPrefix: _UNION_
///   namespaceSelector: {}             # a LabelSelector of the namespaces served; none: all
///   webhookTimeout: 10                # the configuration's timeoutSeconds (1-30)
/// ```
public struct SecretsWebhookConfig: Codable, Sendable, Hashable {
    /// Serve the webhook and register its MutatingWebhookConfiguration. Off unless set: it
    /// needs a Service and RBAC that the install manifests carry. Flyte's is always on.
    public var enabled = false
    public var listenPort = 9443
    public var serviceName = "flyte-pod-webhook"
    public var servicePort = 443
    public var secretName = "flyte-pod-webhook"
    /// A directory holding `tls.crt`, `tls.key` and `ca.crt`: served as they are, nothing is
    /// generated. Empty: the executor keeps its own CA and certificate in `secretName`.
    public var certDir = ""
    /// Also write the generated certificates to `certDir` (Flyte's single-binary mode).
    public var localCert = false
    /// The secret managers tried after Global, in order.
    public var secretManagerTypes: [SecretManagerType] = [.embedded]
    public var embedded = EmbeddedSecretManagerConfig()
    public var secretEnvVarPrefix = "_UNION_"
    /// A LabelSelector (JSON) on the namespaces whose Pods are sent to the webhook.
    public var namespaceSelector: JSONValue?
    /// Leave the MutatingWebhookConfiguration to the installer.
    public var disableCreateMutatingWebhookConfig = false
    /// The configuration's `timeoutSeconds`. Flyte reads `webhookTimeout` (30) but sets no
    /// timeout, so the API server's default of 10 applies; here the key sets it, default 10.
    public var webhookTimeout = 10

    /// Flyte's `SecretManagerType`, by its names.
    public enum SecretManagerType: String, Codable, Sendable, Hashable, CaseIterable {
        case global = "Global", k8s = "K8s", aws = "AWS", gcp = "GCP", vault = "Vault", embedded = "Embedded", azure = "Azure"

        /// The types this executor builds.
        static let built: [SecretManagerType] = [.global, .k8s, .embedded]

        public init(from decoder: any Decoder) throws {
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let type = Self.allCases.first(where: { $0.rawValue.lowercased() == text.lowercased() }) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\"\(text)\" is not a secret manager type (\(Self.allCases.map(\.rawValue).joined(separator: ", ")))"))
            }
            self = type
        }
    }

    /// Flyte's `embeddedSecretManagerConfig`: secrets read by the webhook and written into the
    /// Pod, with their values. Only its `K8s` type is built: the secrets are Kubernetes Secrets
    /// in `k8sConfig.namespace`, as Flyte's secret service writes them.
    public struct EmbeddedSecretManagerConfig: Codable, Sendable, Hashable {
        public var type = "K8s"
        /// Where the secrets are kept. Empty: the executor's own namespace, where the install's
        /// Role lets it read Secrets. Flyte's default is `flyte`; its chart sets the release
        /// namespace, as the executor's Deployment is in it.
        public var namespace = ""
        /// The init container that writes FILE secrets into an in-memory volume.
        public var initContainerImage = "public.ecr.aws/docker/library/busybox:latest"
        public var initContainerName = "init-embedded-secret"
        public var initContainerResources: JSONValue = [
            "requests": ["cpu": "100m", "memory": "100Mi"],
            "limits": ["cpu": "100m", "memory": "100Mi"],
        ]
        /// `imagePullSecrets.enabled`: a secret whose scope also has an image-pull Secret
        /// (`img-pull-<hash>` in ``namespace``) gets that Secret copied into the Pod's
        /// namespace and named in the Pod's `imagePullSecrets`. Needs Secrets get and create in
        /// the Pods' namespaces, which the install does not grant.
        public var imagePullSecretsEnabled = false

        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable {
            case type, k8sConfig, fileMountInitContainer, imagePullSecrets
            case awsConfig, gcpConfig, azureConfig
        }
        enum K8sKeys: String, CodingKey, CaseIterable { case namespace, kubeClientConfig }
        enum InitContainerKeys: String, CodingKey, CaseIterable { case image, resources, containerName }
        enum ImagePullKeys: String, CodingKey, CaseIterable { case enabled }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            type = try c.decodeIfPresent(String.self, forKey: .type) ?? "K8s"
            guard type.lowercased() == "k8s" else {
                throw UnsupportedSetting(setting: "webhook.embeddedSecretManagerConfig.type: \(type)", why: "only K8s is built (secrets kept as Kubernetes Secrets); AWS, GCP and Azure need their SDKs")
            }
            if c.contains(.k8sConfig) {
                let k8s = try c.superDecoder(forKey: .k8sConfig)
                try k8s.rejectUnknownKeys(K8sKeys.self)
                namespace = try k8s.container(keyedBy: K8sKeys.self).decodeIfPresent(String.self, forKey: .namespace) ?? ""
            }
            if c.contains(.fileMountInitContainer) {
                let box = try c.superDecoder(forKey: .fileMountInitContainer)
                try box.rejectUnknownKeys(InitContainerKeys.self)
                let i = try box.container(keyedBy: InitContainerKeys.self)
                initContainerImage = try i.decodeIfPresent(String.self, forKey: .image) ?? initContainerImage
                initContainerName = try i.decodeIfPresent(String.self, forKey: .containerName) ?? initContainerName
                initContainerResources = try i.decodeIfPresent(JSONValue.self, forKey: .resources) ?? initContainerResources
            }
            if c.contains(.imagePullSecrets) {
                let box = try c.superDecoder(forKey: .imagePullSecrets)
                try box.rejectUnknownKeys(ImagePullKeys.self)
                imagePullSecretsEnabled = try box.container(keyedBy: ImagePullKeys.self).decodeIfPresent(Bool.self, forKey: .enabled) ?? false
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(type, forKey: .type)
        }
    }

    /// A setting of Flyte's that this executor does not build, refused rather than ignored.
    public struct UnsupportedSetting: Error, CustomStringConvertible {
        public var setting: String
        public var why: String
        public var description: String { "\(setting) is not supported: \(why)" }
    }

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, listenPort, serviceName, servicePort, secretName, certDir, localCert
        case secretManagerType, secretManagerTypes
        case embeddedSecretManagerConfig, secretEnvVarPrefix, namespaceSelector
        case disableCreateMutatingWebhookConfig, webhookTimeout
    }

    /// Flyte's keys read and not used: the sidecar managers' settings (whose types are refused
    /// when chosen), the metrics prefix, the cache-invalidation port (nothing is cached here:
    /// every admission reads the secret), the image builder and the client's rate limits.
    enum IgnoredKeys: String, CodingKey, CaseIterable {
        case metricsPrefix = "metrics-prefix"
        case cacheInvalidationPort, awsSecretManager, gcpSecretManager, vaultSecretManager, azureSecretManager
        case imageBuilderConfig, kubeClientConfig
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self, IgnoredKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? false
        listenPort = try c.decodeIfPresent(Int.self, forKey: .listenPort) ?? 9443
        serviceName = try c.decodeIfPresent(String.self, forKey: .serviceName) ?? serviceName
        servicePort = try c.decodeIfPresent(Int.self, forKey: .servicePort) ?? 443
        secretName = try c.decodeIfPresent(String.self, forKey: .secretName) ?? secretName
        certDir = try c.decodeIfPresent(String.self, forKey: .certDir) ?? ""
        localCert = try c.decodeIfPresent(Bool.self, forKey: .localCert) ?? false
        if let types = try c.decodeIfPresent([SecretManagerType].self, forKey: .secretManagerTypes), !types.isEmpty {
            secretManagerTypes = types
        } else if let type = try c.decodeIfPresent(SecretManagerType.self, forKey: .secretManagerType) {
            secretManagerTypes = [type]
        }
        embedded = try c.decodeIfPresent(EmbeddedSecretManagerConfig.self, forKey: .embeddedSecretManagerConfig) ?? EmbeddedSecretManagerConfig()
        secretEnvVarPrefix = try c.decodeIfPresent(String.self, forKey: .secretEnvVarPrefix) ?? secretEnvVarPrefix
        namespaceSelector = try c.decodeIfPresent(JSONValue.self, forKey: .namespaceSelector)
        disableCreateMutatingWebhookConfig = try c.decodeIfPresent(Bool.self, forKey: .disableCreateMutatingWebhookConfig) ?? false
        webhookTimeout = try c.decodeIfPresent(Int.self, forKey: .webhookTimeout) ?? 10
        if let type = secretManagerTypes.first(where: { !SecretManagerType.built.contains($0) }) {
            throw UnsupportedSetting(setting: "webhook.secretManagerTypes: \(type.rawValue)", why: "the built types are Global, K8s and Embedded (type K8s); the sidecar managers (AWS, GCP, Azure, Vault) are not")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(enabled, forKey: .enabled)
        try c.encode(serviceName, forKey: .serviceName)
        try c.encode(secretManagerTypes, forKey: .secretManagerTypes)
    }

    /// Settings that parse but cannot work together.
    func validate() throws {
        guard (1...65535).contains(listenPort) else { throw ExecutorConfig.Invalid(path: "webhook.listenPort", problem: "must be a port, 1-65535") }
        guard (1...65535).contains(servicePort) else { throw ExecutorConfig.Invalid(path: "webhook.servicePort", problem: "must be a port, 1-65535") }
        // The API server's own bounds on a webhook's timeoutSeconds.
        guard (1...30).contains(webhookTimeout) else { throw ExecutorConfig.Invalid(path: "webhook.webhookTimeout", problem: "must be 1 to 30 seconds, as the API server allows") }
        guard !serviceName.isEmpty, !secretName.isEmpty else { throw ExecutorConfig.Invalid(path: "webhook", problem: "serviceName and secretName must not be empty") }
        if localCert && certDir.isEmpty { throw ExecutorConfig.Invalid(path: "webhook.localCert", problem: "needs certDir, where the certificates are written") }
        if let selector = namespaceSelector, let problem = Self.selectorProblem(selector) {
            throw ExecutorConfig.Invalid(path: "webhook.namespaceSelector", problem: problem)
        }
    }

    /// Why `selector` is not a `metav1.LabelSelector` the API server would take, or nil.
    static func selectorProblem(_ selector: JSONValue) -> String? {
        guard let members = selector.objectValue else { return "must be a mapping with matchLabels and matchExpressions" }
        if let unknown = members.keys.sorted().first(where: { $0 != "matchLabels" && $0 != "matchExpressions" }) {
            return "unknown key \"\(unknown)\" (a LabelSelector has matchLabels and matchExpressions)"
        }
        if let labels = members["matchLabels"], labels.objectValue?.values.allSatisfy({ $0.stringValue != nil }) != true {
            return "matchLabels must map label keys to string values"
        }
        for (index, expression) in (members["matchExpressions"]?.arrayValue ?? []).enumerated() {
            let op = expression["operator"]?.stringValue ?? ""
            let values = expression["values"]?.arrayValue ?? []
            guard !(expression["key"]?.stringValue ?? "").isEmpty else { return "matchExpressions[\(index)].key is required" }
            switch op {
            case "In", "NotIn": if values.isEmpty { return "matchExpressions[\(index)]: \(op) needs values" }
            case "Exists", "DoesNotExist": if !values.isEmpty { return "matchExpressions[\(index)]: \(op) takes no values" }
            default: return "matchExpressions[\(index)].operator \"\(op)\" is not In, NotIn, Exists or DoesNotExist"
            }
        }
        if members["matchExpressions"] != nil, members["matchExpressions"]?.arrayValue == nil { return "matchExpressions must be a list" }
        return nil
    }
}

/// Flyte's `secrets:` section: where the Global secret manager finds the secrets this
/// executor's own Pod holds, to inject them as values into task Pods.
public struct GlobalSecretsConfig: Codable, Sendable, Hashable {
    /// Files `<secrets-prefix>/<group>/<key>`.
    public var secretsPrefix = "/etc/secrets"
    /// Environment variables `<env-prefix><GROUP>_<KEY>`.
    public var envPrefix = "FLYTE_SECRET_"

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type
        case secretsPrefix = "secrets-prefix"
        case envPrefix = "env-prefix"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let type = try c.decodeIfPresent(String.self, forKey: .type), type != "local" {
            throw SecretsWebhookConfig.UnsupportedSetting(setting: "secrets.type: \(type)", why: "Flyte's only type is local")
        }
        secretsPrefix = try c.decodeIfPresent(String.self, forKey: .secretsPrefix) ?? secretsPrefix
        envPrefix = try c.decodeIfPresent(String.self, forKey: .envPrefix) ?? envPrefix
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(secretsPrefix, forKey: .secretsPrefix)
        try c.encode(envPrefix, forKey: .envPrefix)
    }
}
