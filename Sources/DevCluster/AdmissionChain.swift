import AsyncHTTPClient
import Foundation
import JSONValue
import KubeModels
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// kube-apiserver's admission plugins for webhooks: finds the webhooks of the stored
/// Mutating/ValidatingWebhookConfigurations that match a write, calls them over HTTPS trusting their `caBundle`,
/// applies patches, and turns denials and failures into the errors kube-apiserver returns.
final class AdmissionChain: Sendable {
    typealias Resolver = @Sendable (String, String, Int) -> (host: String, port: Int)?

    let resolver: Resolver
    let users: [String: String]
    let logger: Logger
    private let clients = Mutex<[String: HTTPClient]>([:])

    init(resolver: @escaping Resolver, users: [String: String], logger: Logger) {
        self.resolver = resolver
        self.users = users
        self.logger = logger
    }

    func shutdown() async {
        let all = clients.withLock { clients in
            let all = Array(clients.values)
            clients = [:]
            return all
        }
        for client in all { try? await client.shutdown() }
    }

    /// Runs the matching mutating webhooks in name order; returns the patched object and the warnings.
    func admit(
        cluster: DevCluster,
        type: ResourceType,
        operation: WriteOperation,
        subresource: String?,
        object: JSONValue,
        old: JSONValue?,
        request: APIRequest
    ) async throws -> (JSONValue, [String]) {
        var object = object
        var warnings: [String] = []
        for webhook in webhooks(cluster, mutating: true) {
            guard matches(webhook, cluster, type, operation, subresource, object, old) else { continue }
            guard let response = try await call(webhook, type, operation, subresource, object, old, request) else {
                continue
            }
            warnings += response.warnings
            if let patch = response.patch {
                do {
                    object = try patch.apply(to: object)
                } catch {
                    throw APIError.internalError(
                        "failed calling webhook \"\(webhook.name)\": the webhook's JSON patch does not apply: \(error.message)"
                    )
                }
            }
        }
        return (object, warnings)
    }

    /// Runs the matching validating webhooks; returns their warnings or throws the first denial.
    func validate(
        cluster: DevCluster,
        type: ResourceType,
        operation: WriteOperation,
        subresource: String?,
        object: JSONValue?,
        old: JSONValue?,
        request: APIRequest
    ) async throws -> [String] {
        var warnings: [String] = []
        for webhook in webhooks(cluster, mutating: false) {
            guard matches(webhook, cluster, type, operation, subresource, object ?? old ?? [:], old) else { continue }
            if let response = try await call(webhook, type, operation, subresource, object, old, request) {
                warnings += response.warnings
            }
        }
        return warnings
    }

    struct Webhook {
        var name: String
        var configuration: String
        var json: JSONValue
    }

    func webhooks(_ cluster: DevCluster, mutating: Bool) -> [Webhook] {
        let bucket =
            "admissionregistration.k8s.io/"
            + (mutating ? "mutatingwebhookconfigurations" : "validatingwebhookconfigurations")
        let (configurations, _) = cluster.store.list(resource: bucket, namespace: "")
        return configurations.flatMap { configuration in
            (configuration["webhooks"]?.arrayValue ?? []).map {
                Webhook(
                    name: $0["name"]?.stringValue ?? "",
                    configuration: configuration["metadata", "name"]?.stringValue ?? "",
                    json: $0
                )
            }
        }
    }

    // MARK: - Matching

    func matches(
        _ webhook: Webhook,
        _ cluster: DevCluster,
        _ type: ResourceType,
        _ operation: WriteOperation,
        _ subresource: String?,
        _ object: JSONValue,
        _ old: JSONValue?
    ) -> Bool {
        if type.group == "admissionregistration.k8s.io" { return false }
        let resource = subresource.map { "\(type.resource)/\($0)" } ?? type.resource
        let ruleMatches = (webhook.json["rules"]?.arrayValue ?? []).contains { rule in
            func has(_ member: String, _ value: String) -> Bool {
                (rule[member]?.arrayValue ?? []).contains { $0.stringValue == value || $0.stringValue == "*" }
            }
            let resources = (rule["resources"]?.arrayValue ?? []).compactMap(\.stringValue)
            let resourceMatches = resources.contains { pattern in
                pattern == "*/*" || pattern == resource || (pattern == "*" && subresource == nil)
                    || (pattern == "\(type.resource)/*" && subresource != nil)
                    || (pattern.hasPrefix("*/") && subresource == String(pattern.dropFirst(2)))
            }
            let scope = rule["scope"]?.stringValue ?? "*"
            let scopeMatches = scope == "*" || (scope == "Namespaced") == type.namespaced
            return has("operations", operation.rawValue) && has("apiGroups", type.group)
                && has("apiVersions", type.version) && resourceMatches && scopeMatches
        }
        guard ruleMatches else { return false }
        if let selector = webhook.json["objectSelector"], let parsed = try? LabelSelector(json: selector),
            !parsed.matches(object.labels), !(old.map { parsed.matches($0.labels) } ?? false)
        {
            return false
        }
        if let selector = webhook.json["namespaceSelector"], let parsed = try? LabelSelector(json: selector) {
            let labels: [String: String]
            if type.resource == "namespaces", type.group.isEmpty {
                labels = object.labels
            } else if type.namespaced, let namespace = object["metadata", "namespace"]?.stringValue {
                labels =
                    cluster.store.get(ObjectKey(resource: "namespaces", namespace: "", name: namespace))?.labels ?? [:]
            } else {
                return true
            }
            if !parsed.matches(labels) { return false }
        }
        return true
    }

