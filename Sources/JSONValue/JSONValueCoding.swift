/// A model type that keeps the object members it does not model, so reading and writing it back loses nothing.
///
/// Declare `public enum CodingKeys: String, CodingKey, CaseIterable` listing the modelled members and give
/// `unknownFields` a default of `[:]`. ``JSONValueDecoder`` fills `unknownFields` with every other member, and
/// ``JSONValueEncoder`` writes them back beside the modelled ones.
public protocol PreservesUnknownFields {
    associatedtype CodingKeys: CodingKey & CaseIterable
    /// The members of the JSON object this type does not model, kept verbatim.
    var unknownFields: [String: JSONValue] { get set }
}

extension PreservesUnknownFields {
    /// Whether `name` is one of the modelled members (a string switch, no allocation).
    static func isKnownField(_ name: String) -> Bool { CodingKeys(stringValue: name) != nil }
}

/// Decodes `Decodable` values from a ``JSONValue`` tree, filling ``PreservesUnknownFields`` members.
public struct JSONValueDecoder: Sendable {
    public init() {}

    /// Decodes a `T` from `value`. Errors are `DecodingError`s whose coding path names the member at fault.
    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try JSONValueDecoderImpl(value: value, parent: nil, key: nil).unbox(type)
    }

    /// Parses JSON bytes and decodes a `T`.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        try decode(type, from: try JSONValue(parsing: bytes))
    }
}

/// Encodes `Encodable` values into a ``JSONValue`` tree, writing back ``PreservesUnknownFields`` members.
public struct JSONValueEncoder: Sendable {
    public init() {}

    /// Encodes `value` into a JSON tree.
    public func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        try JSONValueEncoderImpl.box(value, codingPath: [])
    }
}

extension DecodingError {
    /// The coding path of the error in Kubernetes field notation, e.g. `spec.analysis.metrics[0].interval`.
    public var fieldPath: String {
        let path: [any CodingKey]
        switch self {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            path = context.codingPath
        case .keyNotFound(let key, let context):
            path = context.codingPath + [key]
        @unknown default:
            path = []
        }
        return Self.render(path)
    }

    /// A one-line description of what is wrong, without the path.
    public var problem: String {
        switch self {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return context.debugDescription
        case .keyNotFound:
            return "Required value"
        @unknown default:
            return "invalid value"
        }
    }

    static func render(_ path: [any CodingKey]) -> String {
        var result = ""
        for key in path {
            if let index = key.intValue {
                result += "[\(index)]"
            } else {
                if !result.isEmpty { result += "." }
                result += key.stringValue
            }
        }
        return result
    }
}

final class JSONValueDecoderImpl: Decoder {
    let value: JSONValue
    /// The decoder one level up and the key that leads here; the coding path is built from these only when asked
    /// for (errors), so decoding a field costs no array copy.
    let parent: JSONValueDecoderImpl?
    let step: PathStep
    /// How many of the members a ``JSONObjectReader`` asked for were present.
    var keysFound = 0
    /// Members a direct reader found written as null (kept beside the model, so written back).
    var nullsFound = 0
    /// Whether a ``JSONObjectReader`` records the names in ``keysRead`` (only when some member went unread).
    var recordsKeys = false
    /// The members a ``JSONObjectReader`` asked for that were present, when ``recordsKeys``.
    var keysRead: [String] = []
    #if DEBUG
    /// Every name a ``JSONObjectReader`` asked for, to catch a reader that asks twice.
    var debugAsked: Set<String> = []
    #endif
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// One step of a coding path. Member names and indexes are held as they are: an `any CodingKey` of
    /// `AnyCodingKey` does not fit an existential's inline buffer, and boxing one per nested object was a heap
    /// allocation on every decode.
    enum PathStep {
        case root
        case member(String)
        case index(Int)
        case key(any CodingKey)

        var codingKey: (any CodingKey)? {
            switch self {
            case .root: return nil
            case .member(let name): return AnyCodingKey(stringValue: name)
            case .index(let index): return AnyCodingKey(intValue: index)
            case .key(let key): return key
            }
        }
    }

    init(value: JSONValue, parent: JSONValueDecoderImpl?, step: PathStep) {
        self.value = value
        self.parent = parent
        self.step = step
    }

    convenience init(value: JSONValue, parent: JSONValueDecoderImpl?, key: (any CodingKey)?) {
        self.init(value: value, parent: parent, step: key.map { .key($0) } ?? .root)
    }

    var key: (any CodingKey)? { step.codingKey }

