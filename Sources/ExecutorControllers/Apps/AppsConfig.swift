import Foundation
import KubeClient

/// Settings of the App controller (Flyte's `internalApps` configuration, spec §9.3), the
/// config file's `apps:` section.
public struct AppsConfig: Codable, Sendable, Hashable {
    /// Reconcile Apps at all. Off, the executor neither watches Apps nor Knative.
    public var enabled = true
    /// Domain of the public URL `<scheme>://<service>.<baseDomain>[:port]`; none when empty
    /// (the App then reports the Knative Service's own URL).
    public var baseDomain = ""
    public var scheme = "https"
    /// Port appended to the public URL; 0 for none.
    public var ingressAppsPort = 0
    /// `timeoutSeconds` of a revision whose spec sets no request timeout.
    public var defaultRequestTimeoutSeconds = 300
    /// Longest `timeoutSeconds` a spec may ask for.
    public var maxRequestTimeoutSeconds = 3600
    /// Environment every app container starts with, before the spec's own.
    public var defaultEnvVars: [String: String] = [:]
    /// ServiceAccount of app pods whose spec names none; empty leaves Knative's default.
    public var defaultServiceAccount = ""
    /// The suffix of `INTERNAL_APP_ENDPOINT_PATTERN`'s host, after `{app_fqdn}-`.
    public var namespacedNameSuffixTemplate = "{{ project }}-{{ domain }}"

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled
        case baseDomain = "base-domain"
        case scheme
        case ingressAppsPort = "ingress-apps-port"
        case defaultRequestTimeoutSeconds = "default-request-timeout-seconds"
        case maxRequestTimeoutSeconds = "max-request-timeout-seconds"
        case defaultEnvVars = "default-env-vars"
        case defaultServiceAccount = "default-service-account"
        case namespacedNameSuffixTemplate = "namespaced-name-suffix-template"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = AppsConfig()
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? defaults.enabled
        baseDomain = try c.decodeIfPresent(String.self, forKey: .baseDomain) ?? defaults.baseDomain
        scheme = try c.decodeIfPresent(String.self, forKey: .scheme) ?? defaults.scheme
        ingressAppsPort = try c.decodeIfPresent(Int.self, forKey: .ingressAppsPort) ?? defaults.ingressAppsPort
        defaultRequestTimeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .defaultRequestTimeoutSeconds) ?? defaults.defaultRequestTimeoutSeconds
        maxRequestTimeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .maxRequestTimeoutSeconds) ?? defaults.maxRequestTimeoutSeconds
        defaultEnvVars = try c.decodeIfPresent([String: String].self, forKey: .defaultEnvVars) ?? defaults.defaultEnvVars
        defaultServiceAccount = try c.decodeIfPresent(String.self, forKey: .defaultServiceAccount) ?? defaults.defaultServiceAccount
        namespacedNameSuffixTemplate = try c.decodeIfPresent(String.self, forKey: .namespacedNameSuffixTemplate) ?? defaults.namespacedNameSuffixTemplate
    }
}
