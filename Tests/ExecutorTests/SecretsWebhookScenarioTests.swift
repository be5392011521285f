@testable import ExecutorControllers
import ExecutorAPI
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntime
import KubeRuntimeTesting
import KubeSandbox
import Logging
import Testing

/// The secrets webhook in its place: the executor serves it and registers it, the sandbox's
/// API server calls it over TLS for the executor's own Pods, and the Pods are stored with the
/// secrets in them.
@Suite("Secrets webhook in the API server's path", .serialized, TestCluster.sandboxOnly)
struct SecretsWebhookScenarioTests {
    static let secrets = ResourceType(group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true)
    static let pods = ResourceType(group: "", version: "v1", kind: "Pod", plural: "pods", namespaced: true)

    /// A Secret as `flyte create secret` keeps it, for the domain `development`.
    static func flyteSecret(_ name: String, value: String, namespace: String) -> JSONValue {
        let id = SecretNames.scopedID(org: "flyte", domain: "development", project: "", name: name)
        return ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": .string(SecretNames.md5Hex(id)), "namespace": .string(namespace)],
                "data": [id: .string(Data(value.utf8).base64EncodedString())]]
    }

    static func action(_ name: String, secrets: [Flyteidl2_Core_Secret]) throws -> TaskAction {
        var template = try Flyteidl2_Core_TaskTemplate(serializedBytes: Fixtures.template())
        template.securityContext.secrets = secrets
        return Fixtures.taskAction(name, template: try template.serializedBytes())
    }

    @Test("imagePullSecrets.enabled: the image-pull Secret of the scope a secret is found at is copied into the Pod's namespace and named on the Pod; a secret without one adds none")
    func imagePullSecrets() async throws {
        var config = ExecutorConfig()
        config.webhook.enabled = true
        config.webhook.listenPort = 0
        config.webhook.embedded.namespace = "flyte-secrets"
        config.webhook.embedded.imagePullSecretsEnabled = true
        try await ExecutorHarness.with(config: config, start: false) { h in
            _ = try await h.client.create(Namespace(metadata: ObjectMeta(name: "flyte-secrets")))
            _ = try await h.client.create(Self.secrets, Self.flyteSecret("registry", value: "robot:token", namespace: "flyte-secrets"), namespace: "flyte-secrets")
            _ = try await h.client.create(Self.secrets, Self.flyteSecret("api_token", value: "s3cret", namespace: "flyte-secrets"), namespace: "flyte-secrets")
            // The registry's credentials, kept beside the secret at its (domain) scope.
            let pullName = SecretNames.imagePull(org: "flyte", domain: "development", project: "", name: "registry")
            let dockerConfig = JSONValue.string(Data(#"{"auths":{"ghcr.io":{"auth":"cm9ib3Q6dG9rZW4="}}}"#.utf8).base64EncodedString())
            _ = try await h.client.create(Self.secrets, ["apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
                                                        "metadata": ["name": .string(pullName), "namespace": "flyte-secrets", "labels": ["union.ai/secret-type": "image-pull-secret"]],
                                                        "data": [".dockerconfigjson": dockerConfig]], namespace: "flyte-secrets")
            let (executor, run) = try h.launchExecutor(config: config, metrics: MetricsRegistry())
            defer { run.cancel() }
            let webhook = try #require(executor.webhook)
            try await eventually("the webhook serves") { webhook.port != nil }
            h.sandbox.routeService(namespace: h.client.configuration.namespace, name: "flyte-pod-webhook", port: 443, toLoopbackPort: try #require(webhook.port))

            try await h.create(Self.action("pull", secrets: [SecretsWebhookTests.secret(key: "registry", mount: .envVar)]))
            try await h.create(Self.action("no-pull", secrets: [SecretsWebhookTests.secret(key: "api_token", mount: .envVar)]))
            #expect(try await h.terminal("pull").status?.pluginPhase == "PhaseSuccess")
            #expect(try await h.terminal("no-pull").status?.pluginPhase == "PhaseSuccess")
            let pods = try await h.client.list(Self.pods, namespace: h.namespace)["items"]?.arrayValue ?? []
            let pull = try #require(pods.first { $0.value(atPath: "metadata.labels")?["action"] == "pull" })
            #expect(pull.value(atPath: "spec.imagePullSecrets") == [["name": .string(pullName)]])
            let noPull = try #require(pods.first { $0.value(atPath: "metadata.labels")?["action"] == "no-pull" })
            #expect(noPull.value(atPath: "spec.imagePullSecrets") == nil)
            // The copy in the task's namespace: the reference's type, labels and data.
            let copy = try await h.client.get(Self.secrets, name: pullName, namespace: h.namespace)
            #expect(copy["type"] == "kubernetes.io/dockerconfigjson" && copy.value(atPath: "data")?[".dockerconfigjson"] == dockerConfig)
            #expect(copy.value(atPath: "metadata.labels")?["union.ai/secret-type"] == "image-pull-secret")
        }
    }

    @Test("a task's ENV_VAR and FILE secrets reach its Pod through the webhook and the task runs; a secret that exists nowhere fails the task with the webhook's reason; the configuration and certificate Secret are in place")
    func injected() async throws {
        var config = ExecutorConfig()
        config.webhook.enabled = true
        config.webhook.listenPort = 0
        try await ExecutorHarness.with(config: config, start: false) { h in
            // The secrets are read from the executor's own namespace (the embedded namespace's default).
            _ = try await h.client.create(Self.secrets, Self.flyteSecret("api_token", value: "s3cret", namespace: h.namespace), namespace: h.namespace)
            _ = try await h.client.create(Self.secrets, Self.flyteSecret("ca", value: "-----PEM-----", namespace: h.namespace), namespace: h.namespace)
            let metrics = MetricsRegistry()
            let (executor, run) = try h.launchExecutor(config: config, metrics: metrics)
            defer { run.cancel() }
            let webhook = try #require(executor.webhook)
            try await eventually("the webhook serves") { webhook.port != nil }
            let port = try #require(webhook.port)
            h.sandbox.routeService(namespace: h.client.configuration.namespace, name: "flyte-pod-webhook", port: 443, toLoopbackPort: port)

            let registered = try await h.client.get(MutatingWebhookRegistration.resource, name: "flyte-pod-webhook")
            #expect(registered.value(atPath: "webhooks")?[0]?["objectSelector"] == ["matchLabels": ["inject-flyte-secrets": "true"]])
            let kept = try await h.client.get(Self.secrets, name: "flyte-pod-webhook", namespace: h.client.configuration.namespace)
            #expect(registered.value(atPath: "webhooks")?[0]?.value(atPath: "clientConfig.caBundle") == kept.value(atPath: "data")?["ca.crt"])

            try await h.create(Self.action("sec-ok", secrets: [
                SecretsWebhookTests.secret(key: "api_token", mount: .envVar),
                SecretsWebhookTests.secret(key: "ca", mount: .file, envVar: "CA_PATH"),
            ]))
            let done = try await h.terminal("sec-ok")
            #expect(done.status?.pluginPhase == "PhaseSuccess")
            let pods: JSONValue = try await h.client.list(Self.pods, namespace: h.namespace)
            let pod = try #require(pods["items"]?.arrayValue?.first { $0.value(atPath: "metadata.labels")?["action"] == "sec-ok" })
            let env = pod.value(atPath: "spec")?["containers"]?[0]?["env"]?.arrayValue ?? []
            #expect(env.contains(["name": "_UNION_API_TOKEN", "value": "s3cret"]))
            #expect(env.contains(["name": "CA_PATH", "value": "/etc/flyte/secrets/ca"]))
            let initContainer = pod.value(atPath: "spec")?["initContainers"]?[0]
            #expect(initContainer?["name"] == "init-embedded-secret")
            #expect(initContainer?["env"]?.arrayValue?.last?["value"]?.stringValue == "ca=\(Data("-----PEM-----".utf8).base64EncodedString())\n")
            // The task's own variables are still there, after the injected ones.
            #expect(env.contains { $0["name"] == "TEAM" })

            try await h.create(Self.action("sec-missing", secrets: [SecretsWebhookTests.secret(key: "nowhere", mount: .envVar)]))
            let failed = try await h.terminal("sec-missing")
            #expect(failed.status?.pluginPhase == "PhasePermanentFailure")
            #expect(failed.status?.errorState?.message?.contains("admission webhook \"flyte-pod-webhook.flyte.org\" denied the request: none of the secret managers injected secret [key:\"nowhere\" mount_requirement:ENV_VAR]") == true)
            let after: JSONValue = try await h.client.list(Self.pods, namespace: h.namespace)
            #expect((after["items"]?.arrayValue ?? []).allSatisfy { $0.value(atPath: "metadata.labels")?["action"] != "sec-missing" })

            // A task without secrets is not sent to the webhook at all (the object selector).
            try await h.create(Fixtures.taskAction("plain"))
            #expect(try await h.terminal("plain").status?.pluginPhase == "PhaseSuccess")
            let scraped = String(decoding: metrics.render(), as: UTF8.self)
            #expect(scraped.contains("executor_webhook_admissions_total{result=\"mutated\"} 1"))
            #expect(scraped.contains("executor_webhook_admissions_total{result=\"unchanged\"} 0"))
            #expect(scraped.contains("executor_webhook_admission_duration_seconds_count"))
            // The refusal is a permanent failure: one create, one denied admission.
            #expect(scraped.contains("executor_webhook_admissions_total{result=\"denied\"} 1"))
        }
    }

    @Test("an App's revision Pods and a Spark task's driver Pod get their secrets through the webhook, from the operators' creates")
    func operators() async throws {
        var config = ExecutorConfig()
        config.webhook.enabled = true
        config.webhook.listenPort = 0
        try await ExecutorHarness.with(config: config, operators: [.knative, .spark], apps: true, start: false) { h in
            _ = try await h.client.create(Self.secrets, Self.flyteSecret("api_token", value: "s3cret", namespace: h.namespace), namespace: h.namespace)
            let (executor, run) = try h.launchExecutor(config: config)
            defer { run.cancel() }
            try await eventually("the webhook serves") { executor.webhook?.port != nil }
            h.sandbox.routeService(namespace: h.client.configuration.namespace, name: "flyte-pod-webhook", toLoopbackPort: executor.webhook?.port ?? 0)
            func injected(_ pod: Pod?) -> Bool {
                (pod?.spec?.containers.first?.env ?? []).contains { $0.name == "_UNION_API_TOKEN" && $0.value == "s3cret" }
            }

            var fields = ["container": AppScenarioTests.container()]
            fields["securityContext"] = ["secrets": [["key": "api_token", "mountRequirement": "ENV_VAR"]]]
            _ = try await h.client.create(AppScenarioTests.app(fields: fields))
            try await AppScenarioTests.until(h, "ACTIVE") { $0.status?.phase == "ACTIVE" }
            #expect(injected(try await AppScenarioTests.servicePods(h).first))

            var spark = try Flyteidl2_Core_TaskTemplate(serializedBytes: Fixtures.sparkTemplate())
            spark.securityContext.secrets = [SecretsWebhookTests.secret(key: "api_token", mount: .envVar)]
            try await h.create(Fixtures.taskAction("spark-sec", taskType: "spark", template: try spark.serializedBytes()))
            #expect(try await h.terminal("spark-sec").status?.pluginPhase == "PhaseSuccess")
            let drivers = try await h.client.list(Pod.self, namespace: h.namespace, options: ListOptions(labelSelector: "spark-role=driver")).items
            #expect(drivers.count == 1 && injected(drivers.first))
        }
    }

    @Test("the API server fails a create closed when the webhook cannot be called or its certificate is not the caBundle's, refuses it when the webhook does, and passes it when the policy is Ignore; the certificates are kept across starts and replaced when they do not serve")
    func unreachableAndCertificates() async throws {
        try await ExecutorHarness.with(start: false) { h in
            let ns = h.client.configuration.namespace
            var config = SecretsWebhookConfig()
            config.enabled = true
            let first = try await WebhookCertificates.ensure(in: ns, name: "hook-certs", service: "hook", client: h.client, logger: Logger(label: "t"))
            let again = try await WebhookCertificates.ensure(in: ns, name: "hook-certs", service: "hook", client: h.client, logger: Logger(label: "t"))
            #expect(first == again)
            // For another Service the kept pair does not serve: made again.
            let other = try await WebhookCertificates.ensure(in: ns, name: "hook-certs", service: "renamed", client: h.client, logger: Logger(label: "t"))
            #expect(other != first && other.problem(service: "renamed", namespace: ns) == nil)

            config.serviceName = "hook"
            try await MutatingWebhookRegistration.apply(MutatingWebhookRegistration.configuration(config, namespace: ns, caPEM: first.caPEM), client: h.client, logger: Logger(label: "t"))
            // Applied twice: the second finds it and sets its webhooks.
            config.webhookTimeout = 1
            try await MutatingWebhookRegistration.apply(MutatingWebhookRegistration.configuration(config, namespace: ns, caPEM: first.caPEM), client: h.client, logger: Logger(label: "t"))
            #expect(try await h.client.get(MutatingWebhookRegistration.resource, name: "hook").value(atPath: "webhooks")?[0]?["timeoutSeconds"] == 1)

            let labelled: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p1", "labels": ["inject-flyte-secrets": "true"]],
                                       "spec": ["containers": [["name": "c", "image": "i"]]]]
            // Nothing routed for the Service: failurePolicy Fail refuses the Pod.
            await #expect {
                _ = try await h.client.create(Self.pods, labelled, namespace: h.namespace)
            } throws: { error in
                guard let error = error as? KubeAPIError else { return false }
                return error.code == 500 && error.message.hasPrefix("Internal error occurred: failed calling webhook \"flyte-pod-webhook.flyte.org\"")
            }
            var unlabelled = labelled
            unlabelled["metadata"]?["labels"] = [:]
            unlabelled["metadata"]?["name"] = "p2"
            _ = try await h.client.create(Self.pods, unlabelled, namespace: h.namespace)

            // A server whose certificate another CA signed: the API server does not trust it.
            let stranger = try WebhookCertificates.generate(service: "hook", namespace: ns)
            let refusing: AdmissionServer.Handler = { body in
                let review = (try? JSONValue.parse(body)) ?? [:]
                let answer: JSONValue = ["apiVersion": review["apiVersion"] ?? "", "kind": "AdmissionReview",
                                         "response": ["uid": review.value(atPath: "request.uid") ?? "", "allowed": false]]
                return (200, answer.serialized())
            }
            let untrusted = try await AdmissionServer.start(host: "127.0.0.1", port: 0, tls: { try stranger.tlsContext() }, handle: refusing, logger: Logger(label: "t"))
            h.sandbox.routeService(namespace: ns, name: "hook", port: 443, toLoopbackPort: untrusted.port)
            await #expect {
                _ = try await h.client.create(Self.pods, labelled, namespace: h.namespace)
            } throws: { error in
                (error as? KubeAPIError)?.code == 500
            }
            await untrusted.stop()
            // The same server with the configuration's own certificate: trusted, and its refusal
            // (no status at all) is the API server's 400 "without explanation".
            let trusted = try await AdmissionServer.start(host: "127.0.0.1", port: 0, tls: { try first.tlsContext() }, handle: refusing, logger: Logger(label: "t"))
            h.sandbox.routeService(namespace: ns, name: "hook", port: 443, toLoopbackPort: trusted.port)
            await #expect {
                _ = try await h.client.create(Self.pods, labelled, namespace: h.namespace)
            } throws: { error in
                guard let error = error as? KubeAPIError else { return false }
                return error.code == 400 && error.message == "admission webhook \"flyte-pod-webhook.flyte.org\" denied the request without explanation"
            }
            await trusted.stop()

            var configuration = try await h.client.get(MutatingWebhookRegistration.resource, name: "hook")
            var hooks = configuration["webhooks"]?.arrayValue ?? []
            hooks[0]["failurePolicy"] = "Ignore"
            configuration["webhooks"] = .array(hooks)
            _ = try await h.client.update(MutatingWebhookRegistration.resource, configuration)
            _ = try await h.client.create(Self.pods, labelled, namespace: h.namespace)

            // The API server's own checks of a configuration.
            var bad = MutatingWebhookRegistration.configuration(config, namespace: ns, caPEM: first.caPEM)
            bad["metadata"]?["name"] = "bad"
            var badHooks = bad["webhooks"]?.arrayValue ?? []
            badHooks[0]["sideEffects"] = "Some"
            badHooks[0]["name"] = "two.parts"
            bad["webhooks"] = .array(badHooks)
            await #expect {
                _ = try await h.client.create(MutatingWebhookRegistration.resource, bad)
            } throws: { error in
                guard let error = error as? KubeAPIError else { return false }
                return error.isInvalid && error.message.contains("webhooks[0].sideEffects") && error.message.contains("webhooks[0].name")
            }
        }
    }
}
