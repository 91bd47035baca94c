/// Why a JSON patch could not be read or applied.
public struct JSONPatchError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// An RFC 6902 JSON Patch: a list of operations applied in order.
public struct JSONPatch: Sendable, Hashable {
    /// One operation of a patch.
    public enum Operation: Sendable, Hashable {
        case add(path: JSONPointer, value: JSONValue)
        case remove(path: JSONPointer)
        case replace(path: JSONPointer, value: JSONValue)
        case move(from: JSONPointer, path: JSONPointer)
        case copy(from: JSONPointer, path: JSONPointer)
        case test(path: JSONPointer, value: JSONValue)
    }

    public var operations: [Operation]

    public init(_ operations: [Operation] = []) { self.operations = operations }

    /// Whether the patch changes nothing.
    public var isEmpty: Bool { operations.isEmpty }

    /// Reads a patch from its JSON form (an array of operation objects).
    public init(json: JSONValue) throws(JSONPatchError) {
        guard case .array(let elements) = json else { throw JSONPatchError("a JSON patch must be an array") }
        var operations: [Operation] = []
        for (index, element) in elements.enumerated() {
            guard case .object(let object) = element else {
                throw JSONPatchError("operation \(index) of the JSON patch is not an object")
            }
            guard let op = object["op"]?.stringValue else {
                throw JSONPatchError("operation \(index) of the JSON patch has no \"op\"")
            }
            func pointer(_ key: String) throws(JSONPatchError) -> JSONPointer {
                guard let string = object[key]?.stringValue else {
                    throw JSONPatchError("operation \(index) (\(op)) of the JSON patch has no \"\(key)\"")
                }
                return try JSONPointer(string)
            }
            func value() throws(JSONPatchError) -> JSONValue {
                guard let value = object["value"] else {
                    throw JSONPatchError("operation \(index) (\(op)) of the JSON patch has no \"value\"")
                }
                return value
            }
            switch op {
            case "add": operations.append(.add(path: try pointer("path"), value: try value()))
            case "remove": operations.append(.remove(path: try pointer("path")))
            case "replace": operations.append(.replace(path: try pointer("path"), value: try value()))
            case "move": operations.append(.move(from: try pointer("from"), path: try pointer("path")))
            case "copy": operations.append(.copy(from: try pointer("from"), path: try pointer("path")))
            case "test": operations.append(.test(path: try pointer("path"), value: try value()))
            default: throw JSONPatchError("operation \(index) of the JSON patch has unknown op \"\(op)\"")
            }
        }
        self.operations = operations
    }

    /// The JSON form of the patch.
    public var json: JSONValue {
        .array(
            operations.map { operation in
                switch operation {
                case .add(let path, let value): ["op": "add", "path": .string(path.description), "value": value]
                case .remove(let path): ["op": "remove", "path": .string(path.description)]
                case .replace(let path, let value):
                    ["op": "replace", "path": .string(path.description), "value": value]
                case .move(let from, let path):
                    ["op": "move", "from": .string(from.description), "path": .string(path.description)]
                case .copy(let from, let path):
                    ["op": "copy", "from": .string(from.description), "path": .string(path.description)]
                case .test(let path, let value): ["op": "test", "path": .string(path.description), "value": value]
                }
            }
        )
    }

    static func arrayIndex(_ token: String) -> Int? {
        guard !token.isEmpty, token.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        guard token == "0" || !token.hasPrefix("0") else { return nil }
        return Int(token)
    }

    /// Applies the patch, all or nothing: on error the document is left as it was.
    public func apply(to document: JSONValue) throws(JSONPatchError) -> JSONValue {
        var result = document
        for operation in operations {
            switch operation {
            case .add(let path, let value):
                try Self.add(value, at: path.tokens[...], in: &result, pointer: path)
            case .remove(let path):
                _ = try Self.remove(at: path.tokens[...], in: &result, pointer: path)
            case .replace(let path, let value):
                if path.tokens.isEmpty {
                    result = value
                } else {
                    _ = try Self.remove(at: path.tokens[...], in: &result, pointer: path)
                    try Self.add(value, at: path.tokens[...], in: &result, pointer: path)
                }
            case .move(let from, let path):
                if path.tokens.count > from.tokens.count, Array(path.tokens.prefix(from.tokens.count)) == from.tokens {
                    throw JSONPatchError("cannot move \(from) into its own child \(path)")
                }
                let value = try Self.remove(at: from.tokens[...], in: &result, pointer: from)
                try Self.add(value, at: path.tokens[...], in: &result, pointer: path)
            case .copy(let from, let path):
                guard let value = result[pointer: from] else { throw JSONPatchError("copy: no value at \(from)") }
                try Self.add(value, at: path.tokens[...], in: &result, pointer: path)
            case .test(let path, let value):
                guard let actual = result[pointer: path] else { throw JSONPatchError("test: no value at \(path)") }
                guard actual == value else { throw JSONPatchError("test failed at \(path)") }
            }
        }
        return result
    }

