import JSONValue

/// Turns the protobuf bodies that kubectl sends into the JSON objects the dev cluster stores.
///
/// kubectl 1.32 and later send typed-client writes (`kubectl create namespace`, `create configmap`,
/// `create secret generic`, `create serviceaccount`, `create deployment`, and the `DeleteOptions` of a DELETE) as
/// `application/vnd.kubernetes.protobuf`: the four bytes `k8s\0`, then a `runtime.Unknown` envelope whose
/// `typeMeta` names the kind and whose `raw` bytes hold the object in the k8s.io/api `generated.proto` layout.
///
/// Only decoding is offered; the server always answers in JSON. Fields are named and omitted the way the Go
/// types' JSON tags would: zero strings, numbers and Booleans behind `omitempty` are dropped, pointer fields and
/// nested structs are kept whenever they were sent. A zero `creationTimestamp` is dropped rather than sent as
/// `null`. Field numbers outside the supported subset are skipped by wire type.
public enum KubernetesProtobuf {
    /// The prefix of every Kubernetes protobuf body: `k8s` followed by a zero byte.
    static let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]

    /// The `runtime.Unknown.contentType` values accepted for the embedded object.
    static let acceptedContentTypes: Set<String> = ["", "application/vnd.kubernetes.protobuf"]

    /// How deeply messages may nest before decoding stops; the supported kinds need fewer than ten levels.
    static let defaultMaximumDepth = 32

    /// Decodes a `k8s\0`-framed protobuf object into the JSON the API server would have received as JSON.
    ///
    /// The result carries `apiVersion` and `kind` from the envelope followed by the object's own fields.
    ///
    /// - Parameter bytes: The whole request body, starting with the magic `k8s\0`.
    /// - Returns: The object as JSON, for example
    ///   `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"prod"},"spec":{},"status":{}}`.
    /// - Throws: ``ProtobufDecodingError`` when the framing is wrong, the protobuf is malformed (truncated varints
    ///   or lengths, a known field with the wrong wire type), or the kind is not one this decoder understands.
    public static func decode(_ bytes: some Collection<UInt8>) throws(ProtobufDecodingError) -> JSONValue {
        try decode(bytes, maximumDepth: defaultMaximumDepth)
    }

    /// Decodes like ``decode(_:)`` with a chosen limit on message nesting.
    static func decode(
        _ bytes: some Collection<UInt8>,
        maximumDepth: Int
    ) throws(ProtobufDecodingError) -> JSONValue {
        let buffer = Array(bytes)
        guard buffer.count >= magic.count, buffer.prefix(magic.count).elementsEqual(magic) else {
            throw missingMagic(buffer)
        }
        let envelope = try ProtobufEnvelope(buffer: buffer, range: magic.count..<buffer.count)
        guard !envelope.kind.isEmpty else {
            throw ProtobufDecodingError("protobuf envelope has no kind: runtime.Unknown typeMeta.kind is empty")
        }
        guard envelope.contentEncoding.isEmpty else {
            throw ProtobufDecodingError(
                "unsupported protobuf content encoding \"\(envelope.contentEncoding)\"; send JSON instead"
            )
        }
        guard acceptedContentTypes.contains(envelope.contentType) else {
            throw ProtobufDecodingError(
                "unsupported content type \"\(envelope.contentType)\" inside the protobuf envelope; send JSON instead"
            )
        }
        guard let schema = KubernetesProtobufSchemas.schema(apiVersion: envelope.apiVersion, kind: envelope.kind) else {
            throw ProtobufDecodingError(
                "unsupported protobuf kind \"\(envelope.apiVersion), Kind=\(envelope.kind)\"; send JSON instead"
            )
        }
        var object: [String: JSONValue] = [:]
        let decoder = ProtobufMessageDecoder(bytes: buffer, maximumDepth: maximumDepth)
        try decoder.decodeMessage(schema, in: envelope.raw, into: &object, path: envelope.kind, depth: 1)
        object["apiVersion"] = .string(envelope.apiVersion)
        object["kind"] = .string(envelope.kind)
        return .object(object)
    }

    private static func missingMagic(_ buffer: [UInt8]) -> ProtobufDecodingError {
        if buffer.count < magic.count {
            return ProtobufDecodingError(
                "not a Kubernetes protobuf body: \(buffer.count) bytes is shorter than the 4-byte prefix \"k8s\\0\""
            )
        }
        let found = buffer.prefix(magic.count).map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }
        return ProtobufDecodingError(
            "not a Kubernetes protobuf body: expected the prefix \"k8s\\0\" (6b 38 73 00), found \(found.joined(separator: " "))"
        )
    }
}

/// The `runtime.Unknown` wrapper around a protobuf object.
///
/// `message Unknown { TypeMeta typeMeta = 1; bytes raw = 2; string contentEncoding = 3; string contentType = 4; }`
/// with `message TypeMeta { string apiVersion = 1; string kind = 2; }`.
struct ProtobufEnvelope {
    var apiVersion = ""
    var kind = ""
    /// Where the object's own bytes sit in the buffer; empty when `raw` was not sent.
    var raw: Range<Int>
    var contentEncoding = ""
    var contentType = ""

    init(buffer: [UInt8], range: Range<Int>) throws(ProtobufDecodingError) {
        raw = range.upperBound..<range.upperBound
        var reader = ProtobufReader(bytes: buffer, range: range)
        while !reader.isAtEnd {
            let tag = try reader.readTag()
            switch tag.field {
            case 1:
                let typeMeta = try reader.readLengthDelimited(tag, path: "runtime.Unknown.typeMeta")
                var inner = ProtobufReader(bytes: buffer, range: typeMeta)
                while !inner.isAtEnd {
                    let innerTag = try inner.readTag()
                    switch innerTag.field {
                    case 1: apiVersion = try inner.readString(innerTag, path: "runtime.Unknown.typeMeta.apiVersion")
                    case 2: kind = try inner.readString(innerTag, path: "runtime.Unknown.typeMeta.kind")
                    default: try inner.skip(innerTag)
                    }
                }
            case 2: raw = try reader.readLengthDelimited(tag, path: "runtime.Unknown.raw")
            case 3: contentEncoding = try reader.readString(tag, path: "runtime.Unknown.contentEncoding")
            case 4: contentType = try reader.readString(tag, path: "runtime.Unknown.contentType")
            default: try reader.skip(tag)
            }
        }
    }
}

/// Why a Kubernetes protobuf body could not be turned into JSON.
public struct ProtobufDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, naming the field path or byte offset (counted from the start of the body) involved.
    public var message: String

    /// Creates an error with the given explanation.
    public init(_ message: String) {
        self.message = message
    }

    /// The explanation, suitable for a `400 Bad Request` status message.
    public var description: String { message }
}
