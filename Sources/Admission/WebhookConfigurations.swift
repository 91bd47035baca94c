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
                "timeoutSeconds": 5,
                "matchPolicy": "Equivalent",
                "namespaceSelector": [
                    "matchExpressions": [
                        ["key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": [.string(namespace)]]
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
                        sideEffects: "NoneOnDryRun"
                    ),
                ],
            ],
        ]
    }
}
