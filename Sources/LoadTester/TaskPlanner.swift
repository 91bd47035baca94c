/// The task types Flagger's load tester runs from a webhook's metadata.
enum TaskType: String, Sendable, CaseIterable {
    /// A command run in the background; the webhook is answered at once.
    case cmd
    /// `bash -c <cmd>`, waited for.
    case bash
    /// `helm <cmd>`, waited for.
    case helm
    /// Flagger's Helm 3 type; runs `helm <cmd>` too.
    case helmv3
    /// `kubectl <cmd>`, waited for.
    case kubectl
}

/// A task ready to run: allowed, parsed, with everything needed to run and report it.
struct PlannedTask: Sendable, Equatable {
    var type: TaskType
    /// `name.namespace` of the canary that asked.
    var canary: String
    /// The command line as checked against the allow-list, and as named in logs and answers.
    var commandLine: String
    /// The program and its arguments.
    var argv: [String]
    /// Set when the command is `hey` and runs in the built-in generator instead of a process.
    var hey: HeyCommand?
    /// `logCmdOutput`: log a background command's output when it succeeds.
    var logOutput: Bool
    /// `returnCmdOutput`: answer a blocking task's success with its output.
    var returnOutput: Bool

    /// Whether the webhook waits for the task (every type but `cmd`).
    var blocking: Bool { type != .cmd }

    /// Identical background commands for one canary run once at a time, as in Flagger's task runner.
    var key: String { "\(canary)\u{0}\(commandLine)" }
}

/// Why a request does not start a task: the HTTP status and the answer's text.
struct Refusal: Error, Sendable, Equatable {
    var status: Int
    var message: String
}

/// Turns a webhook payload into a task, or a refusal; no I/O except looking `hey` up on `PATH` when asked.
struct TaskPlanner: Sendable {
    let allow: AllowList
    /// Whether a `hey` command runs in the built-in generator.
    let builtinHey: @Sendable () -> Bool

    func plan(_ payload: WebhookPayload) throws(Refusal) -> PlannedTask {
        let metadata = payload.metadata
        guard !metadata.isEmpty else {
            throw Refusal(status: 400, message: "metadata not found in payload")
        }
        let typeName = metadata["type"] ?? TaskType.cmd.rawValue
        guard let type = TaskType(rawValue: typeName) else {
            throw Refusal(status: 400, message: "unknown task type \(typeName)")
        }
        let command = (metadata["cmd"] ?? "").trimmingWhitespace()
        guard !command.isEmpty else {
            throw Refusal(status: 400, message: "cmd not found in metadata")
        }
        let fields = command.split(whereSeparator: \.isWhitespace).map(String.init)
        let commandLine: String
        let argv: [String]
        switch type {
        case .cmd:
            commandLine = command
            argv = []
        case .bash:
            commandLine = command
            argv = ["bash", "-c", command]
        case .helm, .helmv3:
            argv = ["helm"] + fields
            commandLine = "helm \(command)"
        case .kubectl:
            argv = ["kubectl"] + fields
            commandLine = "kubectl \(command)"
        }
        guard allow.permits(commandLine) else {
            throw Refusal(status: 403, message: allow.refusal(for: commandLine))
        }
        var task = PlannedTask(
            type: type,
            canary: payload.canary,
            commandLine: commandLine,
            argv: argv,
            hey: nil,
            logOutput: Self.parseBool(metadata["logCmdOutput"]),
            returnOutput: Self.parseBool(metadata["returnCmdOutput"])
        )
        guard type == .cmd else { return task }
        do {
            task.argv = try ArgumentSplitter.split(command)
        } catch {
            throw Refusal(status: 400, message: "cmd \"\(command)\": \(error.message)")
        }
        if task.argv.first == "hey", builtinHey() {
            do {
                task.hey = try HeyCommand(arguments: Array(task.argv.dropFirst()))
            } catch {
                throw Refusal(status: 400, message: error.description)
            }
        }
        return task
    }

    /// Go's `strconv.ParseBool`, which Flagger uses for metadata flags; anything else is false.
    static func parseBool(_ text: String?) -> Bool {
        switch text {
        case "1", "t", "T", "true", "TRUE", "True": return true
        default: return false
        }
    }
}

extension StringProtocol {
    /// The text without leading and trailing whitespace.
    func trimmingWhitespace() -> String {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(self[first...last])
    }
}
