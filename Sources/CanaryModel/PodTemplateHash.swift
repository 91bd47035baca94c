import Crypto
import JSONValue
import KubeModels

/// A stable fingerprint of a pod template: equal templates hash equal whatever the member order of their JSON.
///
/// A release starts when the target's hash differs from the Canary's `status.lastAppliedSpec`. Replica counts are
/// outside the template, so scaling never starts a release.
public enum PodTemplateHash {
    /// The first 16 hex digits of the SHA-256 of the template's canonical (sorted-key, compact) JSON.
    public static func compute(_ template: JSONValue) -> String {
        let digest = SHA256.hash(data: template.serializedBytes())
        return digest.prefix(8).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// The hash of a typed Deployment's template: its JSON as written (models keep every member, explicit nulls
    /// included), so the same template hashes the same read either way.
    public static func of(_ deployment: Deployment) -> String? {
        guard let template = deployment.spec?.template, let json = try? JSONValueEncoder().encode(template) else {
            return nil
        }
        return compute(json)
    }

    /// The hash of a Deployment's (or DaemonSet's) `spec.template`, or `nil` when it has none.
    public static func ofWorkload(_ workload: JSONValue) -> String? {
        guard let template = workload["spec", "template"] else { return nil }
        return compute(template)
    }
}
