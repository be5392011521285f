import FlyteIDL

/// Which connector deployment runs a task category (a task type and its version), by project
/// and domain: Flyte's connector registry. Built as Flyte builds it: what each deployment
/// answers to ListConnectors, replaced by `connectorForTaskTypes` where that names a type
/// (version 0), then `supportedTaskTypes` going to the default connector where nothing else
/// took them.
struct ConnectorRegistry: Sendable, Hashable {
    struct Key: Hashable, Sendable {
        var project: String
        var domain: String
        var taskType: String
        var version: Int32
    }

    /// A deployment chosen for a task: its id (`defaultConnector` or a key of `connectors`).
    struct Entry: Hashable, Sendable {
        var id: String
        var deployment: ConnectorDeployment
    }

    static let defaultID = "defaultConnector"

    private(set) var entries: [Key: Entry] = [:]

    /// - Parameter listed: each deployment's answer to ListConnectors, by id; a deployment that
    ///   did not answer is absent.
    init(config: ConnectorServiceConfig, listed: [String: Flyteidl2_Connector_ListConnectorsResponse]) {
        var deployments = config.connectors
        if !config.defaultConnector.endpoint.isEmpty { deployments[Self.defaultID] = config.defaultConnector }
        // In id order, so that two deployments claiming one category resolve the same way on
        // every replica and every refresh (Flyte's map order is random).
        for id in deployments.keys.sorted() {
            guard let deployment = deployments[id], let answer = listed[id] else { continue }
            for connector in answer.connectors {
                for category in connector.supportedTaskCategories {
                    let key = Key(project: deployment.project, domain: deployment.domain, taskType: category.name, version: category.version)
                    if entries[key] == nil { entries[key] = Entry(id: id, deployment: deployment) }
                }
            }
        }
        for (taskType, id) in config.connectorForTaskTypes.sorted(by: { $0.key < $1.key }) {
            guard let deployment = config.connectors[id] else { continue }
            entries[Key(project: deployment.project, domain: deployment.domain, taskType: taskType, version: 0)] = Entry(id: id, deployment: deployment)
        }
        let fallback = config.defaultConnector
        if !fallback.endpoint.isEmpty {
            for taskType in config.supportedTaskTypes {
                let key = Key(project: fallback.project, domain: fallback.domain, taskType: taskType, version: 0)
                if entries[key] == nil { entries[key] = Entry(id: Self.defaultID, deployment: fallback) }
            }
        }
    }

    /// The deployment for a category in a project and domain: one registered for both, else
    /// for the domain in every project, else for every project and domain, else the default
    /// connector when it has an endpoint (Flyte's `getFinalConnector`).
    func find(taskType: String, version: Int32, project: String, domain: String, defaultConnector: ConnectorDeployment) -> Entry? {
        for (p, d) in [(project, domain), ("", domain), ("", "")] {
            if let entry = entries[Key(project: p, domain: d, taskType: taskType, version: version)] { return entry }
        }
        return defaultConnector.endpoint.isEmpty ? nil : Entry(id: Self.defaultID, deployment: defaultConnector)
    }
}
