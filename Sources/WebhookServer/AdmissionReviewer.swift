import Admission
import NIOCore
import NIOPosix

/// What answers an admission request once the server has its body: the admission gate, or a stand-in in tests.
///
/// The server calls it on its admission executor (``AdmissionExecutor``), not on an event loop or the shared
/// cooperative pool, so a review that takes long holds neither `/healthz` nor other connections. (Reviews no larger
/// than ``WebhookServerConfiguration/inlineReviewBytes`` are cheaper than that hand-off and run where they arrive.)
public protocol AdmissionReviewer: Sendable {
    /// Answers one request already routed to `endpoint`, whose body is `body`.
    func review(_ endpoint: AdmissionEndpoint, body: ByteBufferView) async -> AdmissionHTTPResponse
}

extension AdmissionService: AdmissionReviewer {
    public func review(_ endpoint: AdmissionEndpoint, body: ByteBufferView) async -> AdmissionHTTPResponse {
        await handle(endpoint: endpoint, body: body)
    }
}

/// A task executor on threads of its own, for CPU-heavy admission work (parsing, decoding, validation, patches).
///
/// Swift's cooperative pool has one thread per core and Hummingbird runs every request handler there, so a review
/// that computes for seconds takes a whole core's share of every other request, `/healthz` included. On these threads
/// the operating system shares the cores between a long review and everything else instead. Work that suspends (a
/// lookup in the cluster) gives its thread back while it waits.
public final class AdmissionExecutor: TaskExecutor, Sendable {
    let pool: NIOThreadPool

    /// Starts `threads` threads (at least 1).
    public init(threads: Int) {
        pool = NIOThreadPool(numberOfThreads: max(threads, 1))
        pool.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        // A pool already shut down runs the work here instead (state `.cancelled`): the task must still finish.
        pool.submit { _ in job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// Stops the threads once the work queued has run.
    public func shutdown() async {
        try? await pool.shutdownGracefully()
    }
}
