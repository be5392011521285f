import KubeClient

/// The edits Flyte's secret injectors make to a Pod (`flyteplugins/.../secret/utils.go`), on
/// the Pod's JSON as the API server sent it, so fields this executor does not model survive.
struct PodSpecEdits {
    var pod: JSONValue

    init(_ pod: JSONValue) { self.pod = pod }

    var spec: JSONValue { pod["spec"] ?? [:] }

    /// Flyte's `AppendEnvVars` on the init containers and the containers: for each variable in
    /// turn, one of the same name is removed and the new one put first. So `[a, b]` ends up as
    /// `b, a, …` at the head of each container's `env`.
    mutating func prependEnv(_ variables: [JSONValue]) {
        for field in ["initContainers", "containers"] {
            editContainers(field) { container in
                var env = container["env"]?.arrayValue ?? []
                for variable in variables {
                    let name = variable["name"]?.stringValue
                    env.removeAll { $0["name"]?.stringValue == name }
                    env.insert(variable, at: 0)
                }
                container["env"] = .array(env)
            }
        }
    }

    /// Flyte's `AppendVolumeMounts` on the init containers and the containers: added where no
    /// mount of that volume is.
    mutating func addMount(_ mount: JSONValue) {
        let name = mount["name"]?.stringValue
        for field in ["initContainers", "containers"] {
            editContainers(field) { container in
                var mounts = container["volumeMounts"]?.arrayValue ?? []
                guard !mounts.contains(where: { $0["name"]?.stringValue == name }) else { return }
                mounts.append(mount)
                container["volumeMounts"] = .array(mounts)
            }
        }
    }

    /// Flyte's `AppendVolume`: a Secret volume of a Secret another volume already mounts adds
    /// its items to that volume; anything else is appended.
    mutating func addSecretVolume(_ volume: JSONValue) {
        var volumes = spec["volumes"]?.arrayValue ?? []
        let secretName = volume.value(atPath: "secret.secretName")?.stringValue
        if let index = volumes.firstIndex(where: { $0.value(atPath: "secret.secretName")?.stringValue == secretName && $0["secret"] != nil }) {
            let items = (volumes[index].value(atPath: "secret.items")?.arrayValue ?? []) + (volume.value(atPath: "secret.items")?.arrayValue ?? [])
            volumes[index]["secret"]?["items"] = .array(items)
        } else {
            volumes.append(volume)
        }
        pod["spec"]?["volumes"] = .array(volumes)
    }

    /// Flyte's `addImagePullSecretToPod`: the Secret named in `imagePullSecrets` unless it is
    /// there, the list then sorted by name.
    mutating func addImagePullSecret(_ name: String) {
        var secrets = spec["imagePullSecrets"]?.arrayValue ?? []
        guard !secrets.contains(where: { $0["name"]?.stringValue == name }) else { return }
        secrets.append(["name": .string(name)])
        secrets = secrets.enumerated().sorted { ($0.element["name"]?.stringValue ?? "", $0.offset) < ($1.element["name"]?.stringValue ?? "", $1.offset) }.map(\.element)
        pod["spec"]?["imagePullSecrets"] = .array(secrets)
    }

    /// Flyte's `appendVolumeIfNotExists`: appended unless a volume has that name.
    mutating func addVolumeIfAbsent(_ volume: JSONValue) {
        var volumes = spec["volumes"]?.arrayValue ?? []
        guard !volumes.contains(where: { $0["name"]?.stringValue == volume["name"]?.stringValue }) else { return }
        volumes.append(volume)
        if pod["spec"] == nil { pod["spec"] = [:] }
        pod["spec"]?["volumes"] = .array(volumes)
    }

    /// The index of the init container named `name`.
    func initContainerIndex(named name: String) -> Int? {
        spec["initContainers"]?.arrayValue?.firstIndex { $0["name"]?.stringValue == name }
    }

    mutating func appendInitContainer(_ container: JSONValue) {
        var containers = spec["initContainers"]?.arrayValue ?? []
        containers.append(container)
        if pod["spec"] == nil { pod["spec"] = [:] }
        pod["spec"]?["initContainers"] = .array(containers)
    }

    mutating func editInitContainer(at index: Int, _ edit: (inout JSONValue) -> Void) {
        guard var containers = spec["initContainers"]?.arrayValue, containers.indices.contains(index) else { return }
        edit(&containers[index])
        pod["spec"]?["initContainers"] = .array(containers)
    }

    private mutating func editContainers(_ field: String, _ edit: (inout JSONValue) -> Void) {
        guard var containers = spec[field]?.arrayValue, !containers.isEmpty else { return }
        for index in containers.indices { edit(&containers[index]) }
        pod["spec"]?[field] = .array(containers)
    }

    /// An environment variable with a value.
    static func env(_ name: String, _ value: String) -> JSONValue {
        ["name": .string(name), "value": .string(value)]
    }
}
