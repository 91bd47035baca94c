import JSONValue
import KubeModels

/// `flagger.app/v1beta1` `MetricTemplate`: a reusable query against a metrics provider.
public struct MetricTemplate: Codable, Sendable, Hashable, PreservesUnknownFields {
    public static let kind = "MetricTemplate"
    public static let plural = "metrictemplates"

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
public struct AlertProvider: Codable, Sendable, Hashable, PreservesUnknownFields {
    public static let kind = "AlertProvider"
    public static let plural = "alertproviders"

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
