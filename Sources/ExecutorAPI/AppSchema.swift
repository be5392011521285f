import KubeClient

/// The one source of truth for the App CRD (`apps.flyte.org`). `spec` follows
/// `flyteidl2.app.Spec`'s proto3 JSON names and the buf.validate rules the API server can
/// check (name pattern and length, the payload and metric oneofs, ranges); what it cannot
/// (durations' ranges, the protobuf shape of the nested messages kept open here) the
/// controller checks, failing the App with a condition that names the field.
public enum AppSchema {
    private typealias S = TaskActionSchema

    static let namePattern = "^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
    static let durationPattern = #"^-?[0-9]+(\.[0-9]{1,9})?s$"#

    /// An object kept as written: a protobuf message the controller reads and checks.
    private static func open(_ description: String) -> JSONValue {
        ["type": "object", "description": .string(description), "x-kubernetes-preserve-unknown-fields": true]
    }

    private static func array(_ description: String, _ items: JSONValue) -> JSONValue {
        ["type": "array", "description": .string(description), "items": items]
    }

    private static func uint32(_ description: String, minimum: Int = 0) -> JSONValue {
        ["type": "integer", "format": "int64", "minimum": .int(Int64(minimum)), "maximum": 4_294_967_295, "description": .string(description)]
    }

    private static func with(_ schema: JSONValue, rules: [(String, String)]) -> JSONValue {
        var schema = schema
        schema["x-kubernetes-validations"] = .array(rules.map { ["rule": .string($0.0), "message": .string($0.1)] })
        return schema
    }

    static var keyValuePairs: JSONValue {
        array("An ordered list of key/value pairs (flyteidl2.core.KeyValuePair).", S.object(properties: ["key": S.string(), "value": S.string()]))
    }

    static var resources: JSONValue {
        let entry = S.object(properties: [
            "name": S.string("Resource name (flyteidl2.core.Resources.ResourceName).", enumValues: ["UNKNOWN", "CPU", "GPU", "MEMORY", "STORAGE", "EPHEMERAL_STORAGE"]),
            "value": S.string("A Kubernetes quantity."),
        ])
        return S.object("Requests and limits (flyteidl2.core.Resources).", properties: ["requests": array("Requests.", entry), "limits": array("Limits.", entry)])
    }

    static var container: JSONValue {
        S.object("The app's container (flyteidl2.core.Container).", properties: [
            "image": S.string("Image reference.", minLength: 1),
            "command": array("Entrypoint; the image's when empty.", S.string()),
            "args": array("Arguments.", S.string()),
            "resources": resources,
            "env": keyValuePairs,
            "config": keyValuePairs,
            "ports": array("Ports the app listens on.", S.object(properties: [
                "containerPort": uint32("Port number, 1-65535.", minimum: 1),
                "name": S.string("Port name (Knative accepts http1 or h2c)."),
            ])),
            "dataConfig": open("flyteidl2.core.DataLoadingConfig."),
            "architecture": S.string("CPU architecture.", enumValues: ["UNKNOWN", "AMD64", "ARM64", "ARM_V6", "ARM_V7"]),
        ], required: ["image"])
    }

    static var pod: JSONValue {
        S.object("The app's pod (flyteidl2.core.K8sPod): a Kubernetes PodSpec used as it is.", properties: [
            "metadata": S.object("Labels and annotations (flyteidl2.core.K8sObjectMetadata).", properties: [
                "labels": ["type": "object", "additionalProperties": ["type": "string"]],
                "annotations": ["type": "object", "additionalProperties": ["type": "string"]],
            ]),
            "podSpec": open("A Kubernetes PodSpec (google.protobuf.Struct)."),
            "dataConfig": open("flyteidl2.core.DataLoadingConfig."),
            "primaryContainerName": S.string("The container that serves the app."),
        ], required: ["podSpec"])
    }