    var codingPath: [any CodingKey] {
        var path: [any CodingKey] = []
        var node: JSONValueDecoderImpl? = self
        while let current = node, let key = current.key {
            path.append(key)
            node = current.parent
        }
        return path.reversed()
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else {
            throw DecodingError.typeMismatch(
                [String: JSONValue].self,
                .init(codingPath: codingPath, debugDescription: "must be an object, not \(describe(value))")
            )
        }
        return KeyedDecodingContainer(KeyedContainer(members: members, decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else {
            throw DecodingError.typeMismatch(
                [JSONValue].self,
                .init(codingPath: codingPath, debugDescription: "must be an array, not \(describe(value))")
            )
        }
        return UnkeyedContainer(elements: elements, decoder: self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleContainer(decoder: self) }

    func unbox<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == JSONValue.self { return value as! T }
        if T.self == String.self { return try unboxString() as! T }
        if T.self == Int.self { return try unboxInteger(Int.self) as! T }
        if T.self == Int64.self { return try unboxInteger(Int64.self) as! T }
        if T.self == Int32.self { return try unboxInteger(Int32.self) as! T }
        if T.self == Double.self { return try unboxDouble() as! T }
        if T.self == Bool.self { return try unboxBool() as! T }
        if let readable = T.self as? any JSONObjectDecodable.Type, case .object(let members) = value {
            return try JSONObjectReader.decode(readable, members: members, decoder: self) as! T
        }
        var decoded = try T(from: self)
        if var preserving = decoded as? any PreservesUnknownFields, case .object(let members) = value {
            preserving.unknownFields = Self.unknown(members, of: preserving)
            decoded = preserving as! T
        }
        return decoded
    }

    /// The members to keep beside the modelled ones: every unknown member, and every known one written as an
    /// explicit `null` (an optional decodes it as nil, and encoding nil would drop the member), so an object read
    /// and written back is the same JSON (`creationTimestamp: null` in pod templates, for one).
    static func unknown<P: PreservesUnknownFields>(_ members: [String: JSONValue], of _: P) -> [String: JSONValue] {
        var unknown: [String: JSONValue] = [:]
        for (key, value) in members where value.isNull || !P.isKnownField(key) { unknown[key] = value }
        return unknown
    }

    func mismatch(_ expected: String) -> DecodingError {
        DecodingError.typeMismatch(
            Any.self,
            .init(codingPath: codingPath, debugDescription: "must be \(expected), not \(describe(value))")
        )
    }

    func unboxString() throws -> String {
        guard case .string(let string) = value else { throw mismatch("a string") }
        return string
    }

    func unboxBool() throws -> Bool {
        guard case .bool(let bool) = value else { throw mismatch("a boolean") }
        return bool
    }

    func unboxDouble() throws -> Double {
        guard let double = value.doubleValue else { throw mismatch("a number") }
        return double
    }

    func unboxInteger<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        guard let int = value.intValue else { throw mismatch("an integer") }
        guard let exact = I(exactly: int) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: codingPath, debugDescription: "integer \(int) is out of range")
            )
        }
        return exact
    }
}

/// `value` as a `T` when `T` is a JSON primitive and `value` holds exactly that; otherwise `nil`.
@inline(__always)
func fastPrimitive<T>(_ value: JSONValue, as type: T.Type) -> T? {
    // Each branch has checked that T is exactly the type it returns, so the bit casts are identity conversions
    // (and avoid a dynamic cast per field).
    if T.self == String.self {
        guard case .string(let string) = value else { return nil }
        return unsafeBitCast(string, to: T.self)
    }
    if T.self == Bool.self {
        guard case .bool(let bool) = value else { return nil }
        return unsafeBitCast(bool, to: T.self)
    }
    if T.self == Int.self {
        guard case .int(let int) = value, let exact = Int(exactly: int) else { return nil }
        return unsafeBitCast(exact, to: T.self)
    }
    if T.self == Int64.self {
        guard case .int(let int) = value else { return nil }
        return unsafeBitCast(int, to: T.self)
    }
    if T.self == Double.self {
        guard let double = value.doubleValue else { return nil }
        return unsafeBitCast(double, to: T.self)
    }
    if T.self == JSONValue.self { return unsafeBitCast(value, to: T.self) }
    return nil
}

