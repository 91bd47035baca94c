import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a command ended, with the end of its combined standard output and error.
struct ProcessOutcome: Sendable, Equatable {
    enum Termination: Sendable, Equatable {
        case exited(Int32)
        case signalled(Int32)
        /// Killed when the task's time ran out.
        case timedOut
        /// Killed because the load tester is stopping.
        case cancelled
    }

    var termination: Termination
    var output: String

    var succeeded: Bool { termination == .exited(0) }

    /// Go's `exec.ExitError` wording, which Flagger puts in its messages: `exit status 1`, `signal: killed`.
    var status: String {
        switch termination {
        case .exited(let code): return "exit status \(code)"
        case .signalled(let signal): return "signal: \(Self.signalName(signal))"
        case .timedOut: return "signal: killed"
        case .cancelled: return "signal: killed"
        }
    }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGKILL: return "killed"
        case SIGTERM: return "terminated"
        case SIGINT: return "interrupt"
        case SIGSEGV: return "segmentation fault"
        case SIGABRT: return "aborted"
        case SIGPIPE: return "broken pipe"
        case SIGHUP: return "hangup"
        default: return "signal \(signal)"
        }
    }
}

/// Why a command could not be started; the message follows Go's `exec` wording.
struct LaunchError: Error, Sendable, Equatable {
    var message: String
}

/// Runs one command as a child process, directly (no shell), with a deadline.
enum ProcessRunner {
    /// How long a command gets between SIGTERM and SIGKILL when its time runs out.
    static let terminationGrace: Duration = .seconds(2)

    /// Held while a child process is spawned; see ``run(_:timeout:maximumOutputBytes:)``.
    static let launchLock = Mutex<Void>(())

    /// The path of the executable `name` refers to: itself when it contains a slash, otherwise the first match
    /// on `PATH`.
    static func locate(_ name: String, searchPath: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        let fileManager = FileManager.default
        func isExecutable(_ path: String) -> Bool {
            var isDirectory: ObjCBool = false
            return fileManager.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
                && fileManager.isExecutableFile(atPath: path)
        }
        if name.contains("/") { return isExecutable(name) ? name : nil }
        guard !name.isEmpty else { return nil }
        for directory in (searchPath ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if isExecutable(candidate) { return candidate }
        }
        return nil
    }

    /// Runs `argv` and waits for it. When `timeout` passes the command's process group gets SIGTERM, then SIGKILL
    /// after ``terminationGrace``; when the calling task is cancelled it gets SIGKILL at once.
    static func run(
        _ argv: [String],
        timeout: Duration,
        maximumOutputBytes: Int,
        environment: [String: String] = [:]
    ) async throws(LaunchError) -> ProcessOutcome {
        guard let program = argv.first, !program.isEmpty else {
            throw LaunchError(message: "exec: no command")
        }
        guard let executable = locate(program) else {
            throw LaunchError(message: "exec: \"\(program)\": executable file not found in $PATH")
        }
        let fileManager = FileManager.default
        let outputPath = fileManager.temporaryDirectory
            .appendingPathComponent("fledge-loadtester-\(UUID().uuidString).out").path
        guard fileManager.createFile(atPath: outputPath, contents: nil),
            let outputHandle = FileHandle(forWritingAtPath: outputPath)
        else {
            throw LaunchError(
                message: "cannot create a file for the command's output in \(fileManager.temporaryDirectory.path)"
            )
        }
        defer { try? fileManager.removeItem(atPath: outputPath) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(argv.dropFirst())
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        process.standardInput = FileHandle.nullDevice
        // Output goes to a file rather than a pipe: nothing can block on a full pipe, and children the command
        // leaves behind cannot hold the load tester waiting for an end of file.
        process.standardOutput = outputHandle
        process.standardError = outputHandle
        let exit = ExitSignal()
        process.terminationHandler = { process in
            exit.finish(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal)
        }
        do {
            // Foundation's Process on Linux learns of a child's exit when a socket it shares with the child closes,
            // and closes inherited descriptors only up to the highest one open when it prepares the spawn. Two
            // launches at once can hand one child the other's socket, and the other's exit then goes unseen until
            // this child ends too. Launching one at a time keeps every child to its own socket.
            try launchLock.withLock { _ throws in try process.run() }
        } catch {
            try? outputHandle.close()
            throw LaunchError(message: "exec: \"\(program)\": \(error.localizedDescription)")
        }
        try? outputHandle.close()
        let pid = process.processIdentifier
        let ownGroup = getpgid(pid) == pid

        func send(_ signal: Int32) {
            guard !exit.hasExited else { return }
            if ownGroup {
                _ = kill(-pid, signal)
            } else {
                _ = kill(pid, signal)
            }
        }

        let ending = await withTaskGroup(of: Race.self) { group in
            group.addTask {
                await exit.wait()
                return .exited
            }
            group.addTask {
                do {
                    try await Task.sleep(for: timeout)
                    return .deadline
                } catch {
                    return .cancelled
                }
            }
            let first = await group.next() ?? .exited
            if first != .exited {
                if first == .deadline {
                    send(SIGTERM)
                    group.addTask {
                        try? await Task.sleep(for: terminationGrace)
                        return .graceOver
                    }
                } else {
                    send(SIGKILL)
                }
                // Wait for the exit; a grace period that ends first escalates to SIGKILL.
                while let next = await group.next(), next != .exited {
                    send(SIGKILL)
                }
            }
            group.cancelAll()
            return first
        }
        withExtendedLifetime(process) {}

        let output = readTail(of: outputPath, maximumBytes: maximumOutputBytes)
        let termination: ProcessOutcome.Termination
        switch ending {
        case .deadline: termination = .timedOut
        case .cancelled, .graceOver: termination = .cancelled
        case .exited:
            let (status, signalled) = exit.status ?? (0, false)
            termination = signalled ? .signalled(status) : .exited(status)
        }
        return ProcessOutcome(termination: termination, output: output)
    }

    private enum Race: Sendable {
        case exited, deadline, cancelled, graceOver
    }

    /// The last `maximumBytes` of a file, as text, noting how much was left out.
    static func readTail(of path: String, maximumBytes: Int) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        do {
            let size = try handle.seekToEnd()
            let limit = UInt64(max(0, maximumBytes))
            let start = size > limit ? size - limit : 0
            try handle.seek(toOffset: start)
            let data = try handle.readToEnd() ?? Data()
            let text = String(decoding: data, as: UTF8.self)
            return start > 0 ? "[\(start) bytes of output omitted]\n" + text : text
        } catch {
            return ""
        }
    }
}

/// Signals a process's exit from Foundation's termination handler to the tasks waiting for it.
final class ExitSignal: Sendable {
    private struct State {
        var status: (Int32, Bool)?
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    var hasExited: Bool { state.withLock { $0.status != nil } }
    var status: (Int32, Bool)? { state.withLock { $0.status } }

    func finish(status: Int32, signalled: Bool) {
        let waiters = state.withLock { state in
            state.status = (status, signalled)
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                if state.status != nil { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}
