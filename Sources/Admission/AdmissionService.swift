import CanaryModel
import JSONValue
import KubeModels
import Logging

/// The webhooks the gate serves, by URL path.
public enum AdmissionEndpoint: String, Sendable, CaseIterable {
    case mutateCanary = "/mutate-flagger-app-v1beta1-canary"
    case validateCanary = "/validate-flagger-app-v1beta1-canary"
    case validateDeployment = "/validate-apps-v1-deployment"

    /// The endpoint for a request path, ignoring the query string the API server appends (`?timeout=10s`).
    public init?(path: String) {
        let bare = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        self.init(rawValue: String(bare))
    }

    /// A short label for metrics.
    public var label: String {
        switch self {
        case .mutateCanary: return "mutate-canary"
        case .validateCanary: return "validate-canary"
        case .validateDeployment: return "validate-deployment"
        }
    }
}

/// What the gate answers: an HTTP status and a JSON body.
public struct AdmissionHTTPResponse: Sendable {
    public var status: Int
    public var body: [UInt8]
    /// `allowed`, `denied`, `patched` or `error`, for metrics and logs.
    public var verdict: String

    public init(status: Int, body: [UInt8], verdict: String) {
        self.status = status
        self.body = body
        self.verdict = verdict
    }
}

/// The admission gate without its transport: decodes an AdmissionReview, routes it to the Canary mutator, the Canary
/// validator or the Deployment guard, and encodes the answer in the request's API version.
///
/// Every input gets an answer: malformed bodies are answered 400 with a message naming what is wrong; nothing here
/// throws or traps on input.
public struct AdmissionService: Sendable {
    public let configuration: AdmissionConfiguration
    public let cluster: (any ClusterView)?
    public let hints: ReleaseHints
    let logger: Logger
    let defaulter: CanaryDefaulter
    let validator = CanaryValidator()