    static func add(
        _ value: JSONValue,
        at tokens: ArraySlice<String>,
        in document: inout JSONValue,
        pointer: JSONPointer
    ) throws(JSONPatchError) {
        guard let first = tokens.first else {
            document = value
            return
        }
        let rest = tokens.dropFirst()
        switch document {
        case .object(var members):
            if rest.isEmpty {
                members[first] = value
            } else {
                guard var child = members[first] else { throw JSONPatchError("add: no parent for \(pointer)") }
                members[first] = nil  // keep the child uniquely referenced while it is mutated
                try add(value, at: rest, in: &child, pointer: pointer)
                members[first] = child
            }
            document = .object(members)
        case .array(var elements):
            if rest.isEmpty {
                if first == "-" {
                    elements.append(value)
                } else {
                    guard let index = arrayIndex(first), index <= elements.count else {
                        throw JSONPatchError("add: index \(first) out of range at \(pointer)")
                    }
                    elements.insert(value, at: index)
                }
            } else {
                guard let index = arrayIndex(first), elements.indices.contains(index) else {
                    throw JSONPatchError("add: index \(first) out of range at \(pointer)")
                }
                try add(value, at: rest, in: &elements[index], pointer: pointer)
            }
            document = .array(elements)
        default:
            throw JSONPatchError("add: \(pointer) goes through a \(document.typeName)")
        }
    }

    static func remove(
        at tokens: ArraySlice<String>,
        in document: inout JSONValue,
        pointer: JSONPointer
    ) throws(JSONPatchError) -> JSONValue {
        guard let first = tokens.first else { throw JSONPatchError("cannot remove the whole document") }
        let rest = tokens.dropFirst()
        switch document {
        case .object(var members):
            guard var child = members[first] else { throw JSONPatchError("no value at \(pointer)") }
            let removed: JSONValue
            if rest.isEmpty {
                members[first] = nil
                removed = child
            } else {
                members[first] = nil
                removed = try remove(at: rest, in: &child, pointer: pointer)
                members[first] = child
            }
            document = .object(members)
            return removed
        case .array(var elements):
            guard let index = arrayIndex(first), elements.indices.contains(index) else {
                throw JSONPatchError("no value at \(pointer)")
            }
            let removed: JSONValue
            if rest.isEmpty {
                removed = elements.remove(at: index)
            } else {
                removed = try remove(at: rest, in: &elements[index], pointer: pointer)
            }
            document = .array(elements)
            return removed
        default:
            throw JSONPatchError("no value at \(pointer)")
        }
    }
}

extension JSONPatch {
    /// The patch that turns `source` into `target`: `add`, `remove` and `replace` operations, objects compared member by
    /// member, arrays of equal length element by element, elements appended or removed at the end one by one, and any other
    /// changed array replaced whole. Applying the result to `source` yields `target`.
    public static func diff(from source: JSONValue, to target: JSONValue) -> JSONPatch {
        var operations: [Operation] = []
        var tokens: [String] = []
        diff(source, target, at: &tokens, into: &operations)
        return JSONPatch(operations)
    }

