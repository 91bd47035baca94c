import JSONValue
import KubeModels
import Synchronization

/// The defaulting and validation kube-apiserver applies to the built-in kinds, as far as the workloads Fledge
/// touches can tell.
enum BuiltinObjects {
    static func defaulted(_ type: ResourceType, _ object: JSONValue, cluster: DevCluster) -> JSONValue {
        guard !type.isCustom else { return object }
        var object = object
        switch (type.group, type.resource) {
        case ("apps", "deployments"):
            setIfAbsent(&object, ["spec", "replicas"], 1)
            setIfAbsent(&object, ["spec", "revisionHistoryLimit"], 10)
            setIfAbsent(&object, ["spec", "progressDeadlineSeconds"], 600)
            if object["spec", "strategy", "type"] == nil {
                object.setMember(["spec", "strategy", "type"], "RollingUpdate")
            }
            if object["spec", "strategy", "type"]?.stringValue == "RollingUpdate" {
                setIfAbsent(&object, ["spec", "strategy", "rollingUpdate", "maxUnavailable"], "25%")
                setIfAbsent(&object, ["spec", "strategy", "rollingUpdate", "maxSurge"], "25%")
            }
            defaultPodTemplate(&object, ["spec", "template"])
        case ("apps", "daemonsets"), ("apps", "replicasets"):
            defaultPodTemplate(&object, ["spec", "template"])
        case ("", "services"):
            setIfAbsent(&object, ["spec", "type"], "ClusterIP")
            setIfAbsent(&object, ["spec", "sessionAffinity"], "None")
            if object["spec", "clusterIP"] == nil {
                let address = cluster.allocateClusterIP()
                object.setMember(["spec", "clusterIP"], .string(address))
                object.setMember(["spec", "clusterIPs"], [.string(address)])
            }
            setIfAbsent(&object, ["spec", "ipFamilies"], ["IPv4"])
            setIfAbsent(&object, ["spec", "ipFamilyPolicy"], "SingleStack")
            setIfAbsent(&object, ["spec", "internalTrafficPolicy"], "Cluster")
            if let ports = object["spec", "ports"]?.arrayValue {
                object.setMember(
                    ["spec", "ports"],
                    .array(
                        ports.map { port in
                            var port = port
                            setIfAbsent(&port, ["protocol"], "TCP")
                            if port["targetPort"] == nil, let number = port["port"] {
                                port.setMember(["targetPort"], number)
                            }
                            return port
                        }
                    )
                )
            }
            setIfAbsent(&object, ["status", "loadBalancer"], [:])
        case ("", "namespaces"):
            setIfAbsent(&object, ["spec", "finalizers"], ["kubernetes"])
            setIfAbsent(&object, ["status", "phase"], "Active")
            if let name = object["metadata", "name"]?.stringValue {
                object.setMember(["metadata", "labels", "kubernetes.io/metadata.name"], .string(name))
            }
        case ("", "secrets"):
            setIfAbsent(&object, ["type"], "Opaque")
        case ("", "pods"):
            if let spec = object["spec"] {
                var template: JSONValue = ["spec": spec]
                defaultPodTemplate(&template, [])
                object.setMember(["spec"], template["spec"])
            }
            setIfAbsent(&object, ["status", "phase"], "Pending")
        default:
            break
        }
        return object
    }

    static func defaultPodTemplate(_ object: inout JSONValue, _ path: [String]) {
        let spec = path + ["spec"]
        setIfAbsent(&object, spec + ["restartPolicy"], "Always")
        setIfAbsent(&object, spec + ["terminationGracePeriodSeconds"], 30)
        setIfAbsent(&object, spec + ["dnsPolicy"], "ClusterFirst")
        setIfAbsent(&object, spec + ["securityContext"], [:])
        setIfAbsent(&object, spec + ["schedulerName"], "default-scheduler")
        for list in ["containers", "initContainers"] {
            guard let containers = value(object, spec + [list])?.arrayValue else { continue }
            object.setMember(
                spec + [list],
                .array(
                    containers.map { container in
                        var container = container
                        setIfAbsent(&container, ["terminationMessagePath"], "/dev/termination-log")
                        setIfAbsent(&container, ["terminationMessagePolicy"], "File")
                        setIfAbsent(&container, ["resources"], [:])
                        let image = container["image"]?.stringValue ?? ""
                        let tag = image.split(separator: "/").last.flatMap {
                            $0.split(separator: ":").dropFirst().first
                        }
                        let latest = !image.contains("@") && (tag == nil || tag == "latest")
                        setIfAbsent(&container, ["imagePullPolicy"], latest ? "Always" : "IfNotPresent")
                        if let ports = container["ports"]?.arrayValue {
                            container.setMember(
                                ["ports"],
                                .array(
                                    ports.map { port in
                                        var port = port
                                        setIfAbsent(&port, ["protocol"], "TCP")
                                        return port
                                    }
                                )
                            )
                        }
                        return container
                    }
                )
            )
        }
    }

    static func value(_ object: JSONValue, _ path: [String]) -> JSONValue? {
        var current: JSONValue? = object
        for member in path { current = current?[member] }
        return current
    }

    static func setIfAbsent(_ object: inout JSONValue, _ path: [String], _ value: JSONValue) {
        if self.value(object, path) == nil { object.setMember(path, value) }
    }

    // MARK: - Validation

