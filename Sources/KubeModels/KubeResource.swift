import JSONValue

/// A kind of Kubernetes object Fledge reads or writes: its group, version, kind and plural, from which every API path
/// is derived (``APIPath``), in one place.
///
/// Conforming models keep the members they do not model (``PreservesUnknownFields``), so an object read and written
/// back loses nothing another controller set.
public protocol KubeResource: Codable, Sendable {
    /// The API group; empty for the core group (`v1`).
    static var group: String { get }
    /// The version read and written unless a caller names another (TrafficSplit and HTTPRoute come in several).
    static var version: String { get }
    static var kind: String { get }
    /// The resource name in paths, e.g. `deployments`.
    static var plural: String { get }
    /// Whether objects live in a namespace.
    static var namespaced: Bool { get }
    /// Whether a controller may keep whole objects of this kind in an informer cache. False for Secrets (their
    /// data must not sit in a controller's memory, and listing them needs RBAC the controller should not have) and
    /// ConfigMaps (read whole only to copy them, rarely; their checksums are cached instead).
    static var cacheable: Bool { get }

    var metadata: ObjectMeta { get set }
}

extension KubeResource {
    public static var cacheable: Bool { true }

    /// `group/version`, or `version` for the core group.
    public static func apiVersion(_ version: String = Self.version) -> String {
        group.isEmpty ? version : "\(group)/\(version)"
    }

    /// The collection path, in `namespace` or across every namespace when nil.
    public static func collectionPath(namespace: String?, version: String = Self.version) -> String {
        APIPath.collection(group: group, version: version, plural: plural, namespace: namespaced ? namespace : nil)
    }

    /// The path of one object.
    public static func path(namespace: String?, name: String, version: String = Self.version) -> String {
        APIPath.object(
            group: group,
            version: version,
            plural: plural,
            namespace: namespaced ? namespace : nil,
            name: name
        )
    }

    /// This object's path.
    public func path(version: String = Self.version) -> String {
        Self.path(namespace: metadata.namespace, name: metadata.name ?? "", version: version)
    }

    /// `namespace/name`, the key caches use.
    public var key: String { "\(metadata.namespace ?? "")/\(metadata.name ?? "")" }
}

/// A whole number read from an object someone else may have written, kept as written: any JSON decodes, and
/// ``value`` is the number clamped to a range, or nil when it is not a whole number (or a string of one).
///
/// For members a tenant can set to anything the schema lets through (TrafficSplit weights are int-or-string, so
/// `"-9223372036854775808"` is one): reading never throws and never traps.
public struct LenientInt: Codable, Sendable, Hashable {
    /// What was written.
    public var raw: JSONValue

    public init(_ value: Int) { raw = .int(Int64(value)) }
    public init(raw: JSONValue) { self.raw = raw }

    public init(from decoder: any Decoder) throws {
        raw = try JSONValue(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws { try raw.encode(to: encoder) }

    /// The number clamped to `range`, or nil when the member is not a whole number or a string of one.
    public func value(in range: ClosedRange<Int>) -> Int? {
        let number: Int64?
        switch raw {
        case .int(let int): number = int
        case .double: number = raw.intValue
        case .string(let text): number = Int64(text)
        default: number = nil
        }
        return number.map { Int(min(max($0, Int64(range.lowerBound)), Int64(range.upperBound))) }
    }
}
