import KubeClient

/// An error answer of the sandbox, shaped exactly as kube-apiserver shapes its `Status`.
struct APIError: Error, Sendable {
    var status: Status
    var code: Int { status.code ?? 500 }
    var retryAfterSeconds: Int?

    init(code: Int, reason: String, message: String, details: StatusDetails? = nil, retryAfterSeconds: Int? = nil) {
        status = Status(message: message, reason: reason, details: details, code: code)
        self.retryAfterSeconds = retryAfterSeconds
    }

    static func notFound(_ def: ResourceDefinition, _ name: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "\(def.type.groupResource) \"\(name)\" not found",
                 details: StatusDetails(name: name, group: def.type.group, kind: def.type.plural))
    }

    static func alreadyExists(_ def: ResourceDefinition, _ name: String) -> APIError {
        APIError(code: 409, reason: "AlreadyExists", message: "\(def.type.groupResource) \"\(name)\" already exists",
                 details: StatusDetails(name: name, group: def.type.group, kind: def.type.plural))
    }

    static func conflict(_ def: ResourceDefinition, _ name: String, _ why: String = "the object has been modified; please apply your changes to the latest version and try again") -> APIError {
        APIError(code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on \(def.type.groupResource) \"\(name)\": \(why)",
                 details: StatusDetails(name: name, group: def.type.group, kind: def.type.plural))
    }

    static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }

    static func methodNotAllowed(_ message: String) -> APIError {
        APIError(code: 405, reason: "MethodNotAllowed", message: message)
    }

    static func gone(_ message: String) -> APIError {
        APIError(code: 410, reason: "Expired", message: message)
    }

    static func notImplemented(_ message: String) -> APIError {
        APIError(code: 501, reason: "NotImplemented", message: message)
    }

    static func unsupportedMediaType(_ contentType: String) -> APIError {
        APIError(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml; got \(contentType)")
    }

    /// 422 Invalid with one cause per field error, worded as kube-apiserver words them.
    static func invalid(_ def: ResourceDefinition, _ name: String, _ errors: [FieldError]) -> APIError {
        let qualified = def.type.group.isEmpty ? def.type.kind : "\(def.type.kind).\(def.type.group)"
        let list = errors.map(\.text)
        let joined = list.count == 1 ? list[0] : "[\(list.joined(separator: ", "))]"
        return APIError(
            code: 422, reason: "Invalid", message: "\(qualified) \"\(name)\" is invalid: \(joined)",
            details: StatusDetails(name: name, group: def.type.group, kind: def.type.kind,
                                   causes: errors.map { StatusCause(reason: $0.reason, message: $0.detail, field: $0.field) }))
    }
}

/// One field-level validation failure (`field.Error`).
struct FieldError: Sendable, Equatable {
    var field: String
    /// `FieldValueRequired`, `FieldValueInvalid`, `FieldValueNotSupported`, `FieldValueTooLong`, `FieldValueTypeInvalid`, `FieldValueForbidden`.
    var reason: String
    var detail: String

    var text: String { "\(field): \(detail)" }

    static func required(_ field: String) -> FieldError { FieldError(field: field, reason: "FieldValueRequired", detail: "Required value") }
    static func invalid(_ field: String, _ value: JSONValue, _ why: String) -> FieldError {
        FieldError(field: field, reason: "FieldValueInvalid", detail: "Invalid value: \(Self.render(value)): \(why)")
    }
    static func forbidden(_ field: String, _ why: String) -> FieldError { FieldError(field: field, reason: "FieldValueForbidden", detail: "Forbidden: \(why)") }

    static func render(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): return "\"\(s)\""
        case .object: return "\"object\""
        case .array: return "\"array\""
        default: return value.description
        }
    }
}
