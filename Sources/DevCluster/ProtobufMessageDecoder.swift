import Foundation
import JSONValue

/// When a singular field appears in the JSON.
enum ProtobufEmission: Sendable, Equatable {
    /// Dropped when zero, empty or `null`, like a Go field tagged `omitempty` that is not a pointer or struct.
    case omitEmpty
    /// Kept whenever it was sent, like a Go pointer, a nested struct, or a field without `omitempty`.
    case whenPresent
}

/// What a field's wire value means.
indirect enum ProtobufValueKind: Sendable {
    case string
    /// Bytes, written as standard base64 with padding like Go's `[]byte`.
    case bytes
    case bool
    /// A varint truncated to 32 bits, so a negative value sent as ten bytes comes back negative.
    case int32
    case int64
    case message(ProtobufMessageSchema)
    /// `meta/v1.Time {int64 seconds = 1; int32 nanos = 2}`, written as RFC 3339 in seconds; empty bytes are `null`.
    case time
    /// `util/intstr.IntOrString {int64 type = 1; int32 intVal = 2; string strVal = 3}`.
    case intOrString
    /// `api/resource.Quantity {string string = 1}`, written as its string.
    case quantity

    /// The value of a map entry whose value was not sent.
    var zeroValue: JSONValue {
        switch self {
        case .string, .bytes: return .string("")
        case .bool: return .bool(false)
        case .int32, .int64: return .int(0)
        case .message: return .object([:])
        case .time: return .null
        case .intOrString: return .int(0)
        case .quantity: return .string("0")
        }
    }

    /// Whether a repeated field of this kind may arrive packed into one length-delimited value.
    var isPackable: Bool {
        switch self {
        case .bool, .int32, .int64: return true
        default: return false
        }
    }

    /// The JSON for a varint of this kind.
    func scalar(_ raw: UInt64) -> JSONValue {
        switch self {
        case .bool: return .bool(raw != 0)
        case .int32: return .int(Int64(Int32(truncatingIfNeeded: raw)))
        default: return .int(Int64(bitPattern: raw))
        }
    }
}

/// How a field repeats.
enum ProtobufFieldShape: Sendable {
    case single(ProtobufEmission)
    /// A list; each occurrence on the wire appends.
    case repeated
    /// A protobuf map: repeated entries with `key = 1` and `value = 2`; a later duplicate key wins.
    case map(entry: ProtobufMessageSchema)
    /// An embedded Go struct whose fields the JSON inlines into the parent, like `LocalObjectReference`.
    case inline
}

/// One field of a message: its JSON name, value kind and shape.
struct ProtobufFieldSchema: Sendable {
    var name: String
    var kind: ProtobufValueKind
    var shape: ProtobufFieldShape
}

/// The fields of one protobuf message, by field number.
struct ProtobufMessageSchema: Sendable {
    var name: String
    var fields: [Int: ProtobufFieldSchema]

    init(_ name: String, _ fields: [Int: ProtobufFieldSchema]) {
        self.name = name
        self.fields = fields
    }
}

/// Walks protobuf messages by schema and builds their JSON.
///
/// Repeated occurrences follow protobuf merge rules: a singular scalar's last value wins, a singular message
/// merges into the earlier one, lists append and map entries overwrite by key.
struct ProtobufMessageDecoder {
    let bytes: [UInt8]
    let maximumDepth: Int

    static let timestamp = ProtobufMessageSchema(
        "Time",
        [1: .int64("seconds", .whenPresent), 2: .int32("nanos", .whenPresent)]
    )
    static let intOrString = ProtobufMessageSchema(
        "IntOrString",
        [1: .int64("type", .whenPresent), 2: .int32("intVal", .whenPresent), 3: .string("strVal", .whenPresent)]
    )
    static let quantity = ProtobufMessageSchema("Quantity", [1: .string("string", .whenPresent)])

