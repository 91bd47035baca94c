/// The traffic providers Fledge drives, and what each can do.
public enum Provider: String, Sendable, CaseIterable {
    case linkerd
    case smiV1alpha1 = "smi:v1alpha1"
    case smiV1alpha2 = "smi:v1alpha2"
    case smiV1alpha3 = "smi:v1alpha3"
    case gatewayAPIV1 = "gatewayapi:v1"
    case gatewayAPIV1beta1 = "gatewayapi:v1beta1"
    case kubernetes

    /// The provider names Fledge accepts, in the order error messages list them.
    public static var supportedNames: [String] { allCases.map(\.rawValue) }

    /// Whether the provider routes through a Gateway API `HTTPRoute`.
    public var isGatewayAPI: Bool { self == .gatewayAPIV1 || self == .gatewayAPIV1beta1 }

    /// Whether the provider can mirror traffic to the canary (`analysis.mirror`).
    public var canMirror: Bool { isGatewayAPI }

    /// Whether the provider can route by request headers or cookies (A/B testing, `analysis.match`).
    public var canMatch: Bool { isGatewayAPI }

    /// Whether the provider shifts traffic by weight; `kubernetes` only switches all at once (blue/green).
    public var canShiftWeights: Bool { self != .kubernetes }
}
