import Foundation
import KubeClient

/// A Flyte app (`apps.flyte.org`, `flyte.org/v1`): a long-running service that the executor
/// deploys as a Knative Service. `spec` is `flyteidl2.app.Spec` in proto3 JSON plus the app's
/// identifier, so Flyte's control plane can write one by converting its Spec; `status` carries
/// what `flyteidl2.app.Status` carries. The CRD is generated from ``AppSchema``.
public struct App: KubernetesObject, Hashable {
    public static let resourceType = ResourceType(group: "flyte.org", version: "v1", kind: "App", plural: "apps", namespaced: true)

    public var apiVersion: String? = "flyte.org/v1"
    public var kind: String? = "App"
    public var metadata: ObjectMeta
    public var spec: AppSpec
    public var status: AppStatus?

    public init(metadata: ObjectMeta, spec: AppSpec, status: AppStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// `namespace/name`.
    public var key: String { "\(metadata.namespace ?? "")/\(metadata.name ?? "")" }
}

/// `flyteidl2.app.Identifier`: the app's name within its project and domain.
public struct AppIdentifier: Codable, Sendable, Hashable {
    public var org: String?
    public var project: String
    public var domain: String
    public var name: String

    public init(org: String? = nil, project: String, domain: String, name: String) {
        self.org = org
        self.project = project
        self.domain = domain
        self.name = name
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // Missing fields read as empty, so validation names them instead of the decoder failing.
        org = try c.decodeIfPresent(String.self, forKey: .org)
        project = try c.decodeIfPresent(String.self, forKey: .project) ?? ""
        domain = try c.decodeIfPresent(String.self, forKey: .domain) ?? ""
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
    }

    /// `project/domain/name`, Flyte's `flyte.org/app-id`.
    public var appID: String { "\(project)/\(domain)/\(name)" }
}

/// `spec` of an App: `id`, and the fields of `flyteidl2.app.Spec` by their proto3 JSON names
/// (`container` or `pod`, `autoscaling`, `ingress`, `desiredState`, `securityContext`,
/// `timeouts`, …), kept as JSON and read into the protobuf message by the controller.
public struct AppSpec: Codable, Sendable, Hashable {
    public var id: AppIdentifier
    /// Every member of `spec` but `id`: a `flyteidl2.app.Spec` in proto3 JSON.
    public var fields: [String: JSONValue]

    public init(id: AppIdentifier, fields: [String: JSONValue]) {
        self.id = id
        self.fields = fields
    }

    public init(from decoder: any Decoder) throws {
        var members = try JSONValue(from: decoder).objectValue ?? [:]
        let id = members.removeValue(forKey: "id") ?? [:]
        self.id = try JSONValueDecoder().decode(AppIdentifier.self, from: id)
        self.fields = members
    }

    public func encode(to encoder: any Encoder) throws {
        var members = fields
        members["id"] = try JSONValueEncoder().encode(id)
        try JSONValue.object(members).encode(to: encoder)
    }

    /// `desiredState`: STOPPED is the only state that stops the app.
    public var isStopped: Bool { fields["desiredState"]?.stringValue == AppDesiredState.stopped.rawValue || fields["desiredState"]?.intValue == 1 }
}

/// `flyteidl2.app.Spec.DesiredState`, by its proto3 JSON names.
public enum AppDesiredState: String, Sendable, CaseIterable {
    case unspecified = "DESIRED_STATE_UNSPECIFIED"
    case stopped = "DESIRED_STATE_STOPPED"
    /// Deprecated upstream; means ACTIVE.
    case started = "DESIRED_STATE_STARTED"
    case active = "DESIRED_STATE_ACTIVE"
}

/// `flyteidl2.app.Status.DeploymentStatus` values the executor reports, by proto3 JSON name.
public enum AppDeploymentStatus: String, Codable, Sendable, CaseIterable {
    case pending = "DEPLOYMENT_STATUS_PENDING"
    case deploying = "DEPLOYMENT_STATUS_DEPLOYING"
    case active = "DEPLOYMENT_STATUS_ACTIVE"
    case stopped = "DEPLOYMENT_STATUS_STOPPED"
    case failed = "DEPLOYMENT_STATUS_FAILED"

    /// The name without the prefix (`ACTIVE`), as `status.phase` and `kubectl get apps` show it.
    public var shortName: String { String(rawValue.dropFirst("DEPLOYMENT_STATUS_".count)) }

