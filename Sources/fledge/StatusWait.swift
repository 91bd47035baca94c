import Dashboard
import Foundation
import JSONValue
import KubeClient
import KubeModels

/// `fledge status NAME --wait`: follows one Canary with a watch until its release ends.
enum StatusWait {
    /// Waits and returns the exit status: 0 promoted or nothing to do, 1 failed or rolled back, 2 timeout or error.
    static func run(name: String, options: ClusterOptions, timeout: Duration?) async -> Int32 {
        let connection: (KubeClient, String)
        do {
            connection = try options.connect()
        } catch {
            report("fledge status: \(error)")
            return 2
        }
        let (client, namespace) = connection
        defer { Task.detached { try? await client.shutdown() } }
        let cluster = KubeClientCluster(client: client)
        return await withTaskGroup(of: Int32?.self) { group in
            group.addTask { await follow(name: name, namespace: namespace, cluster: cluster) }
            group.addTask {
                await printEvents(name: name, namespace: namespace, cluster: cluster)
                return nil
            }
            if let timeout {
                group.addTask {
                    do { try await Task.sleep(for: timeout) } catch { return nil }
                    report("fledge status: timed out after \(timeout) waiting for canary \(namespace)/\(name)")
                    return 2
                }
            }
            var code: Int32 = 2
            for await result in group {
                guard let result else { continue }
                code = result
                break
            }
            group.cancelAll()
            return code
        }
    }

    /// Watches the Canary and returns the exit status once its release ends (or an error stops the wait).
    static func follow(name: String, namespace: String, cluster: KubeClientCluster) async -> Int32 {
        let collection = APIPath.collection(
            group: "flagger.app",
            version: "v1beta1",
            plural: "canaries",
            namespace: namespace
        )
        let selector = "metadata.name=\(name)"
        var lastLine = ""
        var failures = 0
        var verdict = ReleaseVerdict.waiting
        while !Task.isCancelled {
            do {
                let (items, version) = try await cluster.list(collection, fieldSelector: selector)
                guard let canary = items.first(where: { $0["metadata", "name"]?.stringValue == name }) else {
                    report("fledge status: no Canary \"\(name)\" in namespace \(namespace)")
                    return 2
                }
                verdict = await judge(canary, cluster: cluster, lastLine: &lastLine)
                if let code = verdict.exitStatus { return finish(verdict, code: code) }
                var resourceVersion = version
                // Watches end (the server's timeout); follow on from the last version seen.
                while !Task.isCancelled {
                    var ended: JSONValue?
                    try await cluster.watch(collection, resourceVersion: resourceVersion, fieldSelector: selector) {
                        event in
                        if let next = event.object["metadata", "resourceVersion"]?.stringValue {
                            resourceVersion = next
                        }
                        guard event.object["metadata", "name"]?.stringValue == name else { return }
                        if event.kind == .deleted { ended = event.object }
                        guard event.kind == .added || event.kind == .modified, ended == nil else { return }
                        verdict = await judge(event.object, cluster: cluster, lastLine: &lastLine)
                        if verdict.exitStatus != nil { throw Finished() }
                    }
                    if ended != nil {
                        report("fledge status: canary \(namespace)/\(name) was deleted")
                        return 2
                    }
                    failures = 0
                }
            } catch is Finished {
                return finish(verdict, code: nil)
            } catch let error as ClusterError where error.kind == .gone {
                continue
            } catch let error as ClusterError where error.kind == .forbidden || error.kind == .unauthorized {
                report(
                    "fledge status: \(error.kind == .forbidden ? "Forbidden (403)" : "Unauthorized (401)"): \(error.message)"
                )
                return 2
            } catch is CancellationError {
                return 2
            } catch {
                failures += 1
                if failures >= 5 {
                    report("fledge status: \(error)")
                    return 2
                }
                do { try await Task.sleep(for: .seconds(failures)) } catch { return 2 }
            }
        }
        return 2
    }

    /// Thrown from the watch's handler to stop it once the release ended.
    struct Finished: Error {}

    /// Prints a status line when the release moved, and returns the verdict.
    static func judge(_ canary: JSONValue, cluster: KubeClientCluster, lastLine: inout String) async -> ReleaseVerdict {
        let line = StatusCommand.line(canary, lastEvent: "")
        if line != lastLine {
            say(line.trimmingCharacters(in: .whitespaces))
            lastLine = line
        }
        let phase = canary["status", "phase"]?.stringValue
        let terminal = ["Succeeded", "Failed", "Initialized"].contains(phase ?? "")
        let pending = terminal ? await ReleaseWait.pendingRevision(canary, cluster: cluster) : nil
        let conditions = canary["status", "conditions"]?.arrayValue ?? []
        let message = conditions.first { $0["type"]?.stringValue == "Promoted" }?["message"]?.stringValue
        return ReleaseWait.verdict(phase: phase, pendingRevision: pending, message: message)
    }

    static func finish(_ verdict: ReleaseVerdict, code: Int32?) -> Int32 {
        switch verdict {
        case .succeeded(let text): say("release ended: \(text)")
        case .failed(let text): say("release ended: \(text)")
        case .waiting: break
        }
        return code ?? verdict.exitStatus ?? 2
    }

    /// Prints each new Event about the Canary as it is recorded.
    static func printEvents(name: String, namespace: String, cluster: KubeClientCluster) async {
        let collection = APIPath.collection(group: "", version: "v1", plural: "events", namespace: namespace)
        let selector = "involvedObject.kind=Canary,involvedObject.name=\(name)"
        var resourceVersion: String?
        while !Task.isCancelled {
            do {
                if resourceVersion == nil {
                    resourceVersion = try await cluster.list(collection, fieldSelector: selector).resourceVersion
                }
                try await cluster.watch(collection, resourceVersion: resourceVersion, fieldSelector: selector) {
                    event in
                    if let next = event.object["metadata", "resourceVersion"]?.stringValue { resourceVersion = next }
                    guard event.kind == .added || event.kind == .modified,
                        event.object["involvedObject", "name"]?.stringValue == name,
                        let message = event.object["message"]?.stringValue
                    else { return }
                    let warning = event.object["type"]?.stringValue == "Warning"
                    say("  \(warning ? "warning" : "event"): \(message)")
                }
            } catch let error as ClusterError where error.kind == .gone {
                resourceVersion = nil
            } catch {
                // Events are extra: without them the wait still ends on the Canary's status.
                do { try await Task.sleep(for: .seconds(2)) } catch { return }
            }
        }
    }

    /// Writes a line to standard output at once (a CI log shows progress as it happens).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func report(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}
