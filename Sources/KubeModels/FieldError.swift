import JSONValue

/// One problem with one field of an object, rendered as Kubernetes renders field errors
/// (`spec.analysis.stepWeight: Invalid value: 150: must be between 1 and 100`).
public struct FieldError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kinds of field error Kubernetes knows, with their wording.
    public enum Kind: String, Sendable, Hashable {
        case required = "FieldValueRequired"
        case invalid = "FieldValueInvalid"
        case notSupported = "FieldValueNotSupported"
        case forbidden = "FieldValueForbidden"
        case duplicate = "FieldValueDuplicate"
        case tooLong = "FieldValueTooLong"
        case tooMany = "FieldValueTooMany"
        case typeInvalid = "FieldValueTypeInvalid"

        /// The words Kubernetes puts after the field path.
        public var wording: String {
            switch self {
            case .required: return "Required value"
            case .invalid, .typeInvalid: return "Invalid value"
            case .notSupported: return "Unsupported value"
            case .forbidden: return "Forbidden"
            case .duplicate: return "Duplicate value"
            case .tooLong: return "Too long"
            case .tooMany: return "Too many"
            }
        }
    }

    public var kind: Kind
    /// The field path, e.g. `spec.analysis.metrics[0].interval`.
    public var field: String
    /// The offending value, when there is one to show.
    public var value: JSONValue?
    /// What is wrong and how to fix it.
    public var detail: String

    public init(_ kind: Kind, field: String, value: JSONValue? = nil, detail: String = "") {
        self.kind = kind
        self.field = field
        self.value = value
        self.detail = detail
    }

    public static func required(_ field: String, _ detail: String = "") -> FieldError {
        FieldError(.required, field: field, detail: detail)
    }

    public static func invalid(_ field: String, _ value: JSONValue, _ detail: String) -> FieldError {
        FieldError(.invalid, field: field, value: value, detail: detail)
    }

    public static func forbidden(_ field: String, _ detail: String) -> FieldError {
        FieldError(.forbidden, field: field, detail: detail)
    }

    public static func duplicate(_ field: String, _ value: JSONValue) -> FieldError {
        FieldError(.duplicate, field: field, value: value)
    }

    public static func notSupported(_ field: String, _ value: JSONValue, supported: [String]) -> FieldError {
        let list = supported.map { "\"\($0)\"" }.joined(separator: ", ")
        return FieldError(.notSupported, field: field, value: value, detail: "supported values: \(list)")
    }

    public static func tooLong(_ field: String, _ value: JSONValue, maximum: Int) -> FieldError {
        FieldError(.tooLong, field: field, value: value, detail: "may not be more than \(maximum) bytes")
    }

    /// The Kubernetes rendering of the error.
    public var description: String {
        var text = field.isEmpty ? kind.wording : "\(field): \(kind.wording)"
        switch kind {
        case .required, .forbidden, .tooLong:
            if !detail.isEmpty { text += ": \(detail)" }
        case .invalid, .typeInvalid, .notSupported, .duplicate, .tooMany:
            if let value { text += ": \(Self.render(value))" }
            if !detail.isEmpty { text += ": \(detail)" }
        }
        return text
    }

    /// Renders a value as Kubernetes does in field errors: strings quoted, numbers and Booleans bare.
    public static func render(_ value: JSONValue) -> String {
        switch value {
        case .string(let string): return JSONValue.string(string).serialized()
        case .int(let int): return String(int)
        case .double(let double): return JSONValue.double(double).serialized()
        case .bool(let bool): return String(bool)
        case .null: return "null"
        case .array, .object: return value.serialized()
        }
    }
}

extension Array where Element == FieldError {
    /// The most errors a message or a `Status` lists; the rest are counted, so an answer stays small however many
    /// problems a hostile object carries.
    public static var reportedLimit: Int { 100 }

    /// The errors joined as Kubernetes aggregates them: one error alone, several as `[a, b]`; beyond
    /// ``reportedLimit``, the first ones and `and N more`.
    public var aggregateDescription: String {
        switch count {
        case 0: return ""
        case 1: return self[0].description
        default:
            let listed = prefix(Self.reportedLimit).map(\.description)
            let more = count > Self.reportedLimit ? ["and \(count - Self.reportedLimit) more"] : []
            return "[" + (listed + more).joined(separator: ", ") + "]"
        }
    }
}

/// Builds field paths in Kubernetes notation.
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    public private(set) var description: String

    public init(_ root: String) { description = root }

    public func child(_ name: String) -> FieldPath {
        FieldPath(description.isEmpty ? name : description + "." + name)
    }

    public func index(_ index: Int) -> FieldPath { FieldPath(description + "[\(index)]") }

    public func key(_ key: String) -> FieldPath { FieldPath(description + "[\(key)]") }
}