    static var autoscaling: JSONValue {
        S.object("Knative autoscaling (flyteidl2.app.AutoscalingConfig).", properties: [
            "replicas": S.object("Replica bounds: autoscaling.knative.dev/min-scale and max-scale.", properties: [
                "min": uint32("Fewest replicas; 0 lets the app scale to zero."),
                "max": uint32("Most replicas; 0 means no limit."),
            ]),
            "scaledownPeriod": S.string("autoscaling.knative.dev/window, as a protobuf Duration (\"90s\").", pattern: durationPattern),
            "scalingMetric": with(S.object("What the autoscaler targets: exactly one of requestRate or concurrency.", properties: [
                "requestRate": S.object("Requests per second per replica (metric rps).", properties: ["targetValue": uint32("Target requests per second.")]),
                "concurrency": S.object("In-flight requests per replica (metric concurrency).", properties: ["targetValue": uint32("Target concurrency, more than 0.", minimum: 1)]),
            ]), rules: [("has(self.requestRate) != has(self.concurrency)", "exactly one of requestRate or concurrency must be set")]),
        ])
    }

    public static var spec: JSONValue {
        with(S.object("AppSpec is flyteidl2.app.Spec in proto3 JSON, plus the app's identifier.", properties: [
            "id": with(S.object("The app's identifier (flyteidl2.app.Identifier); immutable, as it names the Knative Service.", properties: [
                "org": S.string("Organization; may be empty."),
                "project": S.string("Project.", minLength: 1, maxLength: 63),
                "domain": S.string("Domain.", minLength: 1, maxLength: 63),
                "name": S.string("App name: 1-30 letters, digits and '-', starting and ending with a letter or digit.", minLength: 1, maxLength: 30, pattern: namePattern),
            ], required: ["domain", "name", "project"]), rules: [("self == oldSelf", "id is immutable")]),
            "container": container,
            "pod": pod,
            "autoscaling": autoscaling,
            "ingress": S.object("Ingress settings (flyteidl2.app.IngressConfig).", properties: [
                "private": ["type": "boolean", "description": "The app is reachable inside the cluster only."],
                "subdomain": S.string("Subdomain; random when empty."),
                "cname": S.string("CNAME."),
            ]),
            "desiredState": S.string("DESIRED_STATE_STOPPED stops the app (scaled to zero, its Knative Service kept); anything else runs it.", enumValues: AppDesiredState.allCases.map(\.rawValue)),
            "clusterPool": S.string("Cluster pool; empty means the default."),
            "images": open("flyteidl2.app.ImageSpecSet."),
            "securityContext": S.object("flyteidl2.app.SecurityContext.", properties: [
                "runAs": S.object("Identity the pod runs as (flyteidl2.core.Identity).", properties: [
                    "iamRole": S.string(),
                    "k8sServiceAccount": S.string("The pod's ServiceAccount."),
                    "oauth2Client": open("flyteidl2.core.OAuth2Client."),
                    "executionIdentity": S.string(),
                ]),
                "secrets": array("Secrets to mount (flyteidl2.core.Secret).", S.object(properties: [
                    "group": S.string(), "groupVersion": S.string(), "key": S.string(),
                    "mountRequirement": S.string(enumValues: ["ANY", "ENV_VAR", "FILE"]), "envVar": S.string(),
                ])),
                "allowAnonymous": ["type": "boolean", "description": "The app may be reached without authentication."],
            ]),
            "extendedResources": open("flyteidl2.core.ExtendedResources."),
            "runtimeMetadata": open("flyteidl2.common.RuntimeMetadata."),
            "profile": S.object("flyteidl2.app.Profile.", properties: [
                "type": S.string(), "name": S.string(), "shortDescription": S.string(maxLength: 100), "iconUrl": S.string(),
            ]),
            "creator": open("flyteidl2.common.EnrichedIdentity."),
            "inputs": open("flyteidl2.app.InputList."),
            "links": array("flyteidl2.app.Link.", S.object(properties: [
                "path": S.string(minLength: 1), "title": S.string(), "isRelative": ["type": "boolean"],
            ])),
            "timeouts": S.object("flyteidl2.app.TimeoutConfig.", properties: [
                "requestTimeout": S.string("Request timeout, 0s to 3600s (the executor's default when unset).", pattern: durationPattern),
            ]),
        ], required: ["id"]), rules: [("has(self.container) != has(self.pod)", "exactly one of container or pod must be set")])
    }

