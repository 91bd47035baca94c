import AsyncHTTPClient
import Foundation
import JSONValue
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing

@Suite("fledge serve", .serialized)
struct ServeCommandTests {
    static func review(uid: String) throws -> [UInt8] {
        let text = try String(
            contentsOf: Fledge.repositoryRoot.appendingPathComponent("bench/canary-review.json"),
            encoding: .utf8
        )
        var json = try JSONValue(parsing: text)
        json["request"]?["uid"] = .string(uid)
        return json.serializedBytes()
    }

    static func client(ca: String) throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: .init(tlsConfiguration: tls))
    }

    static func waitUntilReady(_ client: HTTPClient, port: Int) async throws {
        for _ in 0..<100 {
            if let response = try? await client.execute(
                HTTPClientRequest(url: "https://127.0.0.1:\(port)/readyz"),
                timeout: .seconds(2)
            ), response.status == .ok {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw POSIXError(.ETIMEDOUT)
    }

    @Test("SIGTERM: the request in flight completes, then the process exits 0")
    func sigterm() async throws {
        let directory = try Fledge.temporaryDirectory()
        #expect(try Fledge.run(["certs", "--out-dir", directory, "--ip-address", "127.0.0.1"]).status == 0)
        let port = Fledge.freePort()
        let (process, _) = try Fledge.start([
            "serve", "--admission-only", "--listen", "127.0.0.1:\(port)", "--tls-cert-dir", directory,
            "--metrics-listen", "127.0.0.1:0", "--drain-delay", "1s",
        ])
        let client = try Self.client(ca: directory + "/ca.crt")
        do {
            try await Self.waitUntilReady(client, port: port)
            let body = try Self.review(uid: "sigterm")
            let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
            var request = HTTPClientRequest(url: "https://127.0.0.1:\(port)/mutate-flagger-app-v1beta1-canary")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .stream(stream, length: .known(Int64(body.count)))
            continuation.yield(ByteBuffer(bytes: body.prefix(64)))
            let inFlight = Task { () -> (UInt, [UInt8]) in
                let response = try await client.execute(request, timeout: .seconds(20))
                return (response.status.code, Array(try await response.body.collect(upTo: 1 << 20).readableBytesView))
            }
            try await Task.sleep(for: .milliseconds(300))
            kill(process.processIdentifier, SIGTERM)
            try await Task.sleep(for: .milliseconds(300))
            #expect(process.isRunning)
            continuation.yield(ByteBuffer(bytes: body.dropFirst(64)))
            continuation.finish()
            let (status, answer) = try await inFlight.value
            #expect(status == 200)
            #expect(try JSONValue(parsing: answer)["response", "uid"] == "sigterm")
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
        } catch {
            process.terminate()
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    @Test("without --admission-only and no reachable cluster it exits 1 and says how to proceed")
    func noCluster() throws {
        let directory = try Fledge.temporaryDirectory()
        let kubeconfig = directory + "/kubeconfig"
        try """
        apiVersion: v1
        kind: Config
        current-context: dead
        contexts: [{name: dead, context: {cluster: dead, user: u}}]
        clusters: [{name: dead, cluster: {server: "https://127.0.0.1:1"}}]
        users: [{name: u, user: {token: abc}}]
        """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        let result = try Fledge.run(["serve", "--kubeconfig", kubeconfig, "--tls-cert-dir", directory])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot reach the Kubernetes API at https://127.0.0.1:1"))
        #expect(result.stderr.contains("--admission-only"))
    }

    @Test("a missing certificate stops it with the command that makes one")
    func noCertificate() throws {
        let result = try Fledge.run([
            "serve", "--admission-only", "--tls-cert-dir", "/nonexistent", "--listen", "127.0.0.1:0",
        ])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot read /nonexistent/tls.crt"))
        #expect(result.stderr.contains("fledge certs --out-dir /nonexistent"))
    }

    @Test(
        "flags are checked before anything starts",
        arguments: [
            (["serve", "--default-provider", "istio"], "--default-provider istio is not driven by Fledge"),
            (["serve", "--listen", "nonsense"], "must be HOST:PORT"),
        ]
    )
    func badFlags(_ arguments: [String], _ message: String) throws {
        let result = try Fledge.run(arguments)
        #expect(result.status != 0)
        #expect(result.stderr.contains(message))
    }
}

@Suite("fledge crds and version")
struct OtherCommandTests {
    @Test("crds prints the four CRDs the manifests hold")
    func crds() throws {
        let result = try Fledge.run(["crds"])
        #expect(result.status == 0)
        for name in [
            "canaries.flagger.app", "metrictemplates.flagger.app", "alertproviders.flagger.app",
            "trafficsplits.split.smi-spec.io",
        ] {
            #expect(result.stdout.contains("name: \(name)"))
        }
        let directory = try Fledge.temporaryDirectory() + "/nested/crds"
        #expect(try Fledge.run(["crds", "--out-dir", directory]).status == 0)
        let written = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(written == ["alertprovider.yaml", "canary.yaml", "metrictemplate.yaml", "trafficsplit.yaml"])
        for file in written {
            let mine = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            let committed = try String(
                contentsOf: Fledge.repositoryRoot.appendingPathComponent("manifests/crds/" + file),
                encoding: .utf8
            )
            #expect(
                mine == committed,
                "manifests/crds/\(file) is stale: run swift run fledge crds --out-dir manifests/crds"
            )
        }
    }

    @Test("version and help name the commands")
    func help() throws {
        #expect(try Fledge.run(["version"]).stdout.hasPrefix("fledge 0.1.0"))
        let help = try Fledge.run(["--help"]).stdout
        for command in ["serve", "certs", "validate", "crds", "version"] { #expect(help.contains(command)) }
    }
}
