/// A type that reads itself straight from a JSON object, without Codable's keyed-container machinery.
///
/// For a type that also ``PreservesUnknownFields``, every member the reader did not ask for is kept as unknown, so a
/// member its `CodingKeys` lists but `init(reading:)` forgets is still written back, never lost.
///
/// ``JSONValueDecoder`` uses `init(reading:)` when a type offers it (hot paths: the admission gate decodes a Canary
/// per review); other decoders keep using the type's `Decodable` conformance. Errors are the same `DecodingError`s
/// with the same coding paths.
public protocol JSONObjectDecodable: Decodable {
    init(reading object: JSONObjectReader) throws

    /// Keeps the members of `members` that were not read (for ``PreservesUnknownFields`` types; others ignore them).
    mutating func keepUnread(of members: [String: JSONValue], read: [String], found: Int)
}

extension JSONObjectDecodable {
    public mutating func keepUnread(of members: [String: JSONValue], read: [String], found: Int) {}
}

extension JSONObjectDecodable where Self: PreservesUnknownFields {
    public mutating func keepUnread(of members: [String: JSONValue], read: [String], found: Int) {
        // Every member was asked for: nothing unknown (the common case, no set to build).
        guard found < members.count else {
            unknownFields = [:]
            return
        }
        let asked = Set(read)
        var unknown: [String: JSONValue] = [:]
        for (key, member) in members where !asked.contains(key) { unknown[key] = member }
        unknownFields = unknown
    }
}

/// The members of one JSON object, read by name.
///
/// The overloads for primitives, nested ``JSONObjectDecodable`` objects and arrays of them read without Codable's
/// generic machinery (no decoder per field, no dynamic casts); anything else goes through ``JSONValueDecoder``. A
/// value of the wrong type is the same `DecodingError`, with the same coding path, either way.
public struct JSONObjectReader {
    let members: [String: JSONValue]
    let decoder: JSONValueDecoderImpl

    init(members: [String: JSONValue], decoder: JSONValueDecoderImpl) {
        self.members = members
        self.decoder = decoder
    }

    /// The member `key` when present and not null; records that it was read.
    func member(_ key: String) -> JSONValue? {
        guard let value = members[key] else { return nil }
        // Only members that are there matter for telling the unread ones apart.
        decoder.keysRead.append(key)
        decoder.keysFound += 1
        // Not `value.isNull ? nil : value`: JSONValue is ExpressibleByNilLiteral, so that `nil` would be `.null`.
        if value.isNull { return Optional.none }
        return value
    }

    func missing(_ key: String) -> DecodingError {
        DecodingError.keyNotFound(
            AnyCodingKey(key),
            .init(codingPath: decoder.codingPath, debugDescription: "Required value")
        )
    }

    /// The decoder for the member `key`, for errors and for types without a direct reader.
    func child(_ value: JSONValue, _ key: String) -> JSONValueDecoderImpl {
        JSONValueDecoderImpl(value: value, parent: decoder, key: AnyCodingKey(key))
    }

    // MARK: Any Decodable

    /// The member `key` as a `T`; a missing or null member is an error.
    public func required<T: Decodable>(_ key: String, as type: T.Type = T.self) throws -> T {
        guard let value = member(key) else { throw missing(key) }
        if let direct = fastPrimitive(value, as: type) { return direct }
        return try child(value, key).unbox(type)
    }

    /// The member `key` as a `T`, or `nil` when it is missing or null.
    public func optional<T: Decodable>(_ key: String, as type: T.Type = T.self) throws -> T? {
        guard let value = member(key) else { return nil }
        if let direct = fastPrimitive(value, as: type) { return direct }
        return try child(value, key).unbox(type)
    }

    // MARK: Primitives

    public func optional(_ key: String, as type: String.Type = String.self) throws -> String? {
        guard let value = member(key) else { return nil }
        if case .string(let string) = value { return string }
        return try child(value, key).unboxString()
    }