    public static var status: JSONValue {
        S.object("AppStatus carries flyteidl2.app.Status (proto3 JSON names) and the resource's own summary.", properties: [
            "phase": S.string("The deployment status in short form.", enumValues: AppDeploymentStatus.allCases.map(\.shortName)),
            "substate": S.string("What the app's pods are doing.", enumValues: AppSubstate.allCases.map(\.rawValue)),
            "message": S.string("Why the app is in its phase."),
            "url": S.string("The app's URL."),
            "serviceName": S.string("The Knative Service that runs the app."),
            "deploymentId": S.string("flyte.org/spec-sha of the deployed spec."),
            "currentReplicas": ["type": "integer", "format": "int64", "minimum": 0, "description": "Replicas of the latest ready Revision."],
            "ingress": S.object("flyteidl2.app.Ingress.", properties: ["publicUrl": S.string(), "cnameUrl": S.string(), "vpcUrl": S.string()]),
            "k8sMetadata": S.object("flyteidl2.app.K8sMetadata.", properties: ["namespace": S.string()]),
            "createdAt": S.string("When the Knative Service was created.", format: "date-time"),
            "lastUpdatedAt": S.string("When the status last changed.", format: "date-time"),
            "lastStartedAt": S.string("When the app last became ACTIVE after not being so.", format: "date-time"),
            "observedGeneration": S.integer("The generation the status was derived from.", format: "int64", minimum: 0),
            "conditions": array("flyteidl2.app.Condition, one per Knative condition that counts (§9.3).", S.object(properties: [
                "lastTransitionTime": S.string(format: "date-time"),
                "deploymentStatus": S.string(enumValues: AppDeploymentStatus.allCases.map(\.rawValue)),
                "message": S.string(),
                "revision": S.string("Bumped on every status write (uint64)."),
                "substate": S.string(enumValues: AppSubstate.allCases.map(\.rawValue)),
                "deploymentId": S.string(),
            ], required: ["deploymentStatus"])),
            "phaseHistory": array("Append-only log of changes of phase or substate.", S.object(properties: [
                "phase": S.string(), "substate": S.string(), "occurredAt": S.string(format: "date-time"), "message": S.string(),
            ], required: ["occurredAt", "phase"])),
        ])
    }

    public static var printerColumns: JSONValue {
        [
            ["jsonPath": ".status.phase", "name": "Status", "type": "string"],
            ["jsonPath": ".status.substate", "name": "Substate", "type": "string"],
            ["jsonPath": ".status.currentReplicas", "name": "Replicas", "type": "integer"],
            ["jsonPath": ".status.url", "name": "URL", "type": "string"],
            ["jsonPath": ".metadata.creationTimestamp", "name": "Age", "type": "date"],
            ["jsonPath": ".spec.id.project", "name": "Project", "priority": 1, "type": "string"],
            ["jsonPath": ".spec.id.domain", "name": "Domain", "priority": 1, "type": "string"],
            ["jsonPath": ".status.serviceName", "name": "Service", "priority": 1, "type": "string"],
        ]
    }

    /// The whole CustomResourceDefinition.
    public static var crd: JSONValue {
        [
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": ["name": "apps.flyte.org", "annotations": ["executor.flyte.org/generated-by": "executor manifests"]],
            "spec": [
                "group": "flyte.org",
                "names": ["kind": "App", "listKind": "AppList", "plural": "apps", "singular": "app", "categories": ["flyte"]],
                "scope": "Namespaced",
                "versions": [[
                    "name": "v1",
                    "served": true,
                    "storage": true,
                    "additionalPrinterColumns": printerColumns,
                    "schema": ["openAPIV3Schema": S.object("App is a Flyte app served by Knative.", properties: [
                        "apiVersion": S.string("APIVersion defines the versioned schema of this representation of an object."),
                        "kind": S.string("Kind is a string value representing the REST resource this object represents."),
                        "metadata": ["type": "object"],
                        "spec": spec,
                        "status": status,
                    ], required: ["spec"])],
                    "subresources": ["status": [:]],
                ]],
            ],
        ]
    }

    /// The CRD as YAML, as `executor manifests` writes it.
    public static func yaml() throws -> String {
        "---\n" + (try crd.yaml())
    }
}
