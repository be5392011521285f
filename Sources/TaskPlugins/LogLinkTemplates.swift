import FlyteIDL
import Foundation
import KubeClient

/// One configured kind of log link (Flyte's `tasklog.TemplateLogPlugin`): URI templates whose
/// `{{ .podName }}`-style variables are filled from the task's Pod.
public struct LogLinkTemplate: Codable, Sendable, Hashable {
    public var displayName: String
    public var templateUris: [String]
    public var messageFormat: Flyteidl2_Core_TaskLog.MessageFormat = .unknown
    public var showWhilePending = false
    public var hideOnceFinished = false
    /// `external` (the default), `dashboard` or `ide`.
    public var linkType = ""
    public var iconUri = ""

    public init(displayName: String, templateUris: [String]) {
        self.displayName = displayName
        self.templateUris = templateUris
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case displayName, templateUris, messageFormat, showWhilePending, hideOnceFinished, linkType, iconUri
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        displayName = try c.decodeIfPresent(String.self, forKey: .displayName) ?? ""
        templateUris = try c.decodeIfPresent([String].self, forKey: .templateUris) ?? []
        // Flyte's file gives the enum's number; its name reads too.
        switch try c.decodeIfPresent(JSONValue.self, forKey: .messageFormat) {
        case nil, .null?: break
        case .int(let number)?: messageFormat = Flyteidl2_Core_TaskLog.MessageFormat(rawValue: Int(number)) ?? .unknown
        case .string(let name)? where name.uppercased() == "UNKNOWN": messageFormat = .unknown
        case .string(let name)? where name.uppercased() == "CSV": messageFormat = .csv
        case .string(let name)? where name.uppercased() == "JSON": messageFormat = .json
        default: throw DecodingError.dataCorruptedError(forKey: .messageFormat, in: c, debugDescription: "messageFormat must be 0, 1, 2 or UNKNOWN, CSV, JSON")
        }
        showWhilePending = try c.decodeIfPresent(Bool.self, forKey: .showWhilePending) ?? false
        hideOnceFinished = try c.decodeIfPresent(Bool.self, forKey: .hideOnceFinished) ?? false
        linkType = try c.decodeIfPresent(String.self, forKey: .linkType) ?? ""
        iconUri = try c.decodeIfPresent(String.self, forKey: .iconUri) ?? ""
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(displayName, forKey: .displayName)
        try c.encode(templateUris, forKey: .templateUris)
        try c.encode(messageFormat.rawValue, forKey: .messageFormat)
        try c.encode(showWhilePending, forKey: .showWhilePending)
        try c.encode(hideOnceFinished, forKey: .hideOnceFinished)
        try c.encode(linkType, forKey: .linkType)
        try c.encode(iconUri, forKey: .iconUri)
    }
}

