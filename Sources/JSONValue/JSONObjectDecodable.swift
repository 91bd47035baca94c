/// A type that reads itself straight from a JSON object, without Codable's keyed-container machinery.
///
/// `init(reading:)` asks for each member once. For a type that also ``PreservesUnknownFields``, every member the
/// reader did not ask for is kept as unknown, so a member its `CodingKeys` lists but `init(reading:)` forgets is still
/// written back, never lost.
///
/// ``JSONValueDecoder`` uses `init(reading:)` when a type offers it (hot paths: the admission gate decodes a Canary
/// per review); other decoders keep using the type's `Decodable` conformance. Errors are the same `DecodingError`s
/// with the same coding paths.
public protocol JSONObjectDecodable: Decodable {
    init(reading object: JSONObjectReader) throws

    /// Keeps the members of `members` the type does not model and says whether that accounts for every member the
    /// reader did not find (`found` of them were found). `false` means a modelled member went unread.
    mutating func keepUnmodelled(of members: [String: JSONValue], found: Int) -> Bool

    /// Keeps the members of `members` whose names are not in `read` (for ``PreservesUnknownFields`` types).
    mutating func keepUnread(of members: [String: JSONValue], read: Set<String>)
}

extension JSONObjectDecodable {
    public mutating func keepUnmodelled(of members: [String: JSONValue], found: Int) -> Bool { true }
    public mutating func keepUnread(of members: [String: JSONValue], read: Set<String>) {}
}

extension JSONObjectDecodable where Self: PreservesUnknownFields {
    public mutating func keepUnmodelled(of members: [String: JSONValue], found: Int) -> Bool {
        let unknown = JSONValueDecoderImpl.unknown(members, of: self)
        // Known members written as null are kept too (see `unknown(_:of:)`), and were found by the reader.
        let nulls = unknown.reduce(0) { count, member in count + (Self.isKnownField(member.key) ? 1 : 0) }
        guard found + unknown.count - nulls == members.count else { return false }
        unknownFields = unknown
        return true
    }

    public mutating func keepUnread(of members: [String: JSONValue], read: Set<String>) {
        var unknown: [String: JSONValue] = [:]
        for (key, member) in members where !read.contains(key) || member.isNull { unknown[key] = member }
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

    /// The member `key` when present and not null; counts it as read (and records its name when asked to).
    func member(_ key: String) -> JSONValue? {
        #if DEBUG
        // Tests run debug builds: a reader that asks twice would make the count below skip a member that is there.
        assert(decoder.debugAsked.insert(key).inserted, "init(reading:) asked for \"\(key)\" twice")
        #endif
        // Each member is asked for once, so once every member present has been found the rest are absent: no
        // lookup (and no hashing) for the optional members a reader asks for after the last one there.
        guard decoder.keysFound < members.count, let value = members[key] else { return nil }
        decoder.keysFound += 1
        if decoder.recordsKeys { decoder.keysRead.append(key) }
        // Not `value.isNull ? nil : value`: JSONValue is ExpressibleByNilLiteral, so that `nil` would be `.null`.
        if value.isNull {
            decoder.nullsFound += 1
            return Optional.none
        }
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
        JSONValueDecoderImpl(value: value, parent: decoder, step: .member(key))
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
            let elementDecoder = JSONValueDecoderImpl(value: element, parent: arrayDecoder, step: .index(index))
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
        return try decode(T.self, members: members, decoder: decoder)
    }

    /// `T` read from `members`, keeping the members its reader did not ask for when `T` keeps them.
    static func decode<T: JSONObjectDecodable>(
        _ type: T.Type,
        members: [String: JSONValue],
        decoder: JSONValueDecoderImpl
    ) throws -> T {
        // The counts belong to this object: a decoder reused for a second attempt starts afresh.
        decoder.keysFound = 0
        decoder.nullsFound = 0
        decoder.keysRead = []
        #if DEBUG
        decoder.debugAsked = []
        #endif
        var decoded = try T(reading: JSONObjectReader(members: members, decoder: decoder))
        // Every member was asked for and none was null (the common case): nothing to keep.
        guard decoder.keysFound < members.count || decoder.nullsFound > 0 else { return decoded }
        // Members outside the model (`CodingKeys`) are kept without reading anything again.
        if decoded.keepUnmodelled(of: members, found: decoder.keysFound) { return decoded }
        // A modelled member went unread (a reader that fell behind its `CodingKeys`): read again recording the names
        // asked for, and keep exactly the others, so nothing is lost.
        let recorder = JSONValueDecoderImpl(value: decoder.value, parent: decoder.parent, step: decoder.step)
        recorder.recordsKeys = true
        var reread = try T(reading: JSONObjectReader(members: members, decoder: recorder))
        reread.keepUnread(of: members, read: Set(recorder.keysRead))
        return reread
    }
}
