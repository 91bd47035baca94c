import JSONValue

/// A selector or JSONPath that kube-apiserver would refuse, with the message it would send.
///
/// The message is the text of the `400 BadRequest` Status: `field label not supported: foo`,
/// `unable to parse requirement: found '', expected: ',' or ')'`, and so on.
public struct SelectorError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The apiserver's wording of the problem.
    public var message: String

    /// Wraps an apiserver message.
    public init(_ message: String) { self.message = message }

    /// The apiserver's message.
    public var description: String { message }
}

/// A parsed `fieldSelector` query parameter: a conjunction of `field=value` and `field!=value` terms.
///
/// Parsing follows apimachinery `fields.ParseSelector`: terms are split on unescaped commas and sorted, `==` means
/// `=`, values may escape `\,` `\=` and `\\`, and nothing is trimmed (`a = b` selects field `a ` for value ` b`).
/// Whether a field may be selected at all depends on the resource; see ``FieldSelectorFields``.
public struct FieldSelector: Sendable, Hashable, CustomStringConvertible {
    /// How a term compares the field's value.
    public enum Operator: String, Sendable, Hashable {
        /// `=` or `==`: the field must equal the value.
        case equals = "="
        /// `!=`: the field must differ from the value.
        case notEquals = "!="
    }

    /// One term of the selector.
    public struct Requirement: Sendable, Hashable {
        /// The field label, e.g. `involvedObject.name`.
        public var field: String
        /// How the field is compared.
        public var op: Operator
        /// The unescaped value.
        public var value: String

        /// A term comparing `field` with `value`.
        public init(field: String, op: Operator, value: String) {
            self.field = field
            self.op = op
            self.value = value
        }
    }

    /// The terms, all of which must hold.
    public var requirements: [Requirement]

    /// The selector that selects every object.
    public static let everything = FieldSelector(requirements: [])

    /// A selector made of the given terms.
    public init(requirements: [Requirement]) { self.requirements = requirements }

    /// Parses the `fieldSelector` syntax; the empty string selects everything.
    ///
    /// - Throws: ``SelectorError`` worded as the apiserver words it, e.g.
    ///   `invalid selector: 'a'; can't understand 'a'`.
    public init(parsing text: String) throws(SelectorError) {
        var terms = Self.splitTerms(text)
        terms.sort(by: GoFormat.byteOrder)
        var requirements: [Requirement] = []
        for term in terms where !term.isEmpty {
            guard let (field, op, rawValue) = Self.splitTerm(term) else {
                throw SelectorError("invalid selector: '\(text)'; can't understand '\(term)'")
            }
            requirements.append(Requirement(field: field, op: op, value: try Self.unescape(rawValue)))
        }
        self.requirements = requirements
    }

    /// Whether the selector has no terms and so selects everything.
    public var isEverything: Bool { requirements.isEmpty }

    /// The field labels the terms name, in order (with repeats).
    public var fields: [String] { requirements.map(\.field) }

    /// Whether an object matches, given its field values; a field the object lacks reads as the empty string.
    public func matches(_ fieldValue: (String) -> String?) -> Bool {
        requirements.allSatisfy { requirement in
            let actual = fieldValue(requirement.field) ?? ""
            switch requirement.op {
            case .equals: return actual == requirement.value
            case .notEquals: return actual != requirement.value
            }
        }
    }

    /// The value an `=` term demands of `field`, if any (apimachinery `RequiresExactMatch`).
    public func requiredValue(of field: String) -> String? {
        requirements.first { $0.field == field && $0.op == .equals }?.value
    }

    /// The canonical text, values escaped: `involvedObject.name=podinfo,type!=Normal`.
    public var description: String {
        requirements.map { $0.field + $0.op.rawValue + Self.escape($0.value) }.joined(separator: ",")
    }

    /// `fields.EscapeValue`: prefixes `\`, `,` and `=` with a backslash.
    public static func escape(_ value: String) -> String {
        var output = ""
        for character in value {
            if character == "\\" || character == "," || character == "=" { output.append("\\") }
            output.append(character)
        }
        return output
    }

    /// Splits on commas that are not escaped, keeping escapes in the terms.
    static func splitTerms(_ text: String) -> [String] {
        guard !text.isEmpty else { return [] }
        var terms: [String] = []
        var current = ""
        var inSlash = false
        for character in text {
            if inSlash {
                inSlash = false
            } else if character == "\\" {
                inSlash = true
            } else if character == "," {
                terms.append(current)
                current = ""
                continue
            }
            current.append(character)
        }
        terms.append(current)
        return terms
    }