    /// Decodes the message in `range` into `object`, merging with what is already there.
    func decodeMessage(
        _ schema: ProtobufMessageSchema,
        in range: Range<Int>,
        into object: inout [String: JSONValue],
        path: String,
        depth: Int
    ) throws(ProtobufDecodingError) {
        guard depth <= maximumDepth else {
            throw ProtobufDecodingError("\(path): messages nest deeper than \(maximumDepth) levels")
        }
        var reader = ProtobufReader(bytes: bytes, range: range)
        while !reader.isAtEnd {
            let tag = try reader.readTag()
            guard let field = schema.fields[tag.field] else {
                try reader.skip(tag)
                continue
            }
            let fieldPath = path + "." + field.name
            switch field.shape {
            case .single(let emission):
                let existing = object.removeValue(forKey: field.name)
                let value = try decodeValue(
                    field.kind,
                    tag: tag,
                    reader: &reader,
                    existing: existing,
                    path: fieldPath,
                    depth: depth
                )
                if emission == .omitEmpty, value.isEmptyForOmission { continue }
                object[field.name] = value
            case .repeated:
                var elements = object.removeValue(forKey: field.name)?.arrayValue ?? []
                if tag.wireType == .lengthDelimited, field.kind.isPackable {
                    var packed = ProtobufReader(bytes: bytes, range: try reader.readLengthDelimited())
                    while !packed.isAtEnd { elements.append(field.kind.scalar(try packed.readVarint())) }
                } else {
                    let element = try decodeValue(
                        field.kind,
                        tag: tag,
                        reader: &reader,
                        existing: nil,
                        path: fieldPath + "[\(elements.count)]",
                        depth: depth
                    )
                    elements.append(element)
                }
                object[field.name] = .array(elements)
            case .map(let entrySchema):
                let entryRange = try reader.readLengthDelimited(tag, path: fieldPath)
                var entry: [String: JSONValue] = [:]
                try decodeMessage(entrySchema, in: entryRange, into: &entry, path: fieldPath, depth: depth + 1)
                var members = object.removeValue(forKey: field.name)?.objectValue ?? [:]
                members[entry["key"]?.stringValue ?? ""] = entry["value"] ?? field.kind.zeroValue
                object[field.name] = .object(members)
            case .inline:
                let inlineRange = try reader.readLengthDelimited(tag, path: fieldPath)
                guard case .message(let inlineSchema) = field.kind else { continue }
                try decodeMessage(inlineSchema, in: inlineRange, into: &object, path: path, depth: depth + 1)
            }
        }
    }

    private func decodeValue(
        _ kind: ProtobufValueKind,
        tag: ProtobufTag,
        reader: inout ProtobufReader,
        existing: JSONValue?,
        path: String,
        depth: Int
    ) throws(ProtobufDecodingError) -> JSONValue {
        switch kind {
        case .bool, .int32, .int64:
            try ProtobufReader.expect(tag, .varint, path: path)
            return kind.scalar(try reader.readVarint())
        case .string:
            return .string(try reader.readString(tag, path: path))
        case .bytes:
            let range = try reader.readLengthDelimited(tag, path: path)
            return .string(Data(bytes[range]).base64EncodedString())
        case .message(let schema):
            let range = try reader.readLengthDelimited(tag, path: path)
            var members = existing?.objectValue ?? [:]
            try decodeMessage(schema, in: range, into: &members, path: path, depth: depth + 1)
            return .object(members)
        case .time:
            let range = try reader.readLengthDelimited(tag, path: path)
            // metav1.Time writes nothing for the zero time and reads empty bytes back as zero, which JSON shows as null.
            if range.isEmpty { return .null }
            var members: [String: JSONValue] = [:]
            try decodeMessage(Self.timestamp, in: range, into: &members, path: path, depth: depth + 1)
            return .string(try ProtobufTimestampFormat.format(seconds: members["seconds"]?.intValue ?? 0, path: path))
        case .intOrString:
            let range = try reader.readLengthDelimited(tag, path: path)
            var members: [String: JSONValue] = [:]
            try decodeMessage(Self.intOrString, in: range, into: &members, path: path, depth: depth + 1)
            switch members["type"]?.intValue ?? 0 {
            case 0: return members["intVal"] ?? .int(0)
            case 1: return members["strVal"] ?? .string("")
            case let other:
                throw ProtobufDecodingError("\(path): IntOrString type \(other) is neither 0 (int) nor 1 (string)")
            }
        case .quantity:
            let range = try reader.readLengthDelimited(tag, path: path)
            var members: [String: JSONValue] = [:]
            try decodeMessage(Self.quantity, in: range, into: &members, path: path, depth: depth + 1)
            guard let text = members["string"]?.stringValue else { return .string("0") }
            guard !text.isEmpty else { throw ProtobufDecodingError("\(path): quantity is an empty string") }
            return .string(text)
        }
    }
}

extension JSONValue {
    /// Whether Go's `omitempty` would drop this value: `null`, `false`, `0`, `""`, `[]` or `{}`.
    fileprivate var isEmptyForOmission: Bool {
        switch self {
        case .null: return true
        case .bool(let value): return !value
        case .int(let value): return value == 0
        case .double(let value): return value == 0
        case .string(let value): return value.isEmpty
        case .array(let value): return value.isEmpty
        case .object(let value): return value.isEmpty
        }
    }
}

/// Formats Unix seconds the way `metav1.Time` marshals to JSON: RFC 3339 in UTC, whole seconds.
enum ProtobufTimestampFormat {
    /// 0000-01-01T00:00:00Z.
    static let earliest: Int64 = -62_167_219_200
    /// 9999-12-31T23:59:59Z.
    static let latest: Int64 = 253_402_300_799

    static func format(seconds: Int64, path: String) throws(ProtobufDecodingError) -> String {
        guard seconds >= earliest, seconds <= latest else {
            throw ProtobufDecodingError("\(path): \(seconds) seconds is outside the years 0000 to 9999")
        }
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Civil-from-days over 400-year eras (proleptic Gregorian calendar).
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T" + pad(secondOfDay / 3_600, 2) + ":"
            + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2) + "Z"
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