    static func validate(_ type: ResourceType, _ object: JSONValue, old: JSONValue?) -> [FieldError] {
        var errors: [FieldError] = []
        let name = object["metadata", "name"]?.stringValue ?? ""
        let labelNamed = ["namespaces", "services"].contains(type.resource) && !type.isCustom
        if let problem = labelNamed ? dns1123Label(name) : dns1123Subdomain(name) {
            errors.append(.invalid("metadata.name", .string(name), problem))
        }
        for (key, value) in object["metadata", "labels"]?.objectValue ?? [:] {
            guard let string = value.stringValue else {
                errors.append(.invalid("metadata.labels", value, "label values must be strings"))
                continue
            }
            if let problem = labelValue(string) {
                errors.append(.invalid("metadata.labels", .string(string), problem))
            }
            if key.isEmpty || key.count > 316 {
                errors.append(.invalid("metadata.labels", .string(key), "name part must be non-empty"))
            }
        }
        guard !type.isCustom else { return errors }
        switch (type.group, type.resource) {
        case ("apps", "deployments"), ("apps", "daemonsets"), ("apps", "replicasets"):
            errors += validateWorkload(object, old: old)
        case ("", "services"):
            let ports = object["spec", "ports"]?.arrayValue ?? []
            let headless = object["spec", "clusterIP"]?.stringValue == "None"
            if ports.isEmpty, !headless, object["spec", "type"]?.stringValue != "ExternalName" {
                errors.append(.required("spec.ports"))
            }
            for (index, port) in ports.enumerated() {
                let number = port["port"]?.intValue ?? 0
                if !(1...65535).contains(number) {
                    errors.append(
                        .invalid(
                            "spec.ports[\(index)].port",
                            port["port"] ?? .null,
                            "must be between 1 and 65535, inclusive"
                        )
                    )
                }
                if ports.count > 1, (port["name"]?.stringValue ?? "").isEmpty {
                    errors.append(.required("spec.ports[\(index)].name"))
                }
            }
            if let old, let oldIP = old["spec", "clusterIP"]?.stringValue,
                let newIP = object["spec", "clusterIP"]?.stringValue,
                oldIP != newIP
            {
                errors.append(.invalid("spec.clusterIPs[0]", .string(newIP), "may not change once set"))
            }
        default:
            break
        }
        return errors
    }

    static func validateWorkload(_ object: JSONValue, old: JSONValue?) -> [FieldError] {
        var errors: [FieldError] = []
        let selector = object["spec", "selector"]
        if selector == nil || (selector?["matchLabels"] == nil && selector?["matchExpressions"] == nil) {
            errors.append(.required("spec.selector"))
        } else if let selector, let parsed = try? LabelSelector(json: selector) {
            let labels = (object["spec", "template", "metadata", "labels"]?.objectValue ?? [:]).compactMapValues(
                \.stringValue
            )
            if !parsed.matches(labels) {
                errors.append(
                    .invalid(
                        "spec.template.metadata.labels",
                        object["spec", "template", "metadata", "labels"] ?? .object([:]),
                        "`selector` does not match template `labels`"
                    )
                )
            }
        }
        if let old, let oldSelector = old["spec", "selector"], oldSelector != selector {
            errors.append(.invalid("spec.selector", selector ?? .null, "field is immutable"))
        }
        if let replicas = object["spec", "replicas"]?.intValue, replicas < 0 {
            errors.append(.invalid("spec.replicas", .int(replicas), "must be greater than or equal to 0"))
        }
        let containers = object["spec", "template", "spec", "containers"]?.arrayValue ?? []
        if containers.isEmpty { errors.append(.required("spec.template.spec.containers")) }
        var seen: Set<String> = []
        for (index, container) in containers.enumerated() {
            let path = "spec.template.spec.containers[\(index)]"
            let name = container["name"]?.stringValue ?? ""
            if name.isEmpty {
                errors.append(.required("\(path).name"))
            } else if let problem = dns1123Label(name) {
                errors.append(.invalid("\(path).name", .string(name), problem))
            } else if !seen.insert(name).inserted {
                errors.append(.duplicate("\(path).name", .string(name)))
            }
            if (container["image"]?.stringValue ?? "").isEmpty { errors.append(.required("\(path).image")) }
        }
        return errors
    }

    static func dns1123Label(_ value: String) -> String? {
        if value.count > 63 { return "must be no more than 63 characters" }
        if isLabel(value) { return nil }
        return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
            + "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
            + "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    }

    static func dns1123Subdomain(_ value: String) -> String? {
        if value.count > 253 { return "must be no more than 253 characters" }
        if !value.isEmpty,
            value.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ isLabel(String($0)) })
        {
            return nil
        }
        return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
            + "must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
            + "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    }

    static func isLabel(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard let first = bytes.first, let last = bytes.last else { return false }
        func alphanumeric(_ byte: UInt8) -> Bool { (97...122).contains(byte) || (48...57).contains(byte) }
        return alphanumeric(first) && alphanumeric(last) && bytes.allSatisfy { alphanumeric($0) || $0 == 45 }
    }

    static func labelValue(_ value: String) -> String? {
        if value.isEmpty { return nil }
        if value.count > 63 { return "must be no more than 63 characters" }
        let bytes = Array(value.utf8)
        func alphanumeric(_ byte: UInt8) -> Bool {
            (97...122).contains(byte) || (65...90).contains(byte) || (48...57).contains(byte)
        }
        if let first = bytes.first, let last = bytes.last, alphanumeric(first), alphanumeric(last),
            bytes.allSatisfy({ alphanumeric($0) || $0 == 45 || $0 == 95 || $0 == 46 })
        {
            return nil
        }
        return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and "
            + "must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex "
            + "used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
    }
}

extension DevCluster {
    /// The next free address in 10.96.0.0/16, as the service IP allocator hands them out.
    func allocateClusterIP() -> String {
        let next = counters.withLock { counters in
            counters.nextClusterIP += 1
            return counters.nextClusterIP
        }
        return "10.96.\((next >> 8) & 0xff).\(next & 0xff)"
    }
}