/// `plugins.logs`, as Flyte's `logs.LogConfig` (the same path in Flyte's file): the log links a
/// Pod task's ActionEvents carry, for Flyte's UI to show. Off unless configured: Flyte turns on a
/// Kubernetes-dashboard link to `localhost:30082` by default, which only its sandbox serves.
public struct LogsConfig: Codable, Sendable, Hashable {
    public var kubernetesEnabled = false
    public var kubernetesURL = ""
    public var kubernetesTemplateURI = ""
    public var cloudwatchEnabled = false
    public var cloudwatchRegion = ""
    public var cloudwatchLogGroup = ""
    public var cloudwatchTemplateURI = ""
    public var stackdriverEnabled = false
    public var gcpProject = ""
    public var stackdriverLogResourceName = ""
    public var stackdriverTemplateURI = ""
    public var templates: [LogLinkTemplate] = []
    /// Flyte's `dynamic-log-links`: links a task asks for by name in its template's config
    /// (`link_type: "wandb,vscode"`), their URIs' `{{ .taskConfig.<key> }}` filled from that
    /// config; a task with `_F_E_VS` set asks for `vscode` too, and gets it as an IDE link.
    public var dynamicLogLinks: [String: LogLinkTemplate] = [:]

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case kubernetesEnabled = "kubernetes-enabled"
        case kubernetesURL = "kubernetes-url"
        case kubernetesTemplateURI = "kubernetes-template-uri"
        case cloudwatchEnabled = "cloudwatch-enabled"
        case cloudwatchRegion = "cloudwatch-region"
        case cloudwatchLogGroup = "cloudwatch-log-group"
        case cloudwatchTemplateURI = "cloudwatch-template-uri"
        case stackdriverEnabled = "stackdriver-enabled"
        case gcpProject = "gcp-project"
        case stackdriverLogResourceName = "stackdriver-logresourcename"
        case stackdriverTemplateURI = "stackdriver-template-uri"
        case templates
        case dynamicLogLinks = "dynamic-log-links"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func string(_ key: CodingKeys) throws -> String { try c.decodeIfPresent(String.self, forKey: key) ?? "" }
        kubernetesEnabled = try c.decodeIfPresent(Bool.self, forKey: .kubernetesEnabled) ?? false
        kubernetesURL = try string(.kubernetesURL)
        kubernetesTemplateURI = try string(.kubernetesTemplateURI)
        cloudwatchEnabled = try c.decodeIfPresent(Bool.self, forKey: .cloudwatchEnabled) ?? false
        cloudwatchRegion = try string(.cloudwatchRegion)
        cloudwatchLogGroup = try string(.cloudwatchLogGroup)
        cloudwatchTemplateURI = try string(.cloudwatchTemplateURI)
        stackdriverEnabled = try c.decodeIfPresent(Bool.self, forKey: .stackdriverEnabled) ?? false
        gcpProject = try string(.gcpProject)
        stackdriverLogResourceName = try string(.stackdriverLogResourceName)
        stackdriverTemplateURI = try string(.stackdriverTemplateURI)
        templates = try c.decodeIfPresent([LogLinkTemplate].self, forKey: .templates) ?? []
        dynamicLogLinks = try c.decodeIfPresent([String: LogLinkTemplate].self, forKey: .dynamicLogLinks) ?? [:]
    }

    /// The templates in Flyte's order: the task's own `metadata.log_links` (dashboards), then
    /// Kubernetes, CloudWatch, Google Cloud, then `templates`.
    func templates(for template: Flyteidl2_Core_TaskTemplate) -> [LogLinkTemplate] {
        var all: [LogLinkTemplate] = template.metadata.logLinks.map { link in
            var t = LogLinkTemplate(displayName: link.name, templateUris: [link.uri])
            t.messageFormat = link.messageFormat
            t.linkType = "dashboard"
            t.iconUri = link.iconUri
            return t
        }
        func builtIn(_ name: String, _ uri: String) -> LogLinkTemplate {
            var t = LogLinkTemplate(displayName: name, templateUris: [uri])
            t.messageFormat = .json
            return t
        }
        if kubernetesEnabled {
            all.append(builtIn("Kubernetes Logs", kubernetesTemplateURI.isEmpty ? "\(kubernetesURL)/#!/log/{{ .namespace }}/{{ .podName }}/pod?namespace={{ .namespace }}" : kubernetesTemplateURI))
        }
        if cloudwatchEnabled {
            all.append(builtIn("Cloudwatch Logs", cloudwatchTemplateURI.isEmpty ? "https://console.aws.amazon.com/cloudwatch/home?region=\(cloudwatchRegion)#logEventViewer:group=\(cloudwatchLogGroup);stream=var.log.containers.{{ .podName }}_{{ .namespace }}_{{ .containerName }}-{{ .containerId }}.log" : cloudwatchTemplateURI))
        }
        if stackdriverEnabled {
            all.append(builtIn("Google Cloud Logs", stackdriverTemplateURI.isEmpty ? "https://console.cloud.google.com/logs/viewer?project=\(gcpProject)&angularJsUrl=%2Flogs%2Fviewer%3Fproject%3D\(gcpProject)&resource=\(stackdriverLogResourceName)&advancedFilter=resource.labels.pod_name%3D{{ .podName }}" : stackdriverTemplateURI))
        }
        return all + templates
    }

    /// Whether any template reads a container's ID, which the Pod cache then keeps.
    public var readsContainerID: Bool {
        ([kubernetesTemplateURI, cloudwatchTemplateURI, stackdriverTemplateURI] + (templates + dynamicLogLinks.values).flatMap(\.templateUris)).contains { $0.lowercased().contains("containerid") }
            || (cloudwatchEnabled && cloudwatchTemplateURI.isEmpty)
    }

    /// Flyte's `GetLogsForContainerInPod` for the Pod's first container: nothing while the Pod
    /// has no status for it.
    public func links(for pod: Pod, context: TaskExecutionContext) -> [LogLink] {
        let templates = templates(for: context.template)
        let dynamic = dynamicTemplates(for: context.template)
        guard !templates.isEmpty || !dynamic.isEmpty, let container = pod.spec?.containers.first,
              let status = pod.status?.containerStatuses?.first else { return [] }
        let variables = LogLinkVariables.values(pod: pod, container: container.name, containerID: status.containerID ?? "", context: context)
        return templates.flatMap { $0.links(variables) } + Self.dynamicLinks(dynamic, variables, template: context.template)
    }

    /// Flyte's `GetLogs` of the Kubeflow and JobSet plugins: each replica Pod's links, by the
    /// name its operator gives it, with the child's creation as the Pods' start (they are not
    /// read) and `containerName` as the container; the Pod's log name is appended to its
    /// links' names.
    public func links(for pods: [ReplicaLogPod], of child: ObjectMeta, containerName: String, context: TaskExecutionContext) -> [LogLink] {
        let templates = templates(for: context.template)
        let dynamic = dynamicTemplates(for: context.template)
        guard !templates.isEmpty || !dynamic.isEmpty else { return [] }
        let started = child.creationTimestamp.flatMap(KubeTime.parse) ?? context.now
        var common = LogLinkVariables.task(context)
        common.merge([
            "namespace": child.namespace ?? context.namespace, "containername": containerName,
            "podrfc3339starttime": LogLinkVariables.rfc3339(started), "podrfc3339finishtime": LogLinkVariables.rfc3339(context.now),
            "podunixstarttime": String(Int64(started.timeIntervalSince1970)), "podunixfinishtime": String(Int64(context.now.timeIntervalSince1970)),
        ]) { $1 }
        return pods.flatMap { pod -> [LogLink] in
            var variables = common
            variables["podname"] = pod.name
            variables["logname"] = pod.logName
            return (templates.flatMap { $0.links(variables) } + Self.dynamicLinks(dynamic, variables, template: context.template)).map { link -> LogLink in
                var link = link
                link.name += pod.logName
                return link
            }
        }
    }

    /// The dynamic links `template` asks for, in Flyte's order (the link types sorted).
    public func dynamicTemplates(for template: Flyteidl2_Core_TaskTemplate) -> [(name: String, template: LogLinkTemplate)] {
        guard !dynamicLogLinks.isEmpty else { return [] }
        var types = (template.config["link_type"] ?? "").split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        if types == [""] { types = [] }
        if Self.servesVSCode(template) { types.append(Self.vscode) }
        return Set(types).sorted().compactMap { name in dynamicLogLinks[name].map { (name, $0) } }
    }

    static let vscode = "vscode"

    /// Flyte's `IsVscodeEnabled` on the task's container: `_F_E_VS` is a true Go boolean.
    static func servesVSCode(_ template: Flyteidl2_Core_TaskTemplate) -> Bool {
        let flag = template.container.env.first { $0.key == "_F_E_VS" }?.value
        return flag.flatMap(PodPlugin.goBool) ?? false
    }

    /// Flyte's dynamic part of `TemplateLogPlugin.GetTaskLogs`: each URI with the task config's
    /// values as `{{ .taskConfig.<key> }}`, named by the display name as it is, and an IDE link
    /// for `vscode`.
    static func dynamicLinks(_ dynamic: [(name: String, template: LogLinkTemplate)], _ variables: [String: String], template: Flyteidl2_Core_TaskTemplate) -> [LogLink] {
        guard !dynamic.isEmpty else { return [] }
        var values = variables
        for (key, value) in template.config { values["taskconfig." + key.lowercased()] = value }
        return dynamic.flatMap { name, t in
            t.templateUris.map { uri in
                var link = LogLink(name: t.displayName, uri: LogLinkVariables.fill(uri, values))
                link.messageFormat = t.messageFormat
                link.showWhilePending = t.showWhilePending
                link.hideOnceFinished = t.hideOnceFinished
                link.linkType = name == vscode ? .ide : Flyteidl2_Core_TaskLog.LinkType(name: t.linkType)
                link.iconUri = t.iconUri
                link.ready = true
                return link
            }
        }
    }
}