    public func required(_ key: String, as type: String.Type = String.self) throws -> String {
        guard let value = member(key) else { throw missing(key) }
        if case .string(let string) = value { return string }
        return try child(value, key).unboxString()
    }

    public func optional(_ key: String, as type: Int.Type = Int.self) throws -> Int? {
        guard let value = member(key) else { return nil }
        if case .int(let int) = value, let exact = Int(exactly: int) { return exact }
        return try child(value, key).unboxInteger(Int.self)
    }

    public func optional(_ key: String, as type: Bool.Type = Bool.self) throws -> Bool? {
        guard let value = member(key) else { return nil }
        if case .bool(let bool) = value { return bool }
        return try child(value, key).unboxBool()
    }

    public func optional(_ key: String, as type: Double.Type = Double.self) throws -> Double? {
        guard let value = member(key) else { return nil }
        if let double = value.doubleValue { return double }
        return try child(value, key).unboxDouble()
    }

    public func optional(_ key: String, as type: JSONValue.Type = JSONValue.self) throws -> JSONValue? {
        member(key)
    }

    public func optional(_ key: String, as type: [String].Type = [String].self) throws -> [String]? {
        guard let value = member(key) else { return nil }
        if case .array(let elements) = value {
            var strings: [String] = []
            strings.reserveCapacity(elements.count)
            for element in elements {
                guard case .string(let string) = element else { return try child(value, key).unbox(type) }
                strings.append(string)
            }
            return strings
        }
        return try child(value, key).unbox(type)
    }

    public func optional(
        _ key: String,
        as type: [String: String].Type = [String: String].self
    ) throws -> [String:
        String]?
    {
        guard let value = member(key) else { return nil }
        if case .object(let object) = value {
            var strings: [String: String] = [:]
            strings.reserveCapacity(object.count)
            for (name, element) in object {
                guard case .string(let string) = element else { return try child(value, key).unbox(type) }
                strings[name] = string
            }
            return strings
        }
        return try child(value, key).unbox(type)
    }

    public func optional(_ key: String, as type: [JSONValue].Type = [JSONValue].self) throws -> [JSONValue]? {
        guard let value = member(key) else { return nil }
        if case .array(let elements) = value { return elements }
        return try child(value, key).unbox(type)
    }

    // MARK: Objects with direct readers

    /// The member `key` read by `T`'s own reader; a missing or null member is an error.
    public func required<T: JSONObjectDecodable>(_ key: String, as type: T.Type = T.self) throws -> T {
        guard let value = member(key) else { throw missing(key) }
        return try Self.read(value, as: type, decoder: child(value, key))
    }

    /// The member `key` read by `T`'s own reader, or `nil` when it is missing or null.
    public func optional<T: JSONObjectDecodable>(_ key: String, as type: T.Type = T.self) throws -> T? {
        guard let value = member(key) else { return nil }
        return try Self.read(value, as: type, decoder: child(value, key))
    }

    /// The member `key` as an array of objects each read by `T`'s own reader, or `nil` when it is missing or null.
    public func optional<T: JSONObjectDecodable>(_ key: String, as type: [T].Type = [T].self) throws -> [T]? {
        guard let value = member(key) else { return nil }
        guard case .array(let elements) = value else { return try child(value, key).unbox(type) }
        let arrayDecoder = child(value, key)
        var result: [T] = []
        result.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            let elementDecoder = JSONValueDecoderImpl(
                value: element,
                parent: arrayDecoder,
                key: AnyCodingKey(intValue: index)
            )
            result.append(try Self.read(element, as: T.self, decoder: elementDecoder))
        }
        return result
    }

    static func read<T: JSONObjectDecodable>(
        _ value: JSONValue,
        as type: T.Type,
        decoder: JSONValueDecoderImpl
    )
        throws -> T
    {
        guard case .object(let members) = value else { return try decoder.unbox(type) }
        var decoded = try T(reading: JSONObjectReader(members: members, decoder: decoder))
        decoded.keepUnread(of: members, read: decoder.keysRead, found: decoder.keysFound)
        return decoded
    }
}
