import ExecutorAPI
import ExecutorControllers
import Foundation
import KubeClient
import TaskPlugins

/// Reads TaskActions and Apps for people: the tables of `executor get`, the report of
/// `executor describe`. Rendering is separate from reading so tests compare whole outputs.
struct Inspector {
    let client: KubernetesClient
    let style: TerminalStyle
    /// The plugins of this binary: which kind each task type's children are, and their names.
    let plugins: PluginRegistry
    var now: @Sendable () -> Date = Date.init

    enum Format: String, CaseIterable {
        case table, wide, json, yaml
    }

    /// Which TaskActions `get` and `watch` show.
    struct Query {
        /// nil: every namespace.
        var namespace: String?
        var labelSelector: String?
        var phase: String?
        var run: String?
    }

    // MARK: - Reading

    func taskActions(_ query: Query) async throws -> [TaskAction] {
        let items: [JSONValue]
        do {
            items = try await client.listAll(TaskAction.resourceType, namespace: query.namespace, options: ListOptions(labelSelector: query.labelSelector)).items
        } catch {
            throw InspectError.explain(error, resource: TaskAction.resourceType, namespace: query.namespace)
        }
        return try items.map { try JSONValueDecoder().decode(TaskAction.self, from: $0) }.filter { taskAction in
            (query.run.map { $0 == taskAction.spec.runName } ?? true) && (query.phase.map { TaskActionView(taskAction).matches(phase: $0) } ?? true)
        }.sorted { ($0.metadata.namespace ?? "", $0.metadata.name ?? "") < ($1.metadata.namespace ?? "", $1.metadata.name ?? "") }
    }

    func apps(namespace: String?, labelSelector: String?) async throws -> [App] {
        do {
            let items = try await client.listAll(App.resourceType, namespace: namespace, options: ListOptions(labelSelector: labelSelector)).items
            return try items.map { try JSONValueDecoder().decode(App.self, from: $0) }
                .sorted { ($0.metadata.namespace ?? "", $0.metadata.name ?? "") < ($1.metadata.namespace ?? "", $1.metadata.name ?? "") }
        } catch let error as InspectError {
            throw error
        } catch {
            throw InspectError.explain(error, resource: App.resourceType, namespace: namespace)
        }
    }

    /// One TaskAction; a name that is not there is an error suggesting close names.
    func taskAction(_ name: String, namespace: String) async throws -> TaskAction {
        do {
            return try await client.get(TaskAction.self, name: name, namespace: namespace)
        } catch let error as KubeAPIError where error.isNotFound {
            // A missing CRD is a 404 as well; the list tells the two apart.
            let names = try await taskActions(Query(namespace: namespace)).compactMap(\.metadata.name)
            let close = NameSuggestions.closest(to: name, among: names)
            throw InspectError(description: "taskaction \"\(name)\" not found in namespace \"\(namespace)\"" + (close.isEmpty ? "" : "; did you mean \(close.joined(separator: ", "))?"))
        } catch {
            throw InspectError.explain(error, resource: TaskAction.resourceType, namespace: namespace)
        }
    }

    // MARK: - get

    func renderTaskActions(_ items: [TaskAction], format: Format, allNamespaces: Bool) throws -> String {
        switch format {
        case .json, .yaml:
            return try Self.list(items.map { try JSONValueEncoder().encode($0) }, format: format)
        case .table, .wide:
            let now = self.now()
            var header = ["NAME", "RUN", "ACTION", "TYPE", "PHASE", "ATTEMPT", "AGE", "DURATION"]
            if allNamespaces { header.insert("NAMESPACE", at: 0) }
            if format == .wide { header += ["PROJECT", "DOMAIN", "CHILD", "MESSAGE"] }
            var table = TextTable(header)
            for taskAction in items {
                let view = TaskActionView(taskAction)
                var row: [(text: String, color: TerminalStyle.Color?)] = [
                    (taskAction.metadata.name ?? "", nil), (taskAction.spec.runName, nil), (taskAction.spec.actionName, nil), (taskAction.spec.taskType ?? "", nil),
                    (view.phase, TerminalStyle.color(ofPhase: view.phase)), (String(view.attempt), nil),
                    (view.created.map { HumanDuration.format(now.timeIntervalSince($0)) } ?? "<unknown>", nil),
                    (view.duration(now: now).map(HumanDuration.format) ?? "-", nil),
                ]
                if allNamespaces { row.insert((taskAction.metadata.namespace ?? "", nil), at: 0) }
                if format == .wide {
                    let message = (view.status.conditions ?? []).first { $0.type == TaskActionConditionType.progressing.rawValue }?.message ?? ""
                    row += [(taskAction.spec.project, nil), (taskAction.spec.domain, nil), (child(of: taskAction, attempt: view.attempt)?.name ?? "-", nil), (oneLine(message), nil)]
                }
                table.add(row)
            }
            return items.isEmpty ? "" : table.render(style: style)
        }
    }

    func renderApps(_ items: [App], format: Format, allNamespaces: Bool) throws -> String {
        switch format {
        case .json, .yaml:
            return try Self.list(items.map { try JSONValueEncoder().encode($0) }, format: format)
        case .table, .wide:
            let now = self.now()
            var header = ["NAME", "PHASE", "SUBSTATE", "REPLICAS", "URL", "AGE"]
            if allNamespaces { header.insert("NAMESPACE", at: 0) }
            if format == .wide { header += ["PROJECT", "DOMAIN", "SERVICE", "MESSAGE"] }
            var table = TextTable(header)
            for app in items {
                let phase = app.status?.phase ?? "PENDING"
                var row: [(text: String, color: TerminalStyle.Color?)] = [
                    (app.metadata.name ?? "", nil), (phase, TerminalStyle.color(ofPhase: phase)), (app.status?.substate ?? "", nil),
                    (app.status?.currentReplicas.map(String.init) ?? "0", nil), (app.status?.url ?? "", nil),
                    (app.metadata.creationTimestamp.flatMap(KubeTime.parse).map { HumanDuration.format(now.timeIntervalSince($0)) } ?? "<unknown>", nil),
                ]
                if allNamespaces { row.insert((app.metadata.namespace ?? "", nil), at: 0) }
                if format == .wide { row += [(app.spec.id.project, nil), (app.spec.id.domain, nil), (app.status?.serviceName ?? "", nil), (oneLine(app.status?.message ?? ""), nil)] }
                table.add(row)
            }
            return items.isEmpty ? "" : table.render(style: style)
        }
    }

    /// A `kind: List` as kubectl prints one.
    static func list(_ items: [JSONValue], format: Format) throws -> String {
        let list: JSONValue = ["apiVersion": "v1", "kind": "List", "metadata": ["resourceVersion": ""], "items": .array(items)]
        if format == .yaml { return try list.yaml() }
        let object = try JSONSerialization.jsonObject(with: Data(list.serialized(sortedKeys: true)))
        let pretty = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: pretty, as: UTF8.self) + "\n"
    }

    // MARK: - Children

    /// The child of `attempt`, as the plugin of the task type names it.
    func child(of taskAction: TaskAction, attempt: Int) -> (type: ResourceType, name: String)? {
        guard let id = try? plugins.pluginID(for: taskAction.spec.taskType ?? ""), let plugin = plugins.plugins[id] else { return nil }
        return (Self.childType(of: plugin), ChildNames.generated(taskAction: taskAction.metadata.name ?? "", attempt: attempt, maxLength: plugin.properties.generatedNameMaxLength))
    }

    static func childType<P: KubernetesTaskPlugin>(of plugin: P) -> ResourceType { P.Child.resourceType }
}
