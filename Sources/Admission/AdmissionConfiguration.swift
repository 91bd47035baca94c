/// How the admission gate behaves; built by the executable from flags.
public struct AdmissionConfiguration: Sendable {
    /// Written into `spec.provider` when a Canary has none (`--default-provider`).
    public var defaultProvider: String
    /// Users allowed to change Deployments owned by a Canary (the `-primary` copies). A trailing `*` matches any
    /// suffix, e.g. `system:serviceaccount:kube-system:*`.
    public var primaryEditors: [String]
    /// The largest request body accepted; Kubernetes' own limit for admission requests is 7 MiB... plus framing.
    public var maximumBodyBytes: Int
    /// Longest warning returned to the API server (it drops longer ones).
    public var maximumWarningLength: Int
    /// Most warnings in one answer; the last one counts those left out.
    public var maximumWarnings: Int

    public init(
        defaultProvider: String = "linkerd",
        primaryEditors: [String] = AdmissionConfiguration.defaultPrimaryEditors,
        maximumBodyBytes: Int = 7 * 1024 * 1024,
        maximumWarningLength: Int = 120,
        maximumWarnings: Int = 20
    ) {
        self.defaultProvider = defaultProvider
        self.primaryEditors = primaryEditors
        self.maximumBodyBytes = maximumBodyBytes
        self.maximumWarningLength = maximumWarningLength
        self.maximumWarnings = maximumWarnings
    }

    /// The controller's own service account and the control plane's: its controllers' service accounts (garbage
    /// collector, namespace controller, HPA, deployment controller) and `system:kube-controller-manager`, the
    /// identity those controllers use on clusters that run them without per-controller credentials. Refusing that
    /// one would leave namespaces hanging in Terminating.
    public static let defaultPrimaryEditors = [
        "system:serviceaccount:fledge-system:fledge",
        "system:serviceaccount:kube-system:*",
        "system:kube-controller-manager",
    ]

    func mayEditPrimaries(_ username: String?) -> Bool {
        guard let username else { return false }
        return primaryEditors.contains { pattern in
            pattern.hasSuffix("*") ? username.hasPrefix(pattern.dropLast()) : username == pattern
        }
    }
}
