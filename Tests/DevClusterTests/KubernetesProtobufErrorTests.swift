import JSONValue
import Testing

@testable import DevCluster

/// A body that must be rejected, and the exact message it must be rejected with.
struct RejectedBody: Sendable, CustomTestStringConvertible {
    var name: String
    var body: [UInt8]
    var message: String

    var testDescription: String { name }

    /// The magic followed by `bytes`.
    init(_ name: String, envelopeBytes bytes: [UInt8], message: String) {
        self.init(name, body: KubernetesBody.magic + bytes, message: message)
    }

    init(_ name: String, body: [UInt8], message: String) {
        self.name = name
        self.body = body
        self.message = message
    }

    /// An object of `kind` whose raw bytes are built by `build`; `message` gets the raw offset in the body.
    init(
        _ name: String,
        apiVersion: String = "apps/v1",
        kind: String = "Deployment",
        raw build: (inout ProtobufWriter) -> Void,
        message: (Int) -> String
    ) {
        let raw = KubernetesBody.wrap(build)
        let body = KubernetesBody.envelope(apiVersion: apiVersion, kind: kind, raw: raw)
        self.init(name, body: body, message: message(KubernetesBody.rawOffset(in: body, raw: raw)))
    }
}

@Suite("Rejecting malformed or unsupported protobuf bodies")
struct KubernetesProtobufErrorTests {
    static let framing: [RejectedBody] = [
        RejectedBody(
            "empty body",
            body: [],
            message: #"not a Kubernetes protobuf body: 0 bytes is shorter than the 4-byte prefix "k8s\0""#
        ),
        RejectedBody(
            "JSON sent under the protobuf content type",
            body: Array(#"{"apiVersion":"v1"}"#.utf8),
            message: #"not a Kubernetes protobuf body: expected the prefix "k8s\0" (6b 38 73 00), found 7b 22 61 70"#
        ),
        RejectedBody(
            "magic with the wrong last byte",
            body: [0x6B, 0x38, 0x73, 0x01, 0x0A, 0x00],
            message: #"not a Kubernetes protobuf body: expected the prefix "k8s\0" (6b 38 73 00), found 6b 38 73 01"#
        ),
    ]

    static let wire: [RejectedBody] = [
        RejectedBody("truncated tag", envelopeBytes: [0x80], message: "truncated varint at byte 4"),
        RejectedBody("truncated length", envelopeBytes: [0x0A, 0x80], message: "truncated varint at byte 5"),
        RejectedBody(
            "eleven-byte varint",
            envelopeBytes: [0x28] + Array(repeating: 0xFF, count: 10) + [0x01],
            message: "varint at byte 5 is longer than 10 bytes or overflows 64 bits"
        ),
        RejectedBody(
            "ten-byte varint above 64 bits",
            envelopeBytes: [0x28] + Array(repeating: 0xFF, count: 9) + [0x02],
            message: "varint at byte 5 is longer than 10 bytes or overflows 64 bits"
        ),
        RejectedBody(
            "length past the end of the body",
            envelopeBytes: [0x0A, 0x05, 0x0A],
            message: "length 5 at byte 5 runs past the end of its message (1 bytes left)"
        ),
        RejectedBody(
            "wire type 6",
            envelopeBytes: [0x0E, 0x00],
            message: "invalid wire type 6 in the tag at byte 4"
        ),
        RejectedBody(
            "wire type 7",
            envelopeBytes: [0x0F, 0x00],
            message: "invalid wire type 7 in the tag at byte 4"
        ),
        RejectedBody(
            "field number 0",
            envelopeBytes: [0x02, 0x00],
            message: "invalid field number 0 in the tag at byte 4"
        ),
        RejectedBody(
            "field number above 2^29 - 1",
            envelopeBytes: [0x80, 0x80, 0x80, 0x80, 0x10, 0x00],
            message: "invalid field number 536870912 in the tag at byte 4"
        ),
        RejectedBody(
            "start group",
            envelopeBytes: [0x2B, 0x2C],
            message: "field 5 at byte 4 uses the group wire type 3 (start group), which Kubernetes never sends"
        ),
        RejectedBody(
            "end group",
            envelopeBytes: [0x2C],
            message: "field 5 at byte 4 uses the group wire type 4 (end group), which Kubernetes never sends"
        ),
        RejectedBody(
            "truncated 64-bit value",
            envelopeBytes: [0x29, 1, 2, 3],
            message: "truncated 64-bit value of field 5 at byte 5 (3 bytes left)"
        ),
        RejectedBody(
            "truncated 32-bit value",
            envelopeBytes: [0x2D, 1],
            message: "truncated 32-bit value of field 5 at byte 5 (1 bytes left)"
        ),
    ]

    static let envelope: [RejectedBody] = [
        RejectedBody(
            "typeMeta sent as a varint",
            envelopeBytes: [0x08, 0x01],
            message:
                "runtime.Unknown.typeMeta (field 1) at byte 4 has wire type 0 (varint); expected 2 (length-delimited)"
        ),
        RejectedBody(
            "kind sent as a varint",
            envelopeBytes: [0x0A, 0x02, 0x10, 0x01],
            message:
                "runtime.Unknown.typeMeta.kind (field 2) at byte 6 has wire type 0 (varint); expected 2 (length-delimited)"
        ),
        RejectedBody(
            "raw sent as a 32-bit value",
            envelopeBytes: [0x15, 0, 0, 0, 0],
            message: "runtime.Unknown.raw (field 2) at byte 4 has wire type 5 (32-bit); expected 2 (length-delimited)"
        ),
        RejectedBody(
            "no typeMeta",
            envelopeBytes: [],
            message: "protobuf envelope has no kind: runtime.Unknown typeMeta.kind is empty"
        ),
        RejectedBody(
            "StatefulSet",
            body: KubernetesBody.envelope(apiVersion: "apps/v1", kind: "StatefulSet", raw: []),
            message: #"unsupported protobuf kind "apps/v1, Kind=StatefulSet"; send JSON instead"#
        ),
        RejectedBody(
            "Pod",
            body: KubernetesBody.envelope(apiVersion: "v1", kind: "Pod", raw: []),
            message: #"unsupported protobuf kind "v1, Kind=Pod"; send JSON instead"#
        ),
        RejectedBody(
            "Deployment in the wrong group version",
            body: KubernetesBody.envelope(apiVersion: "extensions/v1beta1", kind: "Deployment", raw: []),
            message: #"unsupported protobuf kind "extensions/v1beta1, Kind=Deployment"; send JSON instead"#
        ),
        RejectedBody(
            "gzip content encoding",
            body: KubernetesBody.envelope(apiVersion: "v1", kind: "Namespace", raw: [], contentEncoding: "gzip"),
            message: #"unsupported protobuf content encoding "gzip"; send JSON instead"#
        ),
        RejectedBody(
            "JSON content type inside the envelope",
            body: KubernetesBody.envelope(
                apiVersion: "v1",
                kind: "Namespace",
                raw: Array("{}".utf8),
                contentType: "application/json"
            ),
            message: #"unsupported content type "application/json" inside the protobuf envelope; send JSON instead"#
        ),
    ]

    static let objects: [RejectedBody] = [
        RejectedBody(
            "replicas sent as a string",
            raw: { raw in raw.message(2) { $0.string(1, "x") } },
            message: { raw in
                "Deployment.spec.replicas (field 1) at byte \(raw + 2) has wire type 2 (length-delimited); expected 0 (varint)"
            }
        ),
        RejectedBody(
            "config map data sent as a varint",
            apiVersion: "v1",
            kind: "ConfigMap",
            raw: { raw in raw.int(2, 1) },
            message: { raw in
                "ConfigMap.data (field 2) at byte \(raw) has wire type 0 (varint); expected 2 (length-delimited)"
            }
        ),
        RejectedBody(
            "immutable sent as bytes",
            apiVersion: "v1",
            kind: "Secret",
            raw: { raw in raw.string(5, "") },
            message: { raw in
                "Secret.immutable (field 5) at byte \(raw) has wire type 2 (length-delimited); expected 0 (varint)"
            }
        ),
        RejectedBody(
            "a container sent as a varint",
            raw: { raw in raw.message(2) { $0.message(3) { $0.message(2) { $0.int(2, 1) } } } },
            message: { raw in
                "Deployment.spec.template.spec.containers[0] (field 2) at byte \(raw + 6) has wire type 0 (varint); expected 2 (length-delimited)"
            }
        ),
        RejectedBody(
            "a nested length that escapes its parent message",
            raw: { raw in
                raw.lengthDelimited(2, [0x12, 0x05])
                raw.lengthDelimited(3, [0, 0, 0])
            },
            message: { raw in "length 5 at byte \(raw + 3) runs past the end of its message (0 bytes left)" }
        ),
        RejectedBody(
            "a truncated varint inside the object",
            apiVersion: "v1",
            kind: "Namespace",
            raw: { raw in raw.lengthDelimited(1, [0x38, 0x80]) },
            message: { raw in "truncated varint at byte \(raw + 3)" }
        ),
        RejectedBody(
            "an IntOrString of type 2",
            raw: { raw in raw.message(2) { $0.message(4) { $0.message(2) { $0.message(2) { $0.int(1, 2) } } } } },
            message: { _ in
                "Deployment.spec.strategy.rollingUpdate.maxSurge: IntOrString type 2 is neither 0 (int) nor 1 (string)"
            }
        ),
        RejectedBody(
            "an empty quantity string",
            raw: { raw in
                raw.message(2) { spec in
                    spec.message(3) { template in
                        template.message(2) { pod in
                            pod.message(2) { $0.message(8) { $0.quantityMap(1, ["cpu": ""]) } }
                        }
                    }
                }
            },
            message: { _ in
                "Deployment.spec.template.spec.containers[0].resources.limits.value: quantity is an empty string"
            }
        ),
        RejectedBody(
            "a timestamp after the year 9999",
            apiVersion: "v1",
            kind: "Namespace",
            raw: { raw in raw.message(1) { $0.message(8) { $0.int(1, 253_402_300_800) } } },
            message: { _ in
                "Namespace.metadata.creationTimestamp: 253402300800 seconds is outside the years 0000 to 9999"
            }
        ),
        RejectedBody(
            "a timestamp before the year 0",
            apiVersion: "v1",
            kind: "Namespace",
            raw: { raw in raw.message(1) { $0.message(8) { $0.int(1, -62_167_219_201) } } },
            message: { _ in
                "Namespace.metadata.creationTimestamp: -62167219201 seconds is outside the years 0000 to 9999"
            }
        ),
        RejectedBody(
            "a label entry whose key is a varint",
            apiVersion: "v1",
            kind: "Namespace",
            raw: { raw in raw.message(1) { $0.message(11) { $0.int(1, 7) } } },
            message: { raw in
                "Namespace.metadata.labels.key (field 1) at byte \(raw + 4) has wire type 0 (varint); expected 2 (length-delimited)"
            }
        ),
    ]

    @Test("bodies without the k8s magic are rejected", arguments: framing)
    func rejectsFraming(_ rejected: RejectedBody) {
        #expect(throws: ProtobufDecodingError(rejected.message)) { try KubernetesProtobuf.decode(rejected.body) }
    }

    @Test("malformed wire data is rejected with its byte offset", arguments: wire)
    func rejectsWire(_ rejected: RejectedBody) {
        #expect(throws: ProtobufDecodingError(rejected.message)) { try KubernetesProtobuf.decode(rejected.body) }
    }

    @Test("envelopes this server cannot use are rejected", arguments: envelope)
    func rejectsEnvelope(_ rejected: RejectedBody) {
        #expect(throws: ProtobufDecodingError(rejected.message)) { try KubernetesProtobuf.decode(rejected.body) }
    }

    @Test("malformed objects are rejected naming the field path", arguments: objects)
    func rejectsObject(_ rejected: RejectedBody) {
        #expect(throws: ProtobufDecodingError(rejected.message)) { try KubernetesProtobuf.decode(rejected.body) }
    }
}

/// A small deterministic generator so fuzz failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

@Suite("Fuzzing the protobuf decoder")
struct KubernetesProtobufFuzzTests {
    static let seeds: [[UInt8]] = [
        measuredNamespaceBody,
        KubernetesBody.configMap,
        KubernetesBody.secret,
        KubernetesBody.serviceAccount,
        KubernetesBody.podinfo,
    ]

