/// Builds Kubernetes API paths from names that may come from a request or from the cluster.
///
/// Every name is one path segment, percent-escaped, so a namespace such as `prod/../../api/v1/secrets` or one with a
/// `?` can never reach another path or add a query: it names an object that does not exist.
public enum APIPath {
    /// `name` as one path segment: every byte outside RFC 3986's unreserved characters percent-escaped, and a
    /// segment of only dots (`.`, `..`) escaped entirely so no server resolves it as a relative step.
    public static func segment(_ name: String) -> String {
        let bytes = Array(name.utf8)
        let onlyDots = !bytes.isEmpty && bytes.allSatisfy { $0 == UInt8(ascii: ".") }
        var escaped: [UInt8] = []
        escaped.reserveCapacity(bytes.count)
        for byte in bytes {
            if !onlyDots, isUnreserved(byte) {
                escaped.append(byte)
            } else {
                escaped.append(UInt8(ascii: "%"))
                escaped.append(hexDigit(byte >> 4))
                escaped.append(hexDigit(byte & 0x0F))
            }
        }
        return String(decoding: escaped, as: UTF8.self)
    }

    /// The collection path of a resource: `/api/v1/namespaces/NS/PLURAL` for the core group, else
    /// `/apis/GROUP/VERSION/namespaces/NS/PLURAL`; without a namespace, the cluster-wide (or cluster-scoped) list.
    public static func collection(group: String, version: String, plural: String, namespace: String?) -> String {
        let root = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        guard let namespace else { return "\(root)/\(plural)" }
        return "\(root)/namespaces/\(segment(namespace))/\(plural)"
    }

    /// The path of one object of a resource.
    public static func object(
        group: String,
        version: String,
        plural: String,
        namespace: String?,
        name: String
    )
        -> String
    {
        "\(collection(group: group, version: version, plural: plural, namespace: namespace))/\(segment(name))"
    }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10
    }
}
