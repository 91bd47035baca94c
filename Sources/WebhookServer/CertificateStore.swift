import Foundation
import Logging
import NIOSSL
import SwiftASN1
import Synchronization
import X509

/// Why the serving certificate could not be loaded.
public struct CertificateLoadError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

/// The serving certificate and key, read from `tls.crt` and `tls.key` in a directory and reloaded when they change.
///
/// Kubernetes updates a mounted Secret by swapping a symlink, so the store compares file contents rather than watching
/// inodes. Every new connection gets the context current at its accept; connections already open keep theirs, so a
/// rotation fails no request. A changed pair that does not load (say, a key that does not match) is logged and the
/// previous one kept.
public final class CertificateStore: Sendable {
    public let directory: String
    public let clientCAFile: String?
    /// Whether connections may negotiate HTTP/2 by ALPN (otherwise only HTTP/1.1 is offered).
    public let offersHTTP2: Bool
    /// The TLS versions and cipher suites offered.
    public let policy: TLSPolicy
    private let state: Mutex<State>

    struct State {
        var context: NIOSSLContext
        var configuration: TLSConfiguration
        var generation: Int
        var fingerprint: [UInt8]
        var notValidAfter: Date?
        var reloads: Int
    }

    /// Loads the certificate now; throws when it cannot, so a server never starts without one.
    public init(
        directory: String,
        clientCAFile: String? = nil,
        offersHTTP2: Bool = false,
        policy: TLSPolicy = .default
    ) throws {
        self.directory = directory
        self.clientCAFile = clientCAFile
        self.offersHTTP2 = offersHTTP2
        self.policy = policy
        let loaded = try Self.load(
            directory: directory,
            clientCAFile: clientCAFile,
            offersHTTP2: offersHTTP2,
            policy: policy
        )
        state = Mutex(
            State(
                context: loaded.context,
                configuration: loaded.configuration,
                generation: 0,
                fingerprint: loaded.fingerprint,
                notValidAfter: loaded.notValidAfter,
                reloads: 0
            )
        )
    }

    /// The TLS configuration in effect and its generation (bumped on every reload).
    public var current: (configuration: TLSConfiguration, generation: Int) {
        state.withLock { ($0.configuration, $0.generation) }
    }

    /// The TLS context for a new connection.
    public var context: NIOSSLContext { state.withLock { $0.context } }

    /// When the serving certificate expires.
    public var notValidAfter: Date? { state.withLock { $0.notValidAfter } }

    /// How many times a changed certificate has been loaded.
    public var reloadCount: Int { state.withLock { $0.reloads } }

    /// Re-reads the files; returns whether a new certificate took effect. Throws when changed files do not load.
    @discardableResult
    public func reloadIfChanged() throws -> Bool {
        let fingerprint = try Self.fingerprint(directory: directory, clientCAFile: clientCAFile)
        guard fingerprint != state.withLock({ $0.fingerprint }) else { return false }
        let loaded = try Self.load(
            directory: directory,
            clientCAFile: clientCAFile,
            offersHTTP2: offersHTTP2,
            policy: policy
        )
        state.withLock { state in
            state.context = loaded.context
            state.configuration = loaded.configuration
            state.generation += 1
            state.fingerprint = loaded.fingerprint
            state.notValidAfter = loaded.notValidAfter
            state.reloads += 1
        }
        return true
    }

    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CertificateLoadError(message: "cannot read \(path)")
        }
        return Array(data)
    }

    static func fingerprint(directory: String, clientCAFile: String?) throws -> [UInt8] {
        var bytes = try read(directory + "/tls.crt")
        bytes += [0]
        bytes += try read(directory + "/tls.key")
        if let clientCAFile {
            bytes += [0]
            bytes += try read(clientCAFile)
        }
        return bytes
    }

    static func load(
        directory: String,
        clientCAFile: String?,
        offersHTTP2: Bool,
        policy: TLSPolicy
    ) throws -> (context: NIOSSLContext, configuration: TLSConfiguration, fingerprint: [UInt8], notValidAfter: Date?) {
        let fingerprint = try fingerprint(directory: directory, clientCAFile: clientCAFile)
        let certificatePath = directory + "/tls.crt"
        let keyPath = directory + "/tls.key"
        do {
            let chain = try NIOSSLCertificate.fromPEMBytes(try read(certificatePath))
            guard !chain.isEmpty else {
                throw CertificateLoadError(message: "\(certificatePath) holds no PEM certificate")
            }
            let key = try NIOSSLPrivateKey(bytes: try read(keyPath), format: .pem)
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) },
                privateKey: .privateKey(key)
            )
            policy.apply(to: &configuration)
            configuration.applicationProtocols = offersHTTP2 ? ["h2", "http/1.1"] : ["http/1.1"]
            if let clientCAFile {
                let roots = try NIOSSLCertificate.fromPEMBytes(try read(clientCAFile))
                configuration.trustRoots = .certificates(roots)
                configuration.certificateVerification = .noHostnameVerification
            }
            let context = try NIOSSLContext(configuration: configuration)
            let leaf = try? Certificate(pemEncoded: String(decoding: try read(certificatePath), as: UTF8.self))
            return (context, configuration, fingerprint, leaf?.notValidAfter)
        } catch let error as CertificateLoadError {
            throw error
        } catch {
            throw CertificateLoadError(
                message: "cannot load the serving certificate from \(directory) (tls.crt, tls.key): \(error)"
            )
        }
    }
}
