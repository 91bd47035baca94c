/// A tiny protobuf encoder for building request bodies in tests.
///
/// Like gogo-protobuf's generated marshallers it writes whatever it is told, zero values included, so tests can
/// mimic exactly what kubectl sends.
struct ProtobufWriter {
    var output: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var remaining = value
        while remaining >= 0x80 {
            output.append(UInt8(remaining & 0x7F) | 0x80)
            remaining >>= 7
        }
        output.append(UInt8(remaining))
    }

    mutating func tag(_ field: Int, wireType: UInt8) {
        varint(UInt64(field) << 3 | UInt64(wireType))
    }

    /// An `int32`, `int64` or enum varint; negative values take ten bytes, as protobuf requires.
    mutating func int(_ field: Int, _ value: Int64) {
        tag(field, wireType: 0)
        varint(UInt64(bitPattern: value))
    }

    mutating func bool(_ field: Int, _ value: Bool) {
        int(field, value ? 1 : 0)
    }

    mutating func lengthDelimited(_ field: Int, _ value: [UInt8]) {
        tag(field, wireType: 2)
        varint(UInt64(value.count))
        output.append(contentsOf: value)
    }

    mutating func string(_ field: Int, _ value: String) {
        lengthDelimited(field, Array(value.utf8))
    }

    mutating func fixed32(_ field: Int, _ value: UInt32) {
        tag(field, wireType: 5)
        for shift in stride(from: 0, to: 32, by: 8) { output.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    mutating func fixed64(_ field: Int, _ value: UInt64) {
        tag(field, wireType: 1)
        for shift in stride(from: 0, to: 64, by: 8) { output.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        build(&inner)
        lengthDelimited(field, inner.output)
    }

    /// Map entries as gogo writes them: one `{key = 1, value = 2}` message per pair, in the order given.
    mutating func stringMap(_ field: Int, _ entries: KeyValuePairs<String, String>) {
        for (key, value) in entries {
            message(field) { entry in
                entry.string(1, key)
                entry.string(2, value)
            }
        }
    }

    mutating func bytesMap(_ field: Int, _ entries: KeyValuePairs<String, [UInt8]>) {
        for (key, value) in entries {
            message(field) { entry in
                entry.string(1, key)
                entry.lengthDelimited(2, value)
            }
        }
    }

    /// A `resource.Quantity` map entry value.
    mutating func quantityMap(_ field: Int, _ entries: KeyValuePairs<String, String>) {
        for (key, value) in entries {
            message(field) { entry in
                entry.string(1, key)
                entry.message(2) { $0.string(1, value) }
            }
        }
    }
}

/// Builders for Kubernetes bodies, laid out the way kubectl's gogo-protobuf marshallers lay them out.
enum KubernetesBody {
    static let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]

    /// `k8s\0` + `runtime.Unknown{typeMeta, raw, contentEncoding, contentType}`.
    static func envelope(
        apiVersion: String,
        kind: String,
        raw: [UInt8],
        contentEncoding: String = "",
        contentType: String = ""
    ) -> [UInt8] {
        var writer = ProtobufWriter()
        writer.message(1) { typeMeta in
            typeMeta.string(1, apiVersion)
            typeMeta.string(2, kind)
        }
        writer.lengthDelimited(2, raw)
        writer.string(3, contentEncoding)
        writer.string(4, contentType)
        return magic + writer.output
    }

    /// The byte offset of `raw` inside a body built by ``envelope(apiVersion:kind:raw:contentEncoding:contentType:)``
    /// with empty encoding and content type.
    static func rawOffset(in body: [UInt8], raw: [UInt8]) -> Int {
        body.count - raw.count - 4
    }

    /// `ObjectMeta` with every non-pointer field written, as gogo does; a zero `creationTimestamp` is empty bytes.
    static func objectMeta(
        _ writer: inout ProtobufWriter,
        name: String,
        namespace: String = "",
        labels: KeyValuePairs<String, String> = [:]
    ) {
        writer.string(1, name)
        writer.string(2, "")
        writer.string(3, namespace)
        writer.string(4, "")
        writer.string(5, "")
        writer.string(6, "")
        writer.int(7, 0)
        writer.message(8) { _ in }
        writer.stringMap(11, labels)
    }

    static func wrap(_ build: (inout ProtobufWriter) -> Void) -> [UInt8] {
        var writer = ProtobufWriter()
        build(&writer)
        return writer.output
    }

    /// `kubectl create namespace prod`.
    static let namespace: [UInt8] = envelope(
        apiVersion: "v1",
        kind: "Namespace",
        raw: wrap { raw in
            raw.message(1) { objectMeta(&$0, name: "prod") }
            raw.message(2) { _ in }
            raw.message(3) { $0.string(1, "") }
        }
    )

    /// `kubectl create configmap app-config --from-literal=mode=prod --from-literal=greeting="hello\nworld"`
    /// plus a binary entry and `immutable: true`.
    static let configMap: [UInt8] = envelope(
        apiVersion: "v1",
        kind: "ConfigMap",
        raw: wrap { raw in
            raw.message(1) { objectMeta(&$0, name: "app-config", namespace: "prod") }
            raw.stringMap(2, ["greeting": "hello\nworld", "mode": "prod"])
            raw.bytesMap(3, ["blob": [0x00, 0x01, 0x02, 0xFF]])
            raw.bool(4, true)
        }
    )

    /// `kubectl create secret generic db --from-literal=password=s3cr3t --type=Opaque` plus `stringData`.
    static let secret: [UInt8] = envelope(
        apiVersion: "v1",
        kind: "Secret",
        raw: wrap { raw in
            raw.message(1) { objectMeta(&$0, name: "db") }
            raw.bytesMap(2, ["empty": [], "password": Array("s3cr3t".utf8)])
            raw.string(3, "Opaque")
            raw.stringMap(4, ["user": "admin"])
            raw.bool(5, false)
        }
    )

    /// `kubectl create serviceaccount builder` plus an image pull secret.
    static let serviceAccount: [UInt8] = envelope(
        apiVersion: "v1",
        kind: "ServiceAccount",
        raw: wrap { raw in
            raw.message(1) { objectMeta(&$0, name: "builder") }
            raw.message(3) { $0.string(1, "registry") }
            raw.bool(4, false)
        }
    )

    /// `kubectl create deployment podinfo --image=ghcr.io/stefanprodan/podinfo:6.0.0 --replicas=2 --port=9898`.
    static let podinfo: [UInt8] = envelope(
        apiVersion: "apps/v1",
        kind: "Deployment",
        raw: wrap { raw in
            raw.message(1) { objectMeta(&$0, name: "podinfo", labels: ["app": "podinfo"]) }
            raw.message(2) { spec in
                spec.int(1, 2)
                spec.message(2) { $0.stringMap(1, ["app": "podinfo"]) }
                spec.message(3) { template in
                    template.message(1) { objectMeta(&$0, name: "", labels: ["app": "podinfo"]) }
                    template.message(2) { pod in
                        pod.message(2) { container in
                            container.string(1, "podinfo")
                            container.string(2, "ghcr.io/stefanprodan/podinfo:6.0.0")
                            container.string(5, "")
                            container.message(6) { port in
                                port.string(1, "")
                                port.int(2, 0)
                                port.int(3, 9898)
                                port.string(4, "")
                                port.string(5, "")
                            }
                            container.message(8) { _ in }
                            container.string(13, "")
                            container.string(14, "")
                            container.bool(16, false)
                            container.bool(17, false)
                            container.bool(18, false)
                            container.string(20, "")
                        }
                        pod.string(3, "")
                        pod.string(6, "")
                        pod.string(8, "")
                        pod.string(9, "")
                        pod.string(10, "")
                        pod.bool(11, false)
                        pod.bool(12, false)
                        pod.bool(13, false)
                        pod.string(16, "")
                        pod.string(17, "")
                        pod.string(19, "")
                        pod.string(24, "")
                    }
                }
                spec.message(4) { $0.string(1, "") }
                spec.int(5, 0)
                spec.bool(7, false)
            }
            raw.message(3) { status in
                for field in [1, 2, 3, 4, 5, 7] { status.int(field, 0) }
            }
        }
    )
}