    /// Splits a term at its first operator, trying `!=`, then `==`, then `=` at each position.
    static func splitTerm(_ term: String) -> (String, Operator, String)? {
        let scalars = Array(term.unicodeScalars)
        for index in scalars.indices {
            let rest = scalars[index...]
            let lhs = String(String.UnicodeScalarView(scalars[..<index]))
            if rest.starts(with: ["!", "="]) {
                return (lhs, .notEquals, String(String.UnicodeScalarView(rest.dropFirst(2))))
            }
            if rest.starts(with: ["=", "="]) {
                return (lhs, .equals, String(String.UnicodeScalarView(rest.dropFirst(2))))
            }
            if rest.starts(with: ["="]) {
                return (lhs, .equals, String(String.UnicodeScalarView(rest.dropFirst(1))))
            }
        }
        return nil
    }

    /// `fields.UnescapeValue`.
    static func unescape(_ value: String) throws(SelectorError) -> String {
        var output = ""
        var inSlash = false
        for scalar in value.unicodeScalars {
            if inSlash {
                guard scalar == "\\" || scalar == "," || scalar == "=" else {
                    throw SelectorError("invalid field selector: invalid escape sequence: \\\(Character(scalar))")
                }
                output.unicodeScalars.append(scalar)
                inSlash = false
                continue
            }
            switch scalar {
            case "\\": inSlash = true
            case ",", "=": throw SelectorError("invalid field selector: unescaped character in value: \(scalar.value)")
            default: output.unicodeScalars.append(scalar)
            }
        }
        if inSlash { throw SelectorError("invalid field selector: invalid escape sequence: \\") }
        return output
    }
}

/// Which fields each resource lets a `fieldSelector` name, and their values, as kube-apiserver 1.32 serves them.
///
/// Acceptance follows the per-kind field label conversion functions (pods, events, namespaces, secrets, services,
/// nodes, replicationcontrollers, jobs); other built-in resources accept only `metadata.name` and
/// `metadata.namespace`; any resource this table does not know is treated as a custom resource. Values follow the
/// registries' `ToSelectableFields`, reading the v1 JSON and applying the server's defaults where a stored object
/// may lack them (a pod's `status.phase` is `Pending`, a secret's `type` is `Opaque`, ...).
public enum FieldSelectorFields {
    /// The value of a selectable field of `object`, or `nil` when `resource` does not support the field.
    ///
    /// A supported field the object lacks reads as its default or the empty string, as `fields.Set.Get` would.
    public static func value(of field: String, in object: JSONValue, resource: String) -> String? {
        let rules = Rules.of(resource)
        guard rules.fields.contains(field) else { return nil }
        return rules.value(field, object)
    }

    /// The field labels `resource` accepts, in the apiserver's order.
    public static func supported(resource: String) -> [String] { Rules.of(resource).fields }

    /// The selector as the apiserver runs it for `resource`: legacy aliases rewritten (`spec.host` of pods becomes
    /// `spec.nodeName`).
    ///
    /// - Throws: ``SelectorError`` for the first field the resource does not support, in the resource's wording:
    ///   `field label not supported: foo`, or for metadata-only built-ins
    ///   `"foo" is not a known field selector: only "metadata.name", "metadata.namespace"`.
    public static func validated(_ selector: FieldSelector, resource: String) throws(SelectorError) -> FieldSelector {
        let rules = Rules.of(resource)
        var result = selector
        for index in result.requirements.indices {
            let field = result.requirements[index].field
            if let canonical = rules.aliases[field] {
                result.requirements[index].field = canonical
            } else if !rules.fields.contains(field) {
                throw SelectorError(rules.rejection(field))
            }
        }
        return result
    }

    /// Whether `object` of `resource` matches `selector`; fields the resource does not support read as empty.
    public static func matches(_ selector: FieldSelector, object: JSONValue, resource: String) -> Bool {
        selector.matches { value(of: $0, in: object, resource: resource) }
    }

    struct Rules {
        var fields: [String]
        var aliases: [String: String] = [:]
        var rejection: @Sendable (String) -> String
        var extra: @Sendable (String, JSONValue) -> String? = { _, _ in nil }

        func value(_ field: String, _ object: JSONValue) -> String {
            if let special = extra(field, object) { return special }
            return Self.text(at: field, in: object)
        }

        static func text(at path: String, in object: JSONValue) -> String {
            var current: JSONValue? = object
            for key in path.split(separator: ".", omittingEmptySubsequences: false) { current = current?[String(key)] }
            switch current {
            case .string(let string)?: return string
            case .int(let int)?: return String(int)
            case .bool(let bool)?: return bool ? "true" : "false"
            case .double(let double)?: return GoFormat.formatFloatV(double)
            default: return ""
            }
        }

