import KubeClient

/// Watch events of typical Flyte task Pods as kube-apiserver sends them: managedFields,
/// owner reference, env, resources, tolerations and a running container status.
enum PodEvents {
    static func pod(_ i: Int, phase: String) -> JSONValue {
        let name = "a\(i)-n0-0"
        return [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": [
                "name": .string(name), "namespace": "flytesnacks-development", "uid": .string("0b8a1f36-4c8f-4f5e-9e0b-\(String(format: "%012d", i))"),
                "resourceVersion": .string(String(100_000 + i)), "creationTimestamp": "2026-11-23T12:00:00Z",
                "labels": ["flyte.org/managed": "true", "execution-id": .string("a\(i)"), "node-id": "n0", "task-name": "wf-say-hello", "project": "flytesnacks", "domain": "development", "interruptible": "false"],
                "annotations": ["cluster-autoscaler.kubernetes.io/safe-to-evict": "false", "primary_container_name": .string(name)],
                "ownerReferences": [["apiVersion": "flyte.org/v1", "kind": "TaskAction", "name": .string("a\(i)"), "uid": "5f7d3d2e-9f1f-4b1e-8c57-2f8d4d0c1a2b", "controller": true, "blockOwnerDeletion": true]],
                "finalizers": ["flyte.org/flyte-finalizer"],
                "managedFields": [
                    ["manager": "executor", "operation": "Update", "apiVersion": "v1", "time": "2026-11-23T12:00:00Z", "fieldsType": "FieldsV1",
                     "fieldsV1": ["f:metadata": ["f:labels": [".": [:], "f:flyte.org/managed": [:], "f:execution-id": [:]], "f:ownerReferences": [".": [:]]], "f:spec": ["f:containers": ["k:{\"name\":\"primary\"}": [".": [:], "f:image": [:], "f:args": [:]]]]]],
                    ["manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": "2026-11-23T12:00:05Z", "fieldsType": "FieldsV1", "subresource": "status",
                     "fieldsV1": ["f:status": ["f:conditions": [:], "f:containerStatuses": [:], "f:hostIP": [:], "f:phase": [:], "f:podIP": [:], "f:startTime": [:]]]],
                ],
            ],
            "spec": [
                "restartPolicy": "Never", "serviceAccountName": "default", "schedulerName": "default-scheduler", "nodeName": "node-3",
                "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
                "tolerations": [["key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300]],
                "containers": [[
                    "name": .string(name), "image": "cr.flyte.org/flyteorg/flytekit:py3.11-1.14.0", "imagePullPolicy": "IfNotPresent",
                    "args": ["pyflyte-fast-execute", "--additional-distribution", "s3://my-bucket/fast/abc.tar.gz", "--dest-dir", "/root", "--", "pyflyte-execute", "--inputs", .string("s3://my-bucket/metadata/a\(i)/inputs.pb"), "--output-prefix", .string("s3://my-bucket/data/a\(i)/n0/0"), "--raw-output-data-prefix", "s3://my-bucket/raw/xy", "--resolver", "flytekit.core.python_auto_container.default_task_resolver", "--", "task-module", "workflows.hello", "task-name", "say_hello"],
                    "env": [["name": "FLYTE_INTERNAL_EXECUTION_ID", "value": .string("a\(i)")], ["name": "FLYTE_INTERNAL_EXECUTION_PROJECT", "value": "flytesnacks"], ["name": "FLYTE_INTERNAL_EXECUTION_DOMAIN", "value": "development"], ["name": "ACTION_NAME", "value": "n0"], ["name": "RUN_NAME", "value": .string("a\(i)")], ["name": "_U_RUN_BASE", "value": "s3://my-bucket/data"]],
                    "resources": ["limits": ["cpu": "1", "memory": "1Gi"], "requests": ["cpu": "500m", "memory": "512Mi"]],
                    "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "FallbackToLogsOnError",
                    "volumeMounts": [["name": "kube-api-access-x", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true]],
                ]],
                "volumes": [["name": "kube-api-access-x", "projected": ["defaultMode": 420, "sources": [["serviceAccountToken": ["expirationSeconds": 3607, "path": "token"]]]]]],
            ],
            "status": [
                "phase": .string(phase), "hostIP": "10.0.3.17", "podIP": .string("10.244.3.\(i % 250)"), "startTime": "2026-11-23T12:00:01Z", "qosClass": "Burstable",
                "conditions": [["type": "Initialized", "status": "True", "lastTransitionTime": "2026-11-23T12:00:01Z"], ["type": "Ready", "status": "True", "lastTransitionTime": "2026-11-23T12:00:05Z"], ["type": "PodScheduled", "status": "True", "lastTransitionTime": "2026-11-23T12:00:00Z"]],
                "containerStatuses": [["name": .string(name), "ready": true, "restartCount": 0, "started": true, "image": "cr.flyte.org/flyteorg/flytekit:py3.11-1.14.0", "imageID": "cr.flyte.org/flyteorg/flytekit@sha256:0123456789abcdef", "containerID": "containerd://0123456789abcdef", "state": ["running": ["startedAt": "2026-11-23T12:00:04Z"]]]],
            ],
        ]
    }

    /// `count` newline-delimited watch events, as one stream of bytes. Members come in the
    /// order kube-apiserver writes them (Go's struct order): the event's `type` before its
    /// `object`, and the object's `kind`, `apiVersion`, `metadata`, `spec`, `status`.
    static func stream(count: Int) -> [UInt8] {
        var out: [UInt8] = []
        for i in 0..<count {
            let pod = pod(i, phase: i % 3 == 0 ? "Pending" : "Running")
            out.append(contentsOf: "{\"type\":\"\(i % 3 == 0 ? "ADDED" : "MODIFIED")\",\"object\":{".utf8)
            for (n, key) in ["kind", "apiVersion", "metadata", "spec", "status"].enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.string(key).write(to: &out)
                out.append(UInt8(ascii: ":"))
                pod[key]?.write(to: &out)
            }
            out.append(contentsOf: "}}\n".utf8)
        }
        return out
    }
}