extension LogLinkTemplate {
    /// This template's links, one per URI, with `variables` filled in.
    func links(_ variables: [String: String]) -> [LogLink] {
        templateUris.map { uri in
            var link = LogLink(name: LogLinkVariables.fill(displayName, variables), uri: LogLinkVariables.fill(uri, variables))
            link.messageFormat = messageFormat
            link.showWhilePending = showWhilePending
            link.hideOnceFinished = hideOnceFinished
            link.linkType = Flyteidl2_Core_TaskLog.LinkType(name: linkType)
            link.iconUri = iconUri
            link.ready = true
            return link
        }
    }
}

/// The variables of Flyte's log link templates (`tasklog/template.go`).
enum LogLinkVariables {
    static func values(pod: Pod, container: String, containerID: String, context: TaskExecutionContext) -> [String: String] {
        let started = pod.metadata.creationTimestamp.flatMap(KubeTime.parse) ?? context.now
        // Flyte strips the runtime's scheme (`containerd://`).
        let bareID = containerID.range(of: "://").map { String(containerID[$0.upperBound...]) } ?? containerID
        var values = task(context)
        values.merge([
            "podname": pod.metadata.name ?? "", "poduid": pod.metadata.uid ?? "", "namespace": pod.metadata.namespace ?? "",
            "containername": container, "containerid": bareID,
            "podrfc3339starttime": rfc3339(started), "podrfc3339finishtime": rfc3339(context.now),
            "podunixstarttime": String(Int64(started.timeIntervalSince1970)), "podunixfinishtime": String(Int64(context.now.timeIntervalSince1970)),
        ]) { $1 }
        return values
    }