    // MARK: - Calling

    struct Answer {
        var patch: JSONPatch?
        var warnings: [String]
    }

    /// Calls one webhook; nil when it failed and its failure policy says to ignore that.
    func call(
        _ webhook: Webhook,
        _ type: ResourceType,
        _ operation: WriteOperation,
        _ subresource: String?,
        _ object: JSONValue?,
        _ old: JSONValue?,
        _ request: APIRequest
    ) async throws -> Answer? {
        let failOpen = webhook.json["failurePolicy"]?.stringValue == "Ignore"
        let sideEffects = webhook.json["sideEffects"]?.stringValue ?? "Unknown"
        if request.isDryRun, sideEffects != "None", sideEffects != "NoneOnDryRun" {
            throw APIError.badRequest("admission webhook \"\(webhook.name)\" does not support dry run")
        }
        let timeout = webhook.json["timeoutSeconds"]?.intValue ?? 10
        let versions = (webhook.json["admissionReviewVersions"]?.arrayValue ?? []).compactMap(\.stringValue)
        let reviewVersion = versions.contains("v1") ? "v1" : versions.first ?? "v1"
        let uid = UUID().uuidString.lowercased()
        var review: [String: JSONValue] = [
            "uid": .string(uid),
            "kind": ["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)],
            "resource": [
                "group": .string(type.group), "version": .string(type.version), "resource": .string(type.resource),
            ],
            "requestKind": [
                "group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind),
            ],
            "requestResource": [
                "group": .string(type.group), "version": .string(type.version), "resource": .string(type.resource),
            ],
            "name": (object ?? old)?["metadata", "name"] ?? "",
            "operation": .string(operation.rawValue),
            "userInfo": userInfo(request),
            "object": object ?? .null,
            "oldObject": old ?? .null,
            "dryRun": .bool(request.isDryRun),
            "options": .object(options(operation, request)),
        ]
        if let namespace = (object ?? old)?["metadata", "namespace"], type.namespaced {
            review["namespace"] = namespace
        }
        if let subresource { review["subResource"] = .string(subresource) }
        let body: JSONValue = [
            "apiVersion": .string("admission.k8s.io/\(reviewVersion)"), "kind": "AdmissionReview",
            "request": .object(review),
        ]
        let url: String
        do {
            url = try endpoint(webhook)
        } catch let error as APIError {
            if failOpen { return nil }
            throw error
        }
        let answer: JSONValue
        do {
            answer = try await post(url, webhook: webhook, body: body, timeout: timeout)
        } catch {
            logger.warning("webhook call failed", metadata: ["webhook": "\(webhook.name)", "error": "\(error)"])
            if failOpen { return nil }
            throw APIError.internalError(
                "failed calling webhook \"\(webhook.name)\": failed to call webhook: Post \"\(url)?timeout=\(timeout)s\": \(error)"
            )
        }
        guard let response = answer["response"], response["uid"]?.stringValue == uid else {
            if failOpen { return nil }
            throw APIError.internalError(
                "failed calling webhook \"\(webhook.name)\": received invalid webhook response: expected response.uid=\"\(uid)\""
            )
        }
        let warnings = (response["warnings"]?.arrayValue ?? []).compactMap(\.stringValue)
        guard response["allowed"]?.boolValue == true else {
            throw Self.denial(webhook.name, response["status"])
        }
        var patch: JSONPatch?
        if let encoded = response["patch"]?.stringValue {
            guard let data = Data(base64Encoded: encoded), let document = try? JSONValue(parsing: Array(data)),
                let parsed = try? JSONPatch(json: document)
            else {
                throw APIError.internalError(
                    "failed calling webhook \"\(webhook.name)\": the patch is not a base64 JSON patch"
                )
            }
            patch = parsed
        }
        return Answer(patch: patch, warnings: warnings)
    }

    /// A denial as kube-apiserver reports it: the webhook's status, its message prefixed by who denied it.
    static func denial(_ name: String, _ result: JSONValue?) -> APIError {
        var code = Int(result?["code"]?.intValue ?? 0)
        if code < 400 { code = 400 }
        let deniedBy = "admission webhook \"\(name)\" denied the request"
        let message: String
        if let text = result?["message"]?.stringValue, !text.isEmpty {
            message = "\(deniedBy): \(text)"
        } else if let reason = result?["reason"]?.stringValue, !reason.isEmpty {
            message = "\(deniedBy): \(reason)"
        } else {
            message = "\(deniedBy) without explanation"
        }
        var details: StatusDetails?
        if let json = result?["details"] {
            details = StatusDetails(
                name: json["name"]?.stringValue,
                group: json["group"]?.stringValue,
                kind: json["kind"]?.stringValue,
                causes: json["causes"]?.arrayValue?.map {
                    StatusCause(
                        reason: $0["reason"]?.stringValue,
                        message: $0["message"]?.stringValue,
                        field: $0["field"]?.stringValue
                    )
                }
            )
        }
        return APIError(code: code, reason: result?["reason"]?.stringValue ?? "", message: message, details: details)
    }

    /// The requester as kube-apiserver's authenticator would name it.
    func userInfo(_ request: APIRequest) -> JSONValue {
        let header = request.headers["authorization"] ?? ""
        let token = header.hasPrefix("Bearer ") ? String(header.dropFirst(7)) : ""
        if let user = users[token] {
            let groups: [JSONValue] =
                user.hasPrefix("system:serviceaccount:")
                ? [
                    "system:serviceaccounts",
                    .string("system:serviceaccounts:\(user.split(separator: ":").dropFirst(2).first ?? "")"),
                    "system:authenticated",
                ]
                : ["system:authenticated"]
            return ["username": .string(user), "groups": .array(groups)]
        }
        return ["username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]]
    }

    func options(_ operation: WriteOperation, _ request: APIRequest) -> [String: JSONValue] {
        var options: [String: JSONValue] = [
            "kind": .string(
                operation == .create ? "CreateOptions" : operation == .update ? "UpdateOptions" : "DeleteOptions"
            ),
            "apiVersion": "meta.k8s.io/v1",
        ]
        if let manager = request.query["fieldManager"] { options["fieldManager"] = .string(manager) }
        if request.isDryRun { options["dryRun"] = ["All"] }
        return options
    }

    /// The URL a webhook is called at: its `url`, or its service resolved to a local address.
    func endpoint(_ webhook: Webhook) throws -> String {
        let config = webhook.json["clientConfig"] ?? [:]
        if let url = config["url"]?.stringValue { return url }
        guard let service = config["service"], let name = service["name"]?.stringValue,
            let namespace = service["namespace"]?.stringValue
        else {
            throw APIError.internalError(
                "failed calling webhook \"\(webhook.name)\": clientConfig has neither url nor service"
            )
        }
        let port = Int(service["port"]?.intValue ?? 443)
        let path = service["path"]?.stringValue ?? "/"
        guard let resolved = resolver(namespace, name, port) else {
            throw APIError.internalError(
                "failed calling webhook \"\(webhook.name)\": failed to call webhook: service \"\(namespace)/\(name)\" "
                    + "is not known to the embedded cluster"
            )
        }
        return "https://\(name).\(namespace).svc:\(resolved.port)\(path)#\(resolved.host)"
    }

    func post(_ target: String, webhook: Webhook, body: JSONValue, timeout: Int64) async throws -> JSONValue {
        var url = target
        var override: String?
        if let hash = target.lastIndex(of: "#") {
            override = String(target[target.index(after: hash)...])
            url = String(target[..<hash])
        }
        let caBundle = webhook.json["clientConfig", "caBundle"]?.stringValue ?? ""
        let client = try client(caBundle: caBundle, url: url, override: override)
        var request = HTTPClientRequest(url: url + (url.contains("?") ? "&" : "?") + "timeout=\(timeout)s")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json, */*")
        request.body = .bytes(ByteBuffer(bytes: body.serializedBytes()))
        let response = try await client.execute(request, timeout: .seconds(timeout))
        let bytes = try await response.body.collect(upTo: 8 << 20)
        guard response.status == .ok else {
            throw WebhookCallError(description: "the server responded with HTTP \(response.status.code)")
        }
        return try JSONValue(parsing: Array(bytes.readableBytesView))
    }

    struct WebhookCallError: Error, CustomStringConvertible {
        var description: String
    }

    func client(caBundle: String, url: String, override: String?) throws -> HTTPClient {
        let host = URL(string: url)?.host ?? ""
        let cacheKey = "\(caBundle)|\(host)|\(override ?? "")"
        return try clients.withLock { clients in
            if let client = clients[cacheKey] { return client }
            var tls = TLSConfiguration.makeClientConfiguration()
            if !caBundle.isEmpty {
                guard let pem = Data(base64Encoded: caBundle) else {
                    throw WebhookCallError(description: "clientConfig.caBundle is not base64")
                }
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem)))
            }
            var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
            if let override { configuration.dnsOverride = [host: override] }
            configuration.httpVersion = .http1Only
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            clients[cacheKey] = client
            return client
        }
    }
}
