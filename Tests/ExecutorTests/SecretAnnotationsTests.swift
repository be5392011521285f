import ExecutorAPI
import ExecutorControllers
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntimeTesting
import Testing
@testable import TaskPlugins

/// A task's secrets reach the Pod as Flyte writes them, so a webhook that reads Flyte's
/// annotations injects them (flyteplugins' `utils/secrets/marshaler.go`).
@Suite("Secret annotations")
struct SecretAnnotationsTests {
    static func secret(group: String = "", groupVersion: String = "", key: String = "", mount: Flyteidl2_Core_Secret.MountType = .any, envVar: String = "") -> Flyteidl2_Core_Secret {
        var secret = Flyteidl2_Core_Secret()
        secret.group = group
        secret.groupVersion = groupVersion
        secret.key = key
        secret.mountRequirement = mount
        secret.envVar = envVar
        return secret
    }

    /// Each row: the secret, the text golang/protobuf's `MarshalTextString` writes for it, and
    /// that text in Flyte's base32, computed apart from this code with Python:
    /// `base64.b32encode(text).rstrip("=").translate(str.maketrans("A…Z2…7", "a…z1…6"))`.
    static let vectors: [(Flyteidl2_Core_Secret, String, String)] = [
        (secret(group: "db-creds", key: "password", mount: .envVar),
         "group: \"db-creds\"\nkey: \"password\"\nmount_requirement: ENV_VAR\n",
         "m4zg54lqhiqcezdcfvrxezleomrau12fpe4caitqmfzxg42pojscectnn41w34c6ojsxc4ljojsw1zlooq4carkokzpvmqksbi"),
        (secret(groupVersion: "v1", key: "token", mount: .file, envVar: "API_TOKEN"),
         "group_version: \"v1\"\nkey: \"token\"\nmount_requirement: FILE\nenv_var: \"API_TOKEN\"\n",
         "m4zg54lql42gk3ttnfxw3oraej2dciqknnsxsoraej1g512fnyrau2lpovxhix2smvyxk1lsmvwwk2tuhiqemskmiufgk2twl42gc3r1earecucjl4ke5s1fjyrau"),
        // ANY is the zero value: proto3 leaves it out.
        (secret(key: "k"), "key: \"k\"\n", "nnsxsoraejvsecq"),
        // Go's escapes: a quote, a backslash, a newline, é as two octal bytes, a tab.
        (secret(group: "a\"b\\c\né\t", key: "x"),
         "group: \"a\\\"b\\\\c\\n\\303\\251\\t\"\nkey: \"x\"\n",
         "m4zg54lqhiqceyk3ejrfyxddlrxfymzqgnodenjrlr1cectlmv3tuibcparau"),
    ]

    @Test("each secret is golang/protobuf's text, in Flyte's base32, under flyte.secrets/s<N> in order")
    func flyteBytes() {
        for (secret, text, encoded) in Self.vectors {
            #expect(SecretAnnotations.textFormat(secret) == text)
            #expect(FlyteBase32.encode(text.utf8) == encoded)
        }
        let annotations = SecretAnnotations.annotations(Self.vectors.map(\.0))
        #expect(annotations == Dictionary(uniqueKeysWithValues: Self.vectors.enumerated().map { ("flyte.secrets/s\($0.offset)", $0.element.2) }))
        #expect(SecretAnnotations.annotations([]).isEmpty)
    }

    @Test("the child's context carries the annotations over the TaskAction's own, and the injection label")
    func context() throws {
        var template = Flyteidl2_Core_TaskTemplate()
        template.container.image = "img"
        template.securityContext.secrets = Self.vectors.map(\.0)
        var action = Fixtures.taskAction("r1-sec", template: try template.serializedBytes())
        action.metadata.annotations = ["flyte.secrets/s1": "stale", "team": "ml"]
        let context = TaskExecutionContext(taskAction: action, template: template, properties: PluginProperties(), config: PluginConfig())
        #expect(context.labels["inject-flyte-secrets"] == "true")
        #expect(context.annotations["flyte.secrets/s0"] == Self.vectors[0].2)
        #expect(context.annotations["flyte.secrets/s1"] == Self.vectors[1].2)
        #expect(context.annotations["team"] == "ml")
        var pod = try PodPlugin().build(context)
        ChildMetadata.apply(to: &pod, context: context, properties: PodPlugin().properties)
        #expect(pod.metadata.annotations?["flyte.secrets/s3"] == Self.vectors[3].2)

        template.securityContext.secrets = []
        let plain = TaskExecutionContext(taskAction: action, template: template, properties: PluginProperties(), config: PluginConfig())
        #expect(plain.labels["inject-flyte-secrets"] == nil)
        #expect(plain.annotations.keys.filter { $0.hasPrefix("flyte.secrets/s0") } == [])
    }

    @Test("a mount requirement Flyte does not know, or an annotation past 256 KiB, is refused in Flyte's words")
    func problems() {
        #expect(SecretAnnotations.problem(Self.vectors.map(\.0)) == nil)
        #expect(SecretAnnotations.problem([Self.secret(key: "k"), Self.secret(key: "k", mount: .UNRECOGNIZED(7))]) == "invalid mount requirement [7]")
        // `group: "<n>"\n` is n + 10 bytes, base32 makes 8 characters of every 5: 163,830 is 262,144 exactly.
        #expect(SecretAnnotations.problem([Self.secret(group: String(repeating: "a", count: 163_830))]) == nil)
        #expect(SecretAnnotations.problem([Self.secret(group: String(repeating: "a", count: 163_831))]) == "secret descriptor cannot exceed [262144]")
    }

    @Test("a TaskAction's secrets reach its Pod; one with an unknown mount requirement fails BadTaskSpecification and makes no Pod")
    func scenario() async throws {
        try await ExecutorHarness.with { h in
            var template = try Flyteidl2_Core_TaskTemplate(serializedBytes: Fixtures.template(outcome: "hang", startup: 0.05))
            template.securityContext.secrets = [Self.vectors[0].0]
            try await h.create(Fixtures.taskAction("r1-secret", template: try template.serializedBytes()))
            try await eventually("the Pod") { (try? await h.pods())?.isEmpty == false }
            let pod = try await h.client.get(Pod.self, name: "r1-secret-0", namespace: h.namespace)
            #expect(pod.metadata.labels?["inject-flyte-secrets"] == "true")
            #expect(pod.metadata.annotations?["flyte.secrets/s0"] == Self.vectors[0].2)

            template.securityContext.secrets = [Self.secret(key: "k", mount: .UNRECOGNIZED(7))]
            try await h.create(Fixtures.taskAction("r1-badsecret", template: try template.serializedBytes()))
            let done = try await h.terminal("r1-badsecret")
            #expect(done.status?.condition(.failed)?.reason == "PermanentFailure")
            #expect(done.status?.errorState?.code == "BadTaskSpecification")
            #expect(done.status?.errorState?.message == "the task template's secrets cannot be annotated: invalid mount requirement [7]")
            #expect(try await h.pods().map { $0.metadata.name } == ["r1-secret-0"])
        }
    }
}
