/// The version every `fledge` command reports (`fledge version`, the webhook's and the worker's user agent).
public enum FledgeVersion {
    /// The release this build is, `MAJOR.MINOR.PATCH`.
    public static let current = "0.1.0"
}
