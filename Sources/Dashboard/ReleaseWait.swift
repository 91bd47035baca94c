import CanaryModel
import JSONValue
import KubeModels

/// How `fledge status NAME --wait` reads a Canary: still going, or ended and how.
public enum ReleaseVerdict: Sendable, Equatable {
    /// A release is under way, or about to start (the target has a revision the worker has not taken up yet).
    case waiting
    /// Ended well: promoted (`Succeeded`), or nothing to release (`Initialized` with no new revision).
    case succeeded(String)
    /// Ended badly: rolled back or the promotion failed (`Failed`).
    case failed(String)

    /// The exit status: 0 promoted or nothing to do, 1 failed or rolled back (2 is timeout or error, decided by
    /// the caller).
    public var exitStatus: Int32? {
        switch self {
        case .waiting: return nil
        case .succeeded: return 0
        case .failed: return 1
        }
    }
}

/// The rule `--wait` applies at each change of the Canary.
public enum ReleaseWait {
    /// The verdict for a Canary in `phase` (its `status.phase`); `pendingRevision` is whether its target has a pod
    /// template the worker has not released yet (`nil`: unknown, taken as no).
    public static func verdict(phase: String?, pendingRevision: Bool?, message: String? = nil) -> ReleaseVerdict {
        if pendingRevision == true { return .waiting }
        let why = message.map { ": \($0)" } ?? ""
        switch CanaryPhase(rawValue: phase ?? "") {
        case .succeeded: return .succeeded("promoted\(why)")
        case .initialized: return .succeeded("nothing to release (Initialized, no new revision)")
        case .failed: return .failed("failed\(why)")
        default: return .waiting
        }
    }

    /// Whether the Canary's target has a pod template that differs from the release the Canary last ran; `nil`
    /// when the target cannot be read.
    public static func pendingRevision(_ canary: JSONValue, cluster: some DashboardCluster) async -> Bool? {
        await ReleaseSteering.pendingRevision(
            canary,
            namespace: canary["metadata", "namespace"]?.stringValue ?? "default",
            cluster: cluster
        )
    }
}
