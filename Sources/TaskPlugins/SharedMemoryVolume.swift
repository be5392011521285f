import ExecutorAPI
import FlyteIDL
import KubeClient

/// A task's `extended_resources.shared_memory` as Flyte's `ApplySharedMemory` makes it: a
/// memory-backed `emptyDir` volume mounted into the primary container, refused with Flyte's
/// `BadTaskSpecification` messages when it lacks a name or path or collides with what the Pod has.
enum SharedMemoryVolume {
    static func apply(_ memory: Flyteidl2_Core_SharedMemory, to spec: inout PodSpec, primary: String) throws(ExecutionError) {
        func refuse(_ message: String) -> ExecutionError {
            ExecutionError(code: "BadTaskSpecification", message: message, kind: .user)
        }
        let name = memory.mountName
        let path = memory.mountPath
        if name.isEmpty { throw refuse("mount name is not set") }
        if path.isEmpty { throw refuse("mount path is not set") }
        guard let index = spec.containers.firstIndex(where: { $0.name == primary }) else { throw refuse("Unable to find primary container") }
        if (spec.volumes ?? []).contains(where: { $0["name"]?.stringValue == name }) {
            throw refuse("A volume is already named \(name) in pod spec")
        }
        let mounts = spec.containers[index].unknownFields["volumeMounts"]?.arrayValue ?? []
        for mount in mounts {
            if mount["name"]?.stringValue == name { throw refuse("A volume is already named \(name) in container") }
            if mount["mountPath"]?.stringValue == path { throw refuse("\(path) is already mounted in container") }
        }
        var emptyDir: JSONValue = ["medium": "Memory"]
        // Flyte writes a zero quantity ("0") when no limit is given; without one, the volume
        // is bounded by the Pod's memory, which is what an unset limit means.
        if !memory.sizeLimit.isEmpty {
            if case .failure(let error) = ResourceQuantity.parse(memory.sizeLimit) {
                throw refuse("Unable to parse size limit: \(error.message)")
            }
            emptyDir["sizeLimit"] = .string(memory.sizeLimit)
        }
        spec.volumes = (spec.volumes ?? []) + [["name": .string(name), "emptyDir": emptyDir]]
        spec.containers[index].unknownFields["volumeMounts"] = .array(mounts + [["name": .string(name), "mountPath": .string(path)]])
    }
}