    /// The variables that come from the task and its run, whatever the child.
    static func task(_ context: TaskExecutionContext) -> [String: String] {
        let spec = context.taskAction.spec
        let id = context.template.id
        return [
            "nodeid": spec.actionName, "generatedname": context.generatedName, "taskretryattempt": String(max(0, context.attempt - 1)),
            "taskid": id.name, "taskversion": id.version, "taskorg": id.org, "taskproject": id.project, "taskdomain": id.domain,
            "executionname": spec.runName, "runname": spec.runName, "actionname": spec.actionName,
            "executionproject": spec.project, "executiondomain": spec.domain,
        ]
    }

    /// Go's `time.RFC3339` in UTC, to the second.
    static func rfc3339(_ date: Date) -> String {
        KubeTime.format(Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)))
    }

    /// Replaces each `{{ .name }}` or `{{ $name }}` (any case, spaces inside the braces) whose
    /// value is known and not empty, as Flyte's regular expressions do; the rest stays. A
    /// dynamic link's `{{ .taskConfig.key }}` (or `$key`) is the value `taskconfig.key`.
    static func fill(_ template: String, _ values: [String: String]) -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.range(of: "{{") {
            out += rest[..<open.lowerBound]
            let after = rest[open.upperBound...]
            if let close = after.range(of: "}}") {
                let inner = after[..<close.lowerBound].trimmingCharacters(in: .whitespaces)
                var name = inner.dropFirst().lowercased()
                if name.hasPrefix("taskconfig$") { name = "taskconfig." + name.dropFirst("taskconfig$".count) }
                if let sigil = inner.first, sigil == "." || sigil == "$", let value = values[name], !value.isEmpty,
                   name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }) {
                    out += value
                    rest = after[close.upperBound...]
                    continue
                }
            }
            out += "{{"
            rest = after
        }
        return out + rest
    }
}

extension Flyteidl2_Core_TaskLog.LinkType {
    /// Flyte's `TaskLog_LinkType_value[strings.ToUpper(name)]`: an unknown or empty name is EXTERNAL.
    init(name: String) {
        switch name.uppercased() {
        case "DASHBOARD": self = .dashboard
        case "IDE": self = .ide
        default: self = .external
        }
    }
}

/// A replica Pod of a child as its log links name it: the Pod's name as the operator gives it,
/// and the suffix of its links' names (`master`, `launcher`, `rank-0`; empty for workers, as
/// Flyte's).
public struct ReplicaLogPod: Sendable, Hashable {
    public var name: String
    public var logName: String

    public init(name: String, logName: String = "") {
        self.name = name
        self.logName = logName
    }
}
