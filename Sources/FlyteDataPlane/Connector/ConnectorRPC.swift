import FlyteIDL
import GRPCCore

/// The methods of Flyte's connector services that the connector plugin calls, as
/// `flyteidl2/connector/service.proto` declares them. Named here rather than generated: the
/// four unary calls need only their paths, and generating clients would put the gRPC code
/// generator in the build.
public enum ConnectorRPC {
    /// `flyteidl2.connector.AsyncConnectorService`.
    public static let asyncService = ServiceDescriptor(fullyQualifiedService: "flyteidl2.connector.AsyncConnectorService")
    /// `flyteidl2.connector.ConnectorMetadataService`.
    public static let metadataService = ServiceDescriptor(fullyQualifiedService: "flyteidl2.connector.ConnectorMetadataService")

    public static let createTask = MethodDescriptor(service: asyncService, method: "CreateTask", type: .unary)
    public static let getTask = MethodDescriptor(service: asyncService, method: "GetTask", type: .unary)
    public static let deleteTask = MethodDescriptor(service: asyncService, method: "DeleteTask", type: .unary)
    public static let listConnectors = MethodDescriptor(service: metadataService, method: "ListConnectors", type: .unary)
}