    public init?(shortName: String) {
        self.init(rawValue: "DEPLOYMENT_STATUS_" + shortName)
    }
}

/// `flyteidl2.app.Status.Substate`: what the app's pods are doing (the proto names carry no prefix).
public enum AppSubstate: String, Codable, Sendable, CaseIterable {
    case unspecified = "SUBSTATE_UNSPECIFIED"
    case pullingImage = "PULLING_IMAGE"
    case initializing = "INITIALIZING"
    case webhookError = "WEBHOOK_ERROR"
    case imagePullError = "IMAGE_PULL_ERROR"
    case secretMountError = "SECRET_MOUNT_ERROR"
    case crashLoop = "CRASH_LOOP"
    case oomKilled = "OOM_KILLED"
    case running = "RUNNING"
    case scaledToZero = "SCALED_TO_ZERO"
    case scalingFromZero = "SCALING_FROM_ZERO"
    case scalingUp = "SCALING_UP"
    case scalingDown = "SCALING_DOWN"

    /// The substates that mean the deployment is failing.
    public var isFailure: Bool { [.imagePullError, .secretMountError, .crashLoop, .oomKilled, .webhookError].contains(self) }
}

/// `status` of an App. The members of `flyteidl2.app.Status` keep their proto3 JSON names
/// (so `protojson` with DiscardUnknown reads it); `phase`, `substate`, `message`, `url`,
/// `serviceName`, `observedGeneration` and `phaseHistory` are the resource's own.
public struct AppStatus: Codable, Sendable, Hashable {
    /// The deployment status in short form (`ACTIVE`): the one the conditions add up to.
    public var phase: String?
    public var substate: String?
    public var message: String?
    /// The app's URL: the public URL, else the Knative Service's own.
    public var url: String?
    /// The Knative Service that runs the app.
    public var serviceName: String?
    /// `flyte.org/spec-sha` of the deployed spec (Condition.deploymentId upstream).
    public var deploymentId: String?
    public var currentReplicas: Int?
    public var ingress: AppIngress?
    public var k8sMetadata: AppK8sMetadata?
    public var createdAt: String?
    public var lastUpdatedAt: String?
    public var lastStartedAt: String?
    public var conditions: [AppCondition]?
    public var observedGeneration: Int64?
    /// Append-only: one entry per change of phase or substate.
    public var phaseHistory: [AppPhaseTransition]?

    public init() {}

    public var deploymentStatus: AppDeploymentStatus? { phase.flatMap(AppDeploymentStatus.init(shortName:)) }
}

/// `flyteidl2.app.Condition`.
public struct AppCondition: Codable, Sendable, Hashable {
    public var lastTransitionTime: String?
    public var deploymentStatus: AppDeploymentStatus
    public var message: String?
    /// A counter bumped on every status write (uint64, so a string in proto3 JSON).
    public var revision: String?
    public var substate: AppSubstate?
    /// The spec-sha of the deployment the condition is about.
    public var deploymentId: String?

    public init(lastTransitionTime: String? = nil, deploymentStatus: AppDeploymentStatus, message: String? = nil, revision: String? = nil, substate: AppSubstate? = nil, deploymentId: String? = nil) {
        self.lastTransitionTime = lastTransitionTime
        self.deploymentStatus = deploymentStatus
        self.message = message
        self.revision = revision
        self.substate = substate
        self.deploymentId = deploymentId
    }
}

/// `flyteidl2.app.Ingress`: the app's URLs.
public struct AppIngress: Codable, Sendable, Hashable {
    public var publicUrl: String?
    public var cnameUrl: String?
    public var vpcUrl: String?

    public init(publicUrl: String? = nil, cnameUrl: String? = nil, vpcUrl: String? = nil) {
        self.publicUrl = publicUrl
        self.cnameUrl = cnameUrl
        self.vpcUrl = vpcUrl
    }
}

/// `flyteidl2.app.K8sMetadata`.
public struct AppK8sMetadata: Codable, Sendable, Hashable {
    public var namespace: String?

    public init(namespace: String? = nil) {
        self.namespace = namespace
    }
}

/// One entry of an App's `phaseHistory`.
public struct AppPhaseTransition: Codable, Sendable, Hashable {
    public var phase: String
    public var substate: String?
    public var occurredAt: String
    public var message: String?

    public init(phase: String, substate: String? = nil, occurredAt: String, message: String? = nil) {
        self.phase = phase
        self.substate = substate
        self.occurredAt = occurredAt
        self.message = message
    }
}