    static func mutate(_ body: [UInt8], using generator: inout SplitMix64) -> [UInt8] {
        var bytes = body
        for _ in 0..<Int.random(in: 1...4, using: &generator) {
            guard bytes.count > 4 else {
                bytes += [UInt8.random(in: 0...255, using: &generator)]
                continue
            }
            // Mostly leave the magic alone so the mutation reaches the protobuf.
            let low = Int.random(in: 0..<10, using: &generator) == 0 ? 0 : 4
            let position = Int.random(in: low..<bytes.count, using: &generator)
            switch Int.random(in: 0..<8, using: &generator) {
            case 0: bytes[position] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
            case 1: bytes[position] = UInt8.random(in: 0...255, using: &generator)
            case 2: bytes[position] = [0x00, 0x7F, 0x80, 0xFF].randomElement(using: &generator) ?? 0
            case 3: bytes.removeSubrange(position...)
            case 4: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: position)
            case 5: bytes.remove(at: position)
            case 6:
                let end = min(bytes.count, position + Int.random(in: 1...16, using: &generator))
                bytes.insert(contentsOf: bytes[position..<end], at: position)
            default:
                let count = Int.random(in: 1...12, using: &generator)
                bytes.insert(
                    contentsOf: (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) },
                    at: position
                )
            }
        }
        return bytes
    }

    @Test("5,000 random mutations and truncations of valid bodies only ever decode or throw")
    func mutationsNeverCrash() {
        var generator = SplitMix64(state: 0x6B38_7300_F1ED_6E00)
        var decoded = 0
        var rejected = 0
        for _ in 0..<5_000 {
            let seed = Self.seeds[Int.random(in: 0..<Self.seeds.count, using: &generator)]
            let body = Self.mutate(seed, using: &generator)
            do throws(ProtobufDecodingError) {
                let value = try KubernetesProtobuf.decode(body)
                #expect(value["kind"]?.stringValue?.isEmpty == false)
                decoded += 1
            } catch {
                #expect(!error.message.isEmpty)
                rejected += 1
            }
        }
        #expect(decoded + rejected == 5_000)
        #expect(decoded > 100, "mutations should sometimes still decode")
        #expect(rejected > 100, "mutations should sometimes be rejected")
    }

    @Test("every truncation of every valid body decodes or throws")
    func truncationsNeverCrash() {
        for seed in Self.seeds {
            for length in 0...seed.count {
                do throws(ProtobufDecodingError) {
                    _ = try KubernetesProtobuf.decode(seed.prefix(length))
                } catch {
                    #expect(!error.message.isEmpty)
                }
            }
        }
        #expect(throws: ProtobufDecodingError.self) { try KubernetesProtobuf.decode(KubernetesBody.podinfo.dropLast()) }
    }
}
