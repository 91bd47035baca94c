/// A protobuf wire type, the low three bits of a field tag.
enum ProtobufWireType: UInt8, Sendable, CustomStringConvertible {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5

    var description: String {
        switch self {
        case .varint: return "0 (varint)"
        case .fixed64: return "1 (64-bit)"
        case .lengthDelimited: return "2 (length-delimited)"
        case .startGroup: return "3 (start group)"
        case .endGroup: return "4 (end group)"
        case .fixed32: return "5 (32-bit)"
        }
    }
}

/// A field tag: the field number and how its value is encoded.
struct ProtobufTag: Sendable, Equatable {
    var field: Int
    var wireType: ProtobufWireType
    /// The byte offset of the tag in the body, for error messages.
    var offset: Int
}

/// Reads protobuf wire values from one message's bytes inside a shared buffer.
///
/// Offsets in errors count from the start of the whole buffer, so they point into the request body as sent.
struct ProtobufReader {
    /// The largest field number protobuf allows, 2^29 - 1.
    static let maximumFieldNumber = (1 << 29) - 1

    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int

    init(bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
    }

    var isAtEnd: Bool { position >= end }

    /// Reads a base-128 varint of at most ten bytes whose value fits in 64 bits.
    mutating func readVarint() throws(ProtobufDecodingError) -> UInt64 {
        let start = position
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw ProtobufDecodingError("truncated varint at byte \(start)") }
            let byte = bytes[position]
            position += 1
            if shift == 63, byte > 1 {
                throw ProtobufDecodingError("varint at byte \(start) is longer than 10 bytes or overflows 64 bits")
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// Reads a field tag, rejecting field number 0, numbers above 2^29 - 1 and the wire types 6 and 7.
    mutating func readTag() throws(ProtobufDecodingError) -> ProtobufTag {
        let offset = position
        let key = try readVarint()
        guard let wireType = ProtobufWireType(rawValue: UInt8(key & 7)) else {
            throw ProtobufDecodingError("invalid wire type \(key & 7) in the tag at byte \(offset)")
        }
        let field = key >> 3
        guard field >= 1, field <= UInt64(Self.maximumFieldNumber) else {
            throw ProtobufDecodingError("invalid field number \(field) in the tag at byte \(offset)")
        }
        return ProtobufTag(field: Int(field), wireType: wireType, offset: offset)
    }

    /// Reads a length prefix and returns the range of the bytes it covers, which must lie inside this message.
    mutating func readLengthDelimited() throws(ProtobufDecodingError) -> Range<Int> {
        let start = position
        let length = try readVarint()
        let remaining = end - position
        guard length <= UInt64(remaining) else {
            throw ProtobufDecodingError(
                "length \(length) at byte \(start) runs past the end of its message (\(remaining) bytes left)"
            )
        }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    /// Reads a length-delimited value for the field at `path`, which must have wire type 2.
    mutating func readLengthDelimited(
        _ tag: ProtobufTag,
        path: String
    ) throws(ProtobufDecodingError) -> Range<Int> {
        try Self.expect(tag, .lengthDelimited, path: path)
        return try readLengthDelimited()
    }

    /// Reads a UTF-8 string for the field at `path`; invalid sequences become U+FFFD as Go's JSON encoder does.
    mutating func readString(_ tag: ProtobufTag, path: String) throws(ProtobufDecodingError) -> String {
        let range = try readLengthDelimited(tag, path: path)
        return String(decoding: bytes[range], as: UTF8.self)
    }

    /// Skips the value of a field this decoder does not know.
    mutating func skip(_ tag: ProtobufTag) throws(ProtobufDecodingError) {
        switch tag.wireType {
        case .varint: _ = try readVarint()
        case .fixed64: try skipFixed(8, tag: tag)
        case .lengthDelimited: _ = try readLengthDelimited()
        case .fixed32: try skipFixed(4, tag: tag)
        case .startGroup, .endGroup:
            throw ProtobufDecodingError(
                "field \(tag.field) at byte \(tag.offset) uses the group wire type \(tag.wireType), which Kubernetes never sends"
            )
        }
    }

    private mutating func skipFixed(_ width: Int, tag: ProtobufTag) throws(ProtobufDecodingError) {
        guard end - position >= width else {
            throw ProtobufDecodingError(
                "truncated \(width * 8)-bit value of field \(tag.field) at byte \(position) (\(end - position) bytes left)"
            )
        }
        position += width
    }

    /// Throws unless `tag` has the wire type the schema expects for the field at `path`.
    static func expect(
        _ tag: ProtobufTag,
        _ wireType: ProtobufWireType,
        path: String
    ) throws(ProtobufDecodingError) {
        guard tag.wireType == wireType else {
            throw ProtobufDecodingError(
                "\(path) (field \(tag.field)) at byte \(tag.offset) has wire type \(tag.wireType); expected \(wireType)"
            )
        }
    }
}
