import JSONValue

/// The Mutating/ValidatingWebhookConfigurations that register the admission gate, as `manifests/base/webhooks.yaml`
/// declares them (a test keeps the two equal); the playground installs these.
public enum WebhookConfigurations {
    /// Both configurations, with `clientConfig.service` pointing at `service` in `namespace` and no `caBundle`.
    public static func all(namespace: String, service: String) -> [JSONValue] {
        func webhook(
            _ name: String,
            path: AdmissionEndpoint,
            group: String,
            resource: String,
            operations: [String],
            failurePolicy: String,
            sideEffects: String,
            timeoutSeconds: Int64 = 5,
            excluded: [String] = [],
            reinvocation: Bool = false
        ) -> JSONValue {
            var json: [String: JSONValue] = [
                "name": .string(name),
                "clientConfig": [
                    "service": [
                        "name": .string(service), "namespace": .string(namespace), "path": .string(path.rawValue),
                        "port": 443,
                    ]
                ],
                "rules": [
                    [
                        "apiGroups": [.string(group)], "apiVersions": [.string(group == "apps" ? "v1" : "v1beta1")],
                        "resources": [.string(resource)], "operations": .array(operations.map { .string($0) }),
                        "scope": "Namespaced",
                    ]
                ],
                "failurePolicy": .string(failurePolicy),
                "sideEffects": .string(sideEffects),
                "admissionReviewVersions": ["v1", "v1beta1"],
                "timeoutSeconds": .int(timeoutSeconds),
                "matchPolicy": "Equivalent",
                "namespaceSelector": [
                    "matchExpressions": [
                        [
                            "key": "kubernetes.io/metadata.name", "operator": "NotIn",
                            "values": .array(([namespace] + excluded).map { .string($0) }),
                        ]
                    ]
                ],
            ]
            if reinvocation { json["reinvocationPolicy"] = "IfNeeded" }
            return .object(json)
        }
        let labels: JSONValue = ["app.kubernetes.io/name": "fledge", "app.kubernetes.io/part-of": "fledge"]
        return [
            [
                "apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
                "metadata": ["name": "fledge", "labels": labels],
                "webhooks": [
                    webhook(
                        "mutate.canaries.flagger.app",
                        path: .mutateCanary,
                        group: "flagger.app",
                        resource: "canaries",
                        operations: ["CREATE", "UPDATE"],
                        failurePolicy: "Fail",
                        sideEffects: "None",
                        reinvocation: true
                    )
                ],
            ],
            [
                "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
                "metadata": ["name": "fledge", "labels": labels],
                "webhooks": [
                    webhook(
                        "validate.canaries.flagger.app",
                        path: .validateCanary,
                        group: "flagger.app",
                        resource: "canaries",
                        operations: ["CREATE", "UPDATE"],
                        failurePolicy: "Fail",
                        sideEffects: "None"
                    ),
                    webhook(
                        "deployments.fledge.dev",
                        path: .validateDeployment,
                        group: "apps",
                        resource: "deployments",
                        operations: ["CREATE", "UPDATE", "DELETE"],
                        failurePolicy: "Ignore",
                        sideEffects: "NoneOnDryRun",
                        // Only a hint and the primaries' guard: it must never slow the control plane's own
                        // Deployments, nor any write for long when Fledge is slow.
                        timeoutSeconds: 2,
                        excluded: ["kube-system", "kube-node-lease"]
                    ),
                ],
            ],
        ]
    }
}
