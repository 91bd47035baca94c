import CanaryModel
import Foundation
import JSONValue
import KubeModels
import Logging

extension AdmissionService {
    static let canaryKind = GroupVersionKind(group: "flagger.app", version: "v1beta1", kind: "Canary")

    func wrongKind(_ request: AdmissionRequest, expected: String) -> AdmissionResponse? {
        let kind = request.kind
        guard kind.group != "flagger.app" || kind.kind != "Canary" else { return nil }
        let got = kind.group.isEmpty ? "\(kind.version) \(kind.kind)" : "\(kind.group)/\(kind.version) \(kind.kind)"
        return Self.deny(
            "this endpoint admits \(expected), not \(got); check the rules of the webhook configuration",
            code: 400
        )
    }

    /// Adds Flagger's defaults to a Canary being created or updated (the mutating webhook).
    func mutateCanary(_ request: AdmissionRequest) -> AdmissionResponse {
        if let wrong = wrongKind(request, expected: "flagger.app/v1beta1 Canary") { return wrong }
        guard request.operation == .create || request.operation == .update, let object = request.object else {
            return Self.allow()
        }
        let defaulted = defaulter.defaulted(object)
        // Refuse here, before the API server's schema check, so the user sees every problem with its fix at once.
        let oldObject = request.operation == .update ? request.oldObject.map(defaulter.defaulted) : nil
        let report = validator.validate(defaulted, oldObject: oldObject)
        guard report.isValid else { return denial(report, object: object, request: request) }
        let patch = JSONPatch.diff(from: object, to: defaulted)
        guard !patch.isEmpty else { return Self.allow() }
        var response = Self.allow()
        response.patch = Base64.encode(patch.serializedBytes())
        response.patchType = "JSONPatch"
        return response
    }

    /// Validates a Canary being created or updated (the validating webhook).
    func validateCanary(_ request: AdmissionRequest) async -> AdmissionResponse {
        if let wrong = wrongKind(request, expected: "flagger.app/v1beta1 Canary") { return wrong }
        guard request.operation == .create || request.operation == .update else { return Self.allow() }
        guard let object = request.object else {
            return Self.deny("the request has no object to validate", code: 400)
        }
        // Validate what the controller will act on: the object with the defaults it would read in for absent fields.
        let oldObject = request.operation == .update ? request.oldObject.map(defaulter.defaulted) : nil
        var report = validator.validate(defaulter.defaulted(object), oldObject: oldObject)
        let name = object["metadata", "name"]?.stringValue ?? request.name ?? ""
        let namespace = request.namespace ?? object["metadata", "namespace"]?.stringValue ?? ""
        if report.isValid, let cluster, let canary = report.canary {
            await checkAgainstCluster(canary, name: name, namespace: namespace, cluster: cluster, report: &report)
        }
        guard report.isValid else { return denial(report, object: object, request: request) }
        return Self.allow(warnings: report.warnings)
    }

    func denial(_ report: ValidationReport, object: JSONValue, request: AdmissionRequest) -> AdmissionResponse {
        let name = object["metadata", "name"]?.stringValue ?? request.name ?? ""
        let namespace = request.namespace ?? object["metadata", "namespace"]?.stringValue ?? ""
        logger.info("denied Canary", metadata: ["canary": "\(name).\(namespace)", "errors": "\(report.errors.count)"])
        let message = "Canary.flagger.app \"\(name)\" is invalid: \(report.errors.aggregateDescription)"
        return Self.deny(message, causes: report.errors, warnings: report.warnings)
    }

    /// The checks that need the cluster: one Canary per workload (deny); a target, MetricTemplate or AlertProvider not
    /// there yet (warn, since it may arrive later in the same apply). A cluster that cannot be asked is a warning.
    func checkAgainstCluster(
        _ canary: Canary,
        name: String,
        namespace: String,
        cluster: any ClusterView,
        report: inout ValidationReport
    ) async {
        let target = canary.spec.targetRef
        let kind = target.kind ?? "Deployment"
        do {
            let others = try await cluster.canaries(in: namespace)
            if let other = others.first(where: {
                $0.name != name && $0.targetName == target.name && $0.targetKind == kind
            }) {
                report.errors.append(
                    .invalid(
                        "spec.targetRef.name",
                        .string(target.name),
                        "\(kind) \(target.name) is already released by Canary \"\(other.name)\"; "
                            + "a workload can have only one Canary"
                    )
                )
            }
            if try await !cluster.exists(kind: kind, namespace: namespace, name: target.name) {
                report.warnings.append(
                    "\(kind) \(namespace)/\(target.name) does not exist yet; the canary waits for it"
                )
            }
            let analysis = canary.spec.effectiveAnalysis
            for metric in analysis?.metrics ?? [] {
                guard let ref = metric.templateRef else { continue }
                let templateNamespace = ref.namespace ?? namespace
                if try await !cluster.exists(kind: MetricTemplate.kind, namespace: templateNamespace, name: ref.name) {
                    report.warnings.append(
                        "MetricTemplate \(templateNamespace)/\(ref.name) (metric \(metric.name)) does not exist yet"
                    )
                }
            }
            for alert in analysis?.alerts ?? [] {
                let providerNamespace = alert.providerRef.namespace ?? namespace
                let providerName = alert.providerRef.name
                if try await !cluster.exists(kind: AlertProvider.kind, namespace: providerNamespace, name: providerName)
                {
                    report.warnings.append(
                        "AlertProvider \(providerNamespace)/\(providerName) (alert \(alert.name)) does not exist yet"
                    )
                }
            }
        } catch {
            logger.warning("cluster checks skipped", metadata: ["canary": "\(name).\(namespace)", "error": "\(error)"])
            report.warnings.append("cluster checks skipped: \(error)")
        }
    }
}

/// Standard base64 (RFC 4648), as Kubernetes expects for `patch`.
public enum Base64 {
    public static func encode(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    /// Decodes standard base64; `nil` for anything that is not.
    public static func decode(_ text: String) -> [UInt8]? { Data(base64Encoded: text).map { Array($0) } }
}