    /// Compares objects and arrays member by member rather than testing whole subtrees for equality first (which
    /// compared every subtree once per level above it); `tokens` is the path so far, made into a pointer only for an
    /// operation.
    static func diff(
        _ source: JSONValue,
        _ target: JSONValue,
        at tokens: inout [String],
        into operations: inout [Operation]
    ) {
        switch (source, target) {
        case (.object(let a), .object(let b)):
            if bitwiseIdentical(a, b) { return }  // an untouched subtree, shared by both documents
            for key in a.keys.sorted() where b[key] == nil {
                operations.append(.remove(path: JSONPointer(tokens: tokens + [key])))
            }
            for (key, new) in b.sorted(by: { $0.key < $1.key }) {
                if let old = a[key] {
                    tokens.append(key)
                    diff(old, new, at: &tokens, into: &operations)
                    tokens.removeLast()
                } else {
                    operations.append(.add(path: JSONPointer(tokens: tokens + [key]), value: new))
                }
            }
        case (.array(let a), .array(let b)):
            if bitwiseIdentical(a, b) { return }
            if a.count == b.count {
                for index in a.indices {
                    tokens.append(String(index))
                    diff(a[index], b[index], at: &tokens, into: &operations)
                    tokens.removeLast()
                }
            } else if b.count > a.count, b[..<a.count].elementsEqual(a) {
                for element in b[a.count...] {
                    operations.append(.add(path: JSONPointer(tokens: tokens + ["-"]), value: element))
                }
            } else if a.count > b.count, a[..<b.count].elementsEqual(b) {
                for index in (b.count..<a.count).reversed() {
                    operations.append(.remove(path: JSONPointer(tokens: tokens + [String(index)])))
                }
            } else {
                operations.append(.replace(path: JSONPointer(tokens: tokens), value: target))
            }
        default:
            if source != target { operations.append(.replace(path: JSONPointer(tokens: tokens), value: target)) }
        }
    }
}

/// Whether two objects share their storage (an untouched subtree of both documents), so are certainly equal. Never a
/// false "identical": equal objects in different storage are simply not identical.
func bitwiseIdentical(_ a: [String: JSONValue], _ b: [String: JSONValue]) -> Bool { sameBits(a, b) }

/// Whether two arrays share their storage, so are certainly equal.
func bitwiseIdentical(_ a: [JSONValue], _ b: [JSONValue]) -> Bool { sameBits(a, b) }

/// Only for collections, whose bits are a storage reference (for floats, equal bits and equal values differ).
private func sameBits<T>(_ a: T, _ b: T) -> Bool {
    withUnsafeBytes(of: a) { left in withUnsafeBytes(of: b) { right in left.elementsEqual(right) } }
}

extension JSONPatch {
    /// The compact JSON text of the patch, written directly: the same bytes as ``json``'s `serializedBytes()` (each
    /// operation's members in sorted order), without building a tree of objects first.
    public func serializedBytes() -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(64 * operations.count + 2)
        output.append(UInt8(ascii: "["))
        for (offset, operation) in operations.enumerated() {
            if offset > 0 { output.append(UInt8(ascii: ",")) }
            switch operation {
            case .add(let path, let value): Self.write("add", path: path, value: value, into: &output)
            case .remove(let path): Self.write("remove", path: path, value: nil, into: &output)
            case .replace(let path, let value): Self.write("replace", path: path, value: value, into: &output)
            case .test(let path, let value): Self.write("test", path: path, value: value, into: &output)
            case .move(let from, let path): Self.write("move", from: from, path: path, into: &output)
            case .copy(let from, let path): Self.write("copy", from: from, path: path, into: &output)
            }
        }
        output.append(UInt8(ascii: "]"))
        return output
    }

    static func write(_ op: StaticString, path: JSONPointer, value: JSONValue?, into output: inout [UInt8]) {
        output.append(contentsOf: #"{"op":""#.utf8)
        op.withUTF8Buffer { output.append(contentsOf: $0) }
        output.append(contentsOf: #"","path":"#.utf8)
        JSONValue.writeString(path.description, into: &output)
        if let value {
            output.append(contentsOf: #","value":"#.utf8)
            value.write(into: &output)
        }
        output.append(UInt8(ascii: "}"))
    }

    static func write(_ op: StaticString, from: JSONPointer, path: JSONPointer, into output: inout [UInt8]) {
        output.append(contentsOf: #"{"from":"#.utf8)
        JSONValue.writeString(from.description, into: &output)
        output.append(contentsOf: #","op":""#.utf8)
        op.withUTF8Buffer { output.append(contentsOf: $0) }
        output.append(contentsOf: #"","path":"#.utf8)
        JSONValue.writeString(path.description, into: &output)
        output.append(UInt8(ascii: "}"))
    }
}
