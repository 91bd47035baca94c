import ArgumentParser
import CommandSupport
import Dispatch
import NIOCore
import NIOPosix

#if DeveloperCommands
import PlaygroundCommands
#endif

/// Runs Swift concurrency on SwiftNIO's event loops, so an admission request is parsed, checked and answered on the
/// thread that read it instead of hopping to the cooperative pool and back.
@main
enum Entry {
    static func main() {
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            await Fledge.main()
            done.signal()
        }
        done.wait()
    }
}

struct Fledge: AsyncParsableCommand {
    static let version = FledgeVersion.current

    static let configuration = CommandConfiguration(
        commandName: "fledge",
        abstract: "Progressive delivery for Kubernetes: Flagger-compatible canary releases, checked at admission.",
        discussion: """
            Fledge serves a TLS admission webhook for flagger.app/v1beta1 Canaries and the Deployments they release: \
            bad Canaries are refused at `kubectl apply` with the field and the fix, Flagger's defaults are written \
            into the object, and a changed pod template starts a release at once.
            """,
        version: version,
        subcommands: [ServeCommand.self] + developerCommands + [
            StatusCommand.self, PromoteCommand.self, AbortCommand.self, RetryCommand.self, DashboardCommand.self,
            LoadTesterCommand.self, CertsCommand.self, ValidateCommand.self, CRDsCommand.self, VersionCommand.self,
        ]
    )

    /// `demo` and `playground`, which run the embedded cluster: only in builds with the `DeveloperCommands` trait
    /// (on by default), so the production binary, built with `--disable-default-traits`, does not link it.
    #if DeveloperCommands
    static let developerCommands: [any ParsableCommand.Type] = [DemoCommand.self, PlaygroundCommand.self]
    #else
    static let developerCommands: [any ParsableCommand.Type] = []
    #endif
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the version and the APIs this build speaks."
    )

    func run() {
        print("fledge \(Fledge.version)")
        print("  Canary API:    flagger.app/v1beta1 (Canary, MetricTemplate, AlertProvider)")
        print("  Admission API: admission.k8s.io/v1, admission.k8s.io/v1beta1")
    }
}