        static let notSupported: @Sendable (String) -> String = { "field label not supported: " + $0 }
        static let metadataOnly: @Sendable (String) -> String = {
            GoFormat.quote($0) + " is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
        }
        static let namespaced = ["metadata.name", "metadata.namespace"]

        /// Built-in resources with no field label conversion of their own.
        static let metadataOnlyResources: Set<String> = [
            "deployments", "replicasets", "daemonsets", "statefulsets", "controllerrevisions", "configmaps",
            "serviceaccounts", "endpoints", "limitranges", "persistentvolumes", "persistentvolumeclaims",
            "podtemplates", "resourcequotas", "leases", "horizontalpodautoscalers", "cronjobs",
            "customresourcedefinitions", "mutatingwebhookconfigurations", "validatingwebhookconfigurations",
            "ingresses", "ingressclasses", "networkpolicies", "poddisruptionbudgets", "roles", "rolebindings",
            "clusterroles", "clusterrolebindings", "priorityclasses", "storageclasses", "apiservices",
            "endpointslices", "runtimeclasses",
        ]

        static func of(_ resource: String) -> Rules {
            switch resource {
            case "pods":
                return Rules(
                    fields: namespaced + [
                        "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                        "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName",
                    ],
                    aliases: ["spec.host": "spec.nodeName"],
                    rejection: notSupported,
                    extra: podField
                )
            case "events":
                return Rules(
                    fields: namespaced + [
                        "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                        "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
                        "reason", "reportingComponent", "source", "type",
                    ],
                    rejection: notSupported,
                    extra: { field, object in
                        guard field == "source" else { return nil }
                        let component = text(at: "source.component", in: object)
                        return component.isEmpty ? text(at: "reportingComponent", in: object) : component
                    }
                )
            case "namespaces":
                return Rules(
                    fields: ["metadata.name", "status.phase"],
                    rejection: notSupported,
                    extra: { field, object in
                        guard field == "status.phase" else { return nil }
                        let phase = text(at: field, in: object)
                        return phase.isEmpty ? "Active" : phase
                    }
                )
            case "secrets":
                return Rules(
                    fields: namespaced + ["type"],
                    rejection: notSupported,
                    extra: { field, object in
                        guard field == "type" else { return nil }
                        let type = text(at: field, in: object)
                        return type.isEmpty ? "Opaque" : type
                    }
                )
            case "services":
                return Rules(
                    fields: namespaced + ["spec.clusterIP", "spec.type"],
                    rejection: notSupported,
                    extra: { field, object in
                        guard field == "spec.type" else { return nil }
                        let type = text(at: field, in: object)
                        return type.isEmpty ? "ClusterIP" : type
                    }
                )
            case "nodes":
                return Rules(
                    fields: ["metadata.name", "spec.unschedulable"],
                    rejection: notSupported,
                    extra: { field, object in
                        field == "spec.unschedulable"
                            ? (object["spec", "unschedulable"]?.boolValue == true ? "true" : "false") : nil
                    }
                )
            case "replicationcontrollers":
                return Rules(
                    fields: namespaced + ["status.replicas"],
                    rejection: notSupported,
                    extra: { field, object in
                        field == "status.replicas" ? String(object["status", "replicas"]?.intValue ?? 0) : nil
                    }
                )
            case "jobs":
                return Rules(
                    fields: namespaced + ["status.successful"],
                    rejection: { "field label \(GoFormat.quote($0)) not supported for Job" },
                    extra: { field, object in
                        field == "status.successful" ? String(object["status", "succeeded"]?.intValue ?? 0) : nil
                    }
                )
            default:
                if metadataOnlyResources.contains(resource) {
                    return Rules(fields: namespaced, rejection: metadataOnly)
                }
                return Rules(fields: namespaced, rejection: notSupported)
            }
        }

        static let podField: @Sendable (String, JSONValue) -> String? = { field, object in
            func defaulted(_ path: String, _ fallback: String) -> String {
                let value = text(at: path, in: object)
                return value.isEmpty ? fallback : value
            }
            switch field {
            case "spec.restartPolicy": return defaulted(field, "Always")
            case "spec.schedulerName": return defaulted(field, "default-scheduler")
            case "spec.serviceAccountName": return defaulted(field, "default")
            case "spec.hostNetwork": return object["spec", "hostNetwork"]?.boolValue == true ? "true" : "false"
            case "status.phase": return defaulted(field, "Pending")
            case "status.podIP":
                if let first = object["status", "podIPs"]?[0]?["ip"]?.stringValue { return first }
                return text(at: field, in: object)
            default: return nil
            }
        }
    }
}
