import JSONValue
import KubeModels

/// `flagger.app/v1beta1` `MetricTemplate`: a reusable query against a metrics provider.
public struct MetricTemplate: KubeResource, Hashable, PreservesUnknownFields {
    public static let group = "flagger.app"
    public static let version = "v1beta1"
    public static let kind = "MetricTemplate"
    public static let plural = "metrictemplates"
    public static let namespaced = true

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: MetricTemplateSpec
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case apiVersion, kind, metadata, spec }
}

/// `spec` of a MetricTemplate.
public struct MetricTemplateSpec: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var provider: MetricTemplateProvider
    public var query: String
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case provider, query }
}

/// Where a MetricTemplate's query is sent.
public struct MetricTemplateProvider: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var type: String
    public var address: String?
    public var secretRef: SecretReference?
    public var headers: [String: [String]]?
    public var insecureSkipVerify: Bool?
    public var region: String?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case type, address, secretRef, headers, insecureSkipVerify, region
    }
}

/// A reference to a Secret in the same namespace.
public struct SecretReference: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var name: String
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case name }
}

/// `flagger.app/v1beta1` `AlertProvider`: where release alerts are sent.
public struct AlertProvider: KubeResource, Hashable, PreservesUnknownFields {
    public static let group = "flagger.app"
    public static let version = "v1beta1"
    public static let kind = "AlertProvider"
    public static let plural = "alertproviders"
    public static let namespaced = true

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: AlertProviderSpec
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case apiVersion, kind, metadata, spec }
}

/// `spec` of an AlertProvider.
public struct AlertProviderSpec: Codable, Sendable, Hashable, PreservesUnknownFields {
    public var type: String
    public var channel: String?
    public var username: String?
    public var address: String?
    public var proxy: String?
    public var secretRef: SecretReference?
    public var unknownFields: [String: JSONValue] = [:]

    public enum CodingKeys: String, CodingKey, CaseIterable { case type, channel, username, address, proxy, secretRef }
}

/// Whether a Canary may use a MetricTemplate or an AlertProvider of another namespace.
///
/// The referenced object's owner opts in with the annotation `fledge.dev/cross-namespace-refs`: `*` for every
/// namespace, or a comma-separated list of namespaces. Without it, a Canary in namespace A could send B's
/// credentials to an address A chose, or page B's channel. (Flagger allows every reference unless
/// `-no-cross-namespace-refs`; Fledge keeps that flag too, which refuses them all.)
public enum CrossNamespaceOptIn {
    /// The opt-in annotation.
    public static let annotation = "fledge.dev/cross-namespace-refs"

    /// Why a Canary in `namespace` may not use `object` (a MetricTemplate or AlertProvider named `kind`), or nil
    /// when it may.
    public static func refusal(
        kind: String,
        name: String,
        objectNamespace: String,
        annotations: [String: String]?,
        from namespace: String,
        allowed: Bool = true
    ) -> String? {
        guard objectNamespace != namespace else { return nil }
        guard allowed else {
            return "\(kind) \(name).\(objectNamespace) is in another namespace and cross-namespace references are "
                + "disabled (--no-cross-namespace-refs); use one in \(namespace)"
        }
        let value = annotations?[annotation] ?? ""
        let namespaces = value.split(separator: ",").map { String($0.filter { $0 != " " }) }
        if namespaces.contains("*") || namespaces.contains(namespace) { return nil }
        return "\(kind) \(name).\(objectNamespace) does not allow references from namespace \(namespace); its owner "
            + "can annotate it \(annotation): \"\(namespace)\" (or \"*\")"
    }
}
