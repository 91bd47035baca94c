import Foundation
import KubeClient
import Testing

@Suite("Kubeconfig and in-cluster configuration")
struct KubeConfigTests {
    static let kubeconfig = """
        apiVersion: v1
        kind: Config
        current-context: dev
        contexts:
        - name: dev
          context: {cluster: dev-cluster, user: dev-user, namespace: prod}
        - name: other
          context: {cluster: insecure, user: cert-user}
        clusters:
        - name: dev-cluster
          cluster:
            server: https://10.0.0.1:6443/
            certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
        - name: insecure
          cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}
        users:
        - name: dev-user
          user: {token: secret-token}
        - name: cert-user
          user:
            client-certificate-data: Y2VydA==
            client-key-data: a2V5
        """

    @Test("takes the current context's server, CA, token and namespace")
    func currentContext() throws {
        let config = try KubeConfig.parse(Self.kubeconfig)
        #expect(config.server == "https://10.0.0.1:6443")
        #expect(config.certificateAuthorityPEM == Array("-----BEGIN CERTIFICATE-----\n".utf8))
        #expect(config.namespace == "prod")
        #expect(!config.insecureSkipTLSVerify)
        guard case .token(let token) = config.credentials else {
            Issue.record("expected a token, got \(config.credentials)")
            return
        }
        #expect(token == "secret-token")
    }

    @Test("a named context with a client certificate and insecure-skip-tls-verify")
    func otherContext() throws {
        let config = try KubeConfig.parse(Self.kubeconfig, context: "other")
        #expect(config.insecureSkipTLSVerify)
        guard case .clientCertificate(let certificate, let key) = config.credentials else {
            Issue.record("expected a client certificate")
            return
        }
        #expect(certificate == Array("cert".utf8))
        #expect(key == Array("key".utf8))
    }

    @Test("relative CA files are read beside the kubeconfig")
    func relativeFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kc-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "PEM".write(toFile: directory + "/ca.pem", atomically: true, encoding: .utf8)
        try """
        current-context: c
        contexts: [{name: c, context: {cluster: k, user: u}}]
        clusters: [{name: k, cluster: {server: "https://h:1", certificate-authority: ca.pem}}]
        users: [{name: u, user: {tokenFile: token}}]
        """.write(toFile: directory + "/config", atomically: true, encoding: .utf8)
        let config = try KubeConfig.load(kubeconfigPath: directory + "/config")
        #expect(config.certificateAuthorityPEM == Array("PEM".utf8))
        guard case .tokenFile(let path) = config.credentials else {
            Issue.record("expected a token file")
            return
        }
        #expect(path == directory + "/token")
    }

    @Test(
        "broken kubeconfigs fail with a message naming the problem",
        arguments: [
            ("not: [yaml", "not valid YAML"),
            ("current-context: x\n", "no context named \"x\""),
            ("kind: Config\n", "no current-context"),
            (
                "current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\nclusters: [{name: k, cluster: {}}]\n",
                "names no cluster with a server"
            ),
        ]
    )
    func broken(_ yaml: String, _ message: String) {
        #expect {
            _ = try KubeConfig.parse(yaml)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test("in cluster: service host and port, the mounted CA, a token file re-read on each request")
    func inCluster() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sa-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "t1".write(toFile: directory + "/token", atomically: true, encoding: .utf8)
        try "CA".write(toFile: directory + "/ca.crt", atomically: true, encoding: .utf8)
        try "fledge-system\n".write(toFile: directory + "/namespace", atomically: true, encoding: .utf8)
        let config = try KubeConfig.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"],
            directory: directory
        )
        #expect(config.server == "https://[fd00::1]:443")
        #expect(config.namespace == "fledge-system")
        #expect(config.certificateAuthorityPEM == Array("CA".utf8))
        #expect(throws: KubeConfigError.self) { try KubeConfig.inCluster(environment: [:], directory: directory) }
    }
}
