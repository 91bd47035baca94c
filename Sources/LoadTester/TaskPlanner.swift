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
    /// The command line checked against the allow-list and named in logs and answers: the canonical line of
    /// ``argv`` (``ArgumentSplitter/render(_:)``), or a bash task's whole script.
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
///
/// Every type but `bash` is split by ``ArgumentSplitter`` into the argument vector that runs, and that vector is
/// what ``CommandPolicy`` checks; a `bash` script is checked whole against its own patterns.
struct TaskPlanner: Sendable {
    let policy: CommandPolicy
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
        let command = try CommandCharacters.checked(metadata["cmd"] ?? "")
        guard !command.isEmpty else {
            throw Refusal(status: 400, message: "cmd not found in metadata")
        }
        var task = PlannedTask(
            type: type,
            canary: payload.canary,
            commandLine: command,
            argv: ["bash", "-c", command],
            hey: nil,
            logOutput: Self.parseBool(metadata["logCmdOutput"]),
            returnOutput: Self.parseBool(metadata["returnCmdOutput"])
        )
        if type == .bash {
            if let refusal = policy.bashRefusal(command) { throw Refusal(status: 403, message: refusal) }
            return task
        }
        let prefix: [String]
        switch type {
        case .helm, .helmv3: prefix = ["helm"]
        case .kubectl: prefix = ["kubectl"]
        case .cmd, .bash: prefix = []
        }
        do {
            task.argv = prefix + (try ArgumentSplitter.split(command, subject: "\(type.rawValue) tasks"))
        } catch {
            throw Refusal(status: 400, message: "cmd \"\(command)\": \(error.message)")
        }
        guard let program = task.argv.first else {
            throw Refusal(status: 400, message: "cmd not found in metadata")
        }
        task.commandLine = ArgumentSplitter.render(task.argv)
        if program == "hey", type == .cmd {
            task.hey = try planHey(task)
            return task
        }
        if let refusal = policy.refusal(argv: task.argv, commandLine: task.commandLine) {
            throw Refusal(status: 403, message: refusal)
        }
        return task
    }

    /// Checks a `hey` command: its flags are parsed (and bounded) by ``HeyCommand``, which is its built-in policy;
    /// returns the parsed command when it runs in the built-in generator.
    private func planHey(_ task: PlannedTask) throws(Refusal) -> HeyCommand? {
        let builtin = builtinHey()
        let parsed: Result<HeyCommand, HeyCommandError>
        do {
            parsed = .success(try HeyCommand(arguments: Array(task.argv.dropFirst())))
        } catch {
            parsed = .failure(error)
        }
        let policyOn = policy.programs.contains(.hey)
        let parsedCommand = try? parsed.get()
        if !(policyOn && parsedCommand != nil), !policy.allow.permits(task.commandLine) {
            if policyOn, case .failure(let error) = parsed {
                throw Refusal(status: 400, message: error.description)
            }
            throw Refusal(
                status: 403,
                message: policy.refusal(argv: task.argv, commandLine: task.commandLine)
                    ?? "command \"\(task.commandLine)\" is not allowed"
            )
        }
        guard builtin else { return nil }
        switch parsed {
        case .success(let command): return command
        case .failure(let error): throw Refusal(status: 400, message: error.description)
        }
    }

    /// Go's `strconv.ParseBool`, which Flagger uses for metadata flags; anything else is false.
    static func parseBool(_ text: String?) -> Bool {
        switch text {
        case "1", "t", "T", "true", "TRUE", "True": return true
        default: return false
        }
    }
}
