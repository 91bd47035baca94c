import Foundation
import Yams

/// How to reach and authenticate to a Kubernetes API server.
public struct KubeConfig: Sendable {
    /// How the client proves who it is.
    public enum Credentials: Sendable {
        case none
        /// A fixed bearer token.
        case token(String)
        /// A token read from a file before each request, as the kubelet rotates projected service-account tokens.
        case tokenFile(String)
        /// A client certificate and key, PEM.
        case clientCertificate(certificatePEM: [UInt8], keyPEM: [UInt8])
    }

    /// `https://host:port`, without a trailing slash.
    public var server: String
    /// PEM CA bundle to verify the server with; `nil` uses the system roots.
    public var certificateAuthorityPEM: [UInt8]?
    /// Skip server verification: only when a kubeconfig says `insecure-skip-tls-verify: true`.
    public var insecureSkipTLSVerify: Bool
    public var credentials: Credentials
    /// The namespace of the current context (or the pod's, in cluster).
    public var namespace: String?

    public init(
        server: String,
        certificateAuthorityPEM: [UInt8]? = nil,
        insecureSkipTLSVerify: Bool = false,
        credentials: Credentials = .none,
        namespace: String? = nil
    ) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.credentials = credentials
        self.namespace = namespace
    }
}

/// Why a configuration could not be found or read.
public struct KubeConfigError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension KubeConfig {
    /// Where Kubernetes mounts a pod's service-account token, CA and namespace.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The configuration of a pod's service account: `KUBERNETES_SERVICE_HOST`/`PORT`, its CA and its token (re-read
    /// as it rotates).
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        directory: String = serviceAccountDirectory
    ) throws -> KubeConfig {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], let port = environment["KUBERNETES_SERVICE_PORT"]
        else {
            throw KubeConfigError("not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set")
        }
        let tokenPath = directory + "/token"
        guard FileManager.default.isReadableFile(atPath: tokenPath) else {
            throw KubeConfigError("not in a cluster: no service-account token at \(tokenPath)")
        }
        let ca = FileManager.default.contents(atPath: directory + "/ca.crt").map { Array($0) }
        let namespace = FileManager.default.contents(atPath: directory + "/namespace").map {
            String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return KubeConfig(
            server: "https://\(hostPart):\(port)",
            certificateAuthorityPEM: ca,
            credentials: .tokenFile(tokenPath),
            namespace: namespace
        )
    }

    /// Reads a kubeconfig file and takes its current context (or `context` when given).
    public static func load(kubeconfigPath path: String, context: String? = nil) throws -> KubeConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KubeConfigError("cannot read kubeconfig \(path)")
        }
        let baseDirectory = (path as NSString).deletingLastPathComponent
        return try parse(String(decoding: data, as: UTF8.self), context: context, baseDirectory: baseDirectory)
    }

    /// Parses kubeconfig YAML; relative file paths are taken from `baseDirectory`.
    public static func parse(
        _ yaml: String,
        context requested: String? = nil,
        baseDirectory: String = "."
    ) throws
        -> KubeConfig
    {
        let root: Any?
        do {
            root = try Yams.load(yaml: yaml)
        } catch {
            throw KubeConfigError("kubeconfig is not valid YAML: \(error)")
        }
        guard let config = root as? [String: Any] else { throw KubeConfigError("kubeconfig is not a mapping") }
        func named(_ list: String, _ name: String) -> [String: Any]? {
            (config[list] as? [[String: Any]])?.first { ($0["name"] as? String) == name }
        }
        guard let contextName = requested ?? (config["current-context"] as? String), !contextName.isEmpty else {
            throw KubeConfigError("kubeconfig has no current-context; pass one or run kubectl config use-context")
        }
        guard let context = named("contexts", contextName)?["context"] as? [String: Any] else {
            throw KubeConfigError("kubeconfig has no context named \"\(contextName)\"")
        }
        guard let clusterName = context["cluster"] as? String,
            let cluster = named("clusters", clusterName)?["cluster"] as? [String: Any],
            let server = cluster["server"] as? String
        else { throw KubeConfigError("context \"\(contextName)\" names no cluster with a server") }
        func file(_ path: String) throws -> [UInt8] {
            let full = path.hasPrefix("/") ? path : baseDirectory + "/" + path
            guard let data = FileManager.default.contents(atPath: full) else {
                throw KubeConfigError("cannot read \(full) named in the kubeconfig")
            }
            return Array(data)
        }
        func base64(_ text: String, _ field: String) throws -> [UInt8] {
            guard let data = Data(base64Encoded: text, options: .ignoreUnknownCharacters) else {
                throw KubeConfigError("kubeconfig field \(field) is not base64")
            }
            return Array(data)
        }
        var ca: [UInt8]?
        if let data = cluster["certificate-authority-data"] as? String {
            ca = try base64(data, "certificate-authority-data")
        } else if let path = cluster["certificate-authority"] as? String {
            ca = try file(path)
        }
        let insecure = cluster["insecure-skip-tls-verify"] as? Bool ?? false
        var credentials = Credentials.none
        let userName = context["user"] as? String
        if let userName, let user = named("users", userName)?["user"] as? [String: Any] {
            if let token = user["token"] as? String {
                credentials = .token(token)
            } else if let tokenFile = user["tokenFile"] as? String {
                credentials = .tokenFile(tokenFile.hasPrefix("/") ? tokenFile : baseDirectory + "/" + tokenFile)
            } else {
                let certificate: [UInt8]?
                let key: [UInt8]?
                if let data = user["client-certificate-data"] as? String {
                    certificate = try base64(data, "client-certificate-data")
                } else {
                    certificate = try (user["client-certificate"] as? String).map(file)
                }
                if let data = user["client-key-data"] as? String {
                    key = try base64(data, "client-key-data")
                } else {
                    key = try (user["client-key"] as? String).map(file)
                }
                if let certificate, let key {
                    credentials = .clientCertificate(certificatePEM: certificate, keyPEM: key)
                }
            }
        }
        return KubeConfig(
            server: server,
            certificateAuthorityPEM: ca,
            insecureSkipTLSVerify: insecure,
            credentials: credentials,
            namespace: context["namespace"] as? String
        )
    }

    /// The configuration a controller uses: `kubeconfigPath` if given, else in-cluster, else `$KUBECONFIG`, else
    /// `~/.kube/config`.
    public static func resolve(
        kubeconfigPath: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> KubeConfig {
        if let kubeconfigPath { return try load(kubeconfigPath: kubeconfigPath) }
        if environment["KUBERNETES_SERVICE_HOST"] != nil { return try inCluster(environment: environment) }
        if let path = environment["KUBECONFIG"]?.split(separator: ":").first {
            return try load(kubeconfigPath: String(path))
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let path = home + "/.kube/config"
        guard FileManager.default.fileExists(atPath: path) else {
            throw KubeConfigError(
                "no cluster configuration: not in a pod, no --kubeconfig, no $KUBECONFIG and no \(path)"
            )
        }
        return try load(kubeconfigPath: path)
    }
}
