/// An RFC 6901 JSON Pointer such as `/spec/analysis/metrics/0/name`.
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    /// The unescaped reference tokens; empty for the whole document.
    public var tokens: [String]

    /// A pointer made of reference tokens (unescaped).
    public init(tokens: [String]) { self.tokens = tokens }

    /// Parses the string form: empty for the whole document, otherwise `/`-separated tokens with `~0` for `~` and
    /// `~1` for `/`.
    public init(_ string: String) throws(JSONPatchError) {
        if string.isEmpty {
            tokens = []
            return
        }
        guard string.hasPrefix("/") else { throw JSONPatchError("JSON pointer \"\(string)\" must start with '/'") }
        // Bytes, not Characters: a `~1` followed by a combining mark is still the escape and the separator `/` is
        // the byte 0x2F whatever follows it, as in every other RFC 6901 implementation.
        var result: [String] = []
        for raw in string.utf8.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            var token: [UInt8] = []
            token.reserveCapacity(raw.count)
            var iterator = raw.makeIterator()
            while let byte = iterator.next() {
                if byte == UInt8(ascii: "~") {
                    switch iterator.next() {
                    case UInt8(ascii: "0"): token.append(UInt8(ascii: "~"))
                    case UInt8(ascii: "1"): token.append(UInt8(ascii: "/"))
                    default: throw JSONPatchError("JSON pointer \"\(string)\" has '~' not followed by 0 or 1")
                    }
                } else {
                    token.append(byte)
                }
            }
            result.append(String(decoding: token, as: UTF8.self))
        }
        tokens = result
    }

    /// The escaped string form.
    public var description: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(tokens.reduce(0) { $0 + $1.utf8.count + 1 })
        for token in tokens {
            bytes.append(UInt8(ascii: "/"))
            Self.appendEscaped(token, to: &bytes)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Escapes one reference token (`~` → `~0`, `/` → `~1`).
    public static func escape(_ token: String) -> String {
        guard token.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return token }
        var bytes: [UInt8] = []
        appendEscaped(token, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `~` and `/` are single bytes that never occur inside a multi-byte UTF-8 sequence, so escaping bytes is exact.
    static func appendEscaped(_ token: String, to bytes: inout [UInt8]) {
        for byte in token.utf8 {
            switch byte {
            case UInt8(ascii: "~"): bytes.append(contentsOf: [UInt8(ascii: "~"), UInt8(ascii: "0")])
            case UInt8(ascii: "/"): bytes.append(contentsOf: [UInt8(ascii: "~"), UInt8(ascii: "1")])
            default: bytes.append(byte)
            }
        }
    }

    /// The pointer one level deeper.
    public func appending(_ token: String) -> JSONPointer { JSONPointer(tokens: tokens + [token]) }

    /// The pointer one level deeper, at an array index.
    public func appending(_ index: Int) -> JSONPointer { appending(String(index)) }
}

extension JSONValue {
    /// The value a pointer refers to, or `nil` when it refers to nothing.
    public subscript(pointer pointer: JSONPointer) -> JSONValue? {
        var current = self
        for token in pointer.tokens {
            switch current {
            case .object(let members):
                guard let next = members[token] else { return nil }
                current = next
            case .array(let elements):
                guard let index = JSONPatch.arrayIndex(token), elements.indices.contains(index) else { return nil }
                current = elements[index]
            default:
                return nil
            }
        }
        return current
    }
}