func describe(_ value: JSONValue) -> String {
    switch value {
    case .string(let string):
        let shown = string.count > 40 ? String(string.prefix(40)) + "…" : string
        return "string \"\(shown)\""
    case .int(let int): return "integer \(int)"
    case .double(let double): return "number \(double)"
    case .bool(let bool): return "boolean \(bool)"
    case .null: return "null"
    case .array: return "an array"
    case .object: return "an object"
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let decoder: JSONValueDecoderImpl
    var codingPath: [any CodingKey] { decoder.codingPath }

    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    func child(_ key: Key) throws -> JSONValueDecoderImpl {
        guard let value = members[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "Required value"))
        }
        return JSONValueDecoderImpl(value: value, parent: decoder, key: key)
    }

    func decodeNil(forKey key: Key) throws -> Bool { members[key.stringValue]?.isNull ?? true }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try value(type, forKey: key) }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        try valueIfPresent(type, forKey: key)
    }

    func value<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        if let value = members[key.stringValue], let direct = fastPrimitive(value, as: type) { return direct }
        return try child(key).unbox(type)
    }

    func valueIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = members[key.stringValue], !value.isNull else { return nil }
        if let direct = fastPrimitive(value, as: type) { return direct }
        return try JSONValueDecoderImpl(value: value, parent: decoder, key: key).unbox(type)
    }

    // The primitive overloads synthesized Codable calls, answered without a child decoder when the value has the
    // right type; a wrong type takes the slow path, which builds the error with its coding path.
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try value(type, forKey: key) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try value(type, forKey: key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try value(type, forKey: key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try value(type, forKey: key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try value(type, forKey: key) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        try valueIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        try valueIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        try valueIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? {
        try valueIfPresent(type, forKey: key)
    }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        try valueIfPresent(type, forKey: key)
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try child(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try child(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        JSONValueDecoderImpl(value: .object(members), parent: decoder.parent, step: decoder.step)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let decoder: JSONValueDecoderImpl
    var codingPath: [any CodingKey] { decoder.codingPath }
    var currentIndex = 0

    init(elements: [JSONValue], decoder: JSONValueDecoderImpl) {
        self.elements = elements
        self.decoder = decoder
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    mutating func next() throws -> JSONValueDecoderImpl {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                Any.self,
                .init(codingPath: codingPath, debugDescription: "unexpected end of the array")
            )
        }
        defer { currentIndex += 1 }
        return JSONValueDecoderImpl(value: elements[currentIndex], parent: decoder, step: .index(currentIndex))
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, elements[currentIndex].isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if currentIndex < elements.count, let direct = fastPrimitive(elements[currentIndex], as: type) {
            currentIndex += 1
            return direct
        }
        return try next().unbox(type)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }

    mutating func superDecoder() throws -> any Decoder { try next() }
}

private struct SingleContainer: SingleValueDecodingContainer {
    let decoder: JSONValueDecoderImpl
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.value.isNull }
    func decode(_ type: Bool.Type) throws -> Bool { try decoder.unboxBool() }
    func decode(_ type: String.Type) throws -> String { try decoder.unboxString() }
    func decode(_ type: Double.Type) throws -> Double { try decoder.unboxDouble() }
    func decode(_ type: Float.Type) throws -> Float { Float(try decoder.unboxDouble()) }
    func decode(_ type: Int.Type) throws -> Int { try decoder.unboxInteger(Int.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decoder.unboxInteger(Int8.self) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decoder.unboxInteger(Int16.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decoder.unboxInteger(Int32.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decoder.unboxInteger(Int64.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try decoder.unboxInteger(UInt.self) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.unboxInteger(UInt8.self) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.unboxInteger(UInt16.self) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.unboxInteger(UInt32.self) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.unboxInteger(UInt64.self) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.unbox(type) }
}

// MARK: - Encoding

final class EncodingNode {
    enum Content {
        case empty
        case value(JSONValue)
        case object([String: EncodingNode])
        case array([EncodingNode])
    }

    var content: Content = .empty

    func materialize() -> JSONValue {
        switch content {
        case .empty: return .object([:])
        case .value(let value): return value
        case .object(let members): return .object(members.mapValues { $0.materialize() })
        case .array(let elements): return .array(elements.map { $0.materialize() })
        }
    }

    func objectMembers() -> [String: EncodingNode] {
        if case .object(let members) = content { return members }
        return [:]
    }

    func child(forKey key: String) -> EncodingNode {
        var members = objectMembers()
        if let existing = members[key] { return existing }
        let node = EncodingNode()
        members[key] = node
        content = .object(members)
        return node
    }

    func setMember(_ key: String, _ value: JSONValue) {
        var members = objectMembers()
        let node = EncodingNode()
        node.content = .value(value)
        members[key] = node
        content = .object(members)
    }

    func appendElement() -> EncodingNode {
        var elements: [EncodingNode] = []
        if case .array(let existing) = content { elements = existing }
        let node = EncodingNode()
        elements.append(node)
        content = .array(elements)
        return node
    }
}

final class JSONValueEncoderImpl: Encoder {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(node: EncodingNode, codingPath: [any CodingKey]) {
        self.node = node
        self.codingPath = codingPath
    }

    func store(_ value: JSONValue) { node.content = .value(value) }

    static func box<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws -> JSONValue {
        switch value {
        case let json as JSONValue: return json
        case let string as String: return .string(string)
        case let bool as Bool: return .bool(bool)
        case let int as Int: return .int(Int64(int))
        case let int as Int64: return .int(int)
        case let int as Int32: return .int(Int64(int))
        case let double as Double: return .double(double)
        default: break
        }
        let encoder = JSONValueEncoderImpl(node: EncodingNode(), codingPath: codingPath)
        try value.encode(to: encoder)
        var result = encoder.node.materialize()
        if let preserving = value as? any PreservesUnknownFields, case .object(var members) = result {
            for (key, extra) in preserving.unknownFields where members[key] == nil { members[key] = extra }
            result = .object(members)
        }
        return result
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .empty = node.content { node.content = .object([:]) }
        return KeyedEncodingContainer(KeyedEncoder<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .empty = node.content { node.content = .array([]) }
        return UnkeyedEncoder(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleEncoder(node: node, codingPath: codingPath)
    }
}

private struct KeyedEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { node.setMember(key.stringValue, .null) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        node.setMember(key.stringValue, try JSONValueEncoderImpl.box(value, codingPath: codingPath + [key]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let child = node.child(forKey: key.stringValue)
        if case .empty = child.content { child.content = .object([:]) }
        return KeyedEncodingContainer(KeyedEncoder<NestedKey>(node: child, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = node.child(forKey: key.stringValue)
        if case .empty = child.content { child.content = .array([]) }
        return UnkeyedEncoder(node: child, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder { JSONValueEncoderImpl(node: node, codingPath: codingPath) }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        JSONValueEncoderImpl(node: node.child(forKey: key.stringValue), codingPath: codingPath + [key])
    }
}

private struct UnkeyedEncoder: UnkeyedEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    var count: Int {
        if case .array(let elements) = node.content { return elements.count }
        return 0
    }

    mutating func encodeNil() throws { node.appendElement().content = .value(.null) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let path = codingPath + [AnyCodingKey(intValue: count)]
        node.appendElement().content = .value(try JSONValueEncoderImpl.box(value, codingPath: path))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> {
        let path = codingPath + [AnyCodingKey(intValue: count)]
        let child = node.appendElement()
        child.content = .object([:])
        return KeyedEncodingContainer(KeyedEncoder<NestedKey>(node: child, codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = codingPath + [AnyCodingKey(intValue: count)]
        let child = node.appendElement()
        child.content = .array([])
        return UnkeyedEncoder(node: child, codingPath: path)
    }

    mutating func superEncoder() -> any Encoder {
        let path = codingPath + [AnyCodingKey(intValue: count)]
        return JSONValueEncoderImpl(node: node.appendElement(), codingPath: path)
    }
}

private struct SingleEncoder: SingleValueEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.content = .value(.null) }
    mutating func encode(_ value: Bool) throws { node.content = .value(.bool(value)) }
    mutating func encode(_ value: String) throws { node.content = .value(.string(value)) }
    mutating func encode(_ value: Double) throws { node.content = .value(.double(value)) }
    mutating func encode(_ value: Float) throws { node.content = .value(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { node.content = .value(.int(Int64(value))) }
    mutating func encode(_ value: Int8) throws { node.content = .value(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { node.content = .value(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { node.content = .value(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { node.content = .value(.int(value)) }
    mutating func encode(_ value: UInt) throws { node.content = .value(.int(Int64(clamping: value))) }
    mutating func encode(_ value: UInt8) throws { node.content = .value(.int(Int64(value))) }
    mutating func encode(_ value: UInt16) throws { node.content = .value(.int(Int64(value))) }
    mutating func encode(_ value: UInt32) throws { node.content = .value(.int(Int64(value))) }
    mutating func encode(_ value: UInt64) throws { node.content = .value(.int(Int64(clamping: value))) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        node.content = .value(try JSONValueEncoderImpl.box(value, codingPath: codingPath))
    }
}