    public init(
        configuration: AdmissionConfiguration = AdmissionConfiguration(),
        cluster: (any ClusterView)? = nil,
        hints: ReleaseHints = ReleaseHints(),
        logger: Logger = Logger(label: "fledge.admission", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.configuration = configuration
        self.cluster = cluster
        self.hints = hints
        self.logger = logger
        self.defaulter = CanaryDefaulter(defaultProvider: configuration.defaultProvider)
    }

    /// Answers one admission request already routed to `endpoint`.
    public func handle(endpoint: AdmissionEndpoint, body: some Collection<UInt8>) async -> AdmissionHTTPResponse {
        let review: JSONValue
        do {
            review = try JSONValue(parsing: body)
        } catch {
            return Self.badRequest("request body is not JSON: \(error)")
        }
        let apiVersion = review["apiVersion"]?.stringValue ?? ""
        guard AdmissionReview.supportedVersions.contains(apiVersion) else {
            return Self.badRequest(
                "expected an AdmissionReview of apiVersion admission.k8s.io/v1 or admission.k8s.io/v1beta1, "
                    + "got apiVersion \(JSONValue.string(apiVersion).serialized())"
            )
        }
        guard review["kind"] == "AdmissionReview" else {
            return Self.badRequest("expected kind AdmissionReview, got \((review["kind"] ?? .null).serialized())")
        }
        guard let requestJSON = review["request"], case .object = requestJSON else {
            return Self.badRequest("AdmissionReview has no request object")
        }
        let request: AdmissionRequest
        do {
            request = try JSONValueDecoder().decode(AdmissionRequest.self, from: requestJSON)
        } catch let error as DecodingError {
            return Self.badRequest("AdmissionReview request.\(error.fieldPath): \(error.problem)")
        } catch {
            return Self.badRequest("AdmissionReview request is malformed: \(error)")
        }
        guard !request.uid.isEmpty else { return Self.badRequest("AdmissionReview request.uid is empty") }

        var response: AdmissionResponse
        switch endpoint {
        case .mutateCanary: response = mutateCanary(request)
        case .validateCanary: response = await validateCanary(request)
        case .validateDeployment: response = await guardDeployment(request)
        }
        response.uid = request.uid
        if let warnings = response.warnings {
            response.warnings = limited(warnings)
        }
        let verdict = !response.allowed ? "denied" : (response.patch != nil ? "patched" : "allowed")
        do {
            let answer: JSONValue = [
                "apiVersion": .string(apiVersion), "kind": "AdmissionReview", "response": try Self.json(response),
            ]
            return AdmissionHTTPResponse(status: 200, body: answer.serializedBytes(), verdict: verdict)
        } catch {
            return Self.failure(500, "could not encode the AdmissionReview response: \(error)")
        }
    }

    /// The response as JSON, built directly: it is written once per review.
    static func json(_ response: AdmissionResponse) throws -> JSONValue {
        var members: [String: JSONValue] = ["uid": .string(response.uid), "allowed": .bool(response.allowed)]
        if let status = response.status { members["status"] = try JSONValueEncoder().encode(status) }
        if let patch = response.patch { members["patch"] = .string(patch) }
        if let patchType = response.patchType { members["patchType"] = .string(patchType) }
        if let warnings = response.warnings { members["warnings"] = .array(warnings.map { .string($0) }) }
        if let annotations = response.auditAnnotations {
            members["auditAnnotations"] = .object(annotations.mapValues { .string($0) })
        }
        return .object(members)
    }

    /// At most ``AdmissionConfiguration/maximumWarnings`` warnings, each clipped, the last one counting the rest;
    /// `nil` for none.
    func limited(_ warnings: [String]) -> [String]? {
        guard !warnings.isEmpty else { return nil }
        let limit = max(configuration.maximumWarnings, 1)
        guard warnings.count > limit else { return warnings.map(clip) }
        return warnings.prefix(limit - 1).map(clip) + ["and \(warnings.count - limit + 1) more warnings"]
    }

    func clip(_ warning: String) -> String {
        let limit = configuration.maximumWarningLength
        let printable = String(warning.unicodeScalars.map { $0.value < 0x20 ? " " : Character($0) })
        guard printable.count > limit else { return printable }
        return String(printable.prefix(limit - 1)) + "…"
    }

    /// A 400 answer whose body is a `Status` carrying `message`.
    public static func badRequest(_ message: String) -> AdmissionHTTPResponse { failure(400, message) }

    /// An error answer whose body is a `Status` carrying `message`.
    public static func failure(_ code: Int, _ message: String) -> AdmissionHTTPResponse {
        let reason: String
        switch code {
        case 400: reason = "BadRequest"
        case 404: reason = "NotFound"
        case 405: reason = "MethodNotAllowed"
        case 413: reason = "RequestEntityTooLarge"
        case 415: reason = "UnsupportedMediaType"
        case 503: reason = "ServiceUnavailable"
        default: reason = "InternalError"
        }
        let status = Status(message: message, reason: reason, code: code)
        let body = (try? JSONValueEncoder().encode(status))?.serializedBytes() ?? Array(message.utf8)
        return AdmissionHTTPResponse(status: code, body: body, verdict: "error")
    }

    static func deny(
        _ message: String,
        code: Int = 403,
        causes: [FieldError] = [],
        warnings: [String] = []
    )
        -> AdmissionResponse
    {
        var status = Status(message: message, reason: code == 403 ? "Forbidden" : "Invalid", code: code)
        if !causes.isEmpty {
            status.details = StatusDetails(
                causes: causes.prefix([FieldError].reportedLimit).map {
                    StatusCause(reason: $0.kind.rawValue, message: $0.causeMessage, field: $0.field)
                }
            )
        }
        return AdmissionResponse(uid: "", allowed: false, status: status, warnings: warnings.isEmpty ? nil : warnings)
    }

    static func allow(warnings: [String] = []) -> AdmissionResponse {
        AdmissionResponse(uid: "", allowed: true, warnings: warnings.isEmpty ? nil : warnings)
    }
}
