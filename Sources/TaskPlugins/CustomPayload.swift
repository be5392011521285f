import FlyteIDL
import Foundation
import SwiftProtobuf

/// A plugin payload in `TaskTemplate.custom`: the proto3-JSON form of a message in a
/// `google.protobuf.Struct`, read as Flyte's `utils.UnmarshalStruct` reads it (unknown keys
/// ignored, JSON and proto field names both accepted, integral doubles into integer fields).
/// Public for plugins outside this module (the connector plugin reads its `Connection` so).
public enum CustomPayload {
    public static func decode<Message: SwiftProtobuf.Message>(_ type: Message.Type, from template: Flyteidl2_Core_TaskTemplate, name: String) throws -> Message {
        guard template.hasCustom else {
            throw ExecutionError(code: "BadTaskSpecification", message: "invalid TaskSpecification: the task template has no custom \(name)", kind: .user)
        }
        do {
            var options = JSONDecodingOptions()
            options.ignoreUnknownFields = true
            return try Message(jsonString: try template.custom.jsonString(), options: options)
        } catch {
            throw ExecutionError(code: "BadTaskSpecification", message: "invalid TaskSpecification: the custom \(name) does not decode: \(error)", kind: .user)
        }
    }
}
