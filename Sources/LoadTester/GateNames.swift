/// The names a gate may have: a Canary's, so that every gate key is also a valid ConfigMap key.
///
/// A Canary's name is an RFC 1123 subdomain and its namespace an RFC 1123 label, as Kubernetes requires. A gate is
/// kept under the ConfigMap key `<kind>.<namespace>.<name>`, which may have at most 253 characters, so a name that
/// is valid for a Canary but would make the key longer is refused too. A name that is not a valid key would make
/// every later save of the gates fail.
enum GateNames {
    /// The longest ConfigMap key.
    static let maximumKeyLength = 253

    /// The payload's name and namespace checked, or a 400 naming the field in the Kubernetes field-error format.
    static func check(name: String, namespace: String) throws(Refusal) {
        if let problem = labelProblem(namespace) {
            throw Refusal(status: 400, message: "namespace: Invalid value: \"\(namespace)\": \(problem)")
        }
        if let problem = subdomainProblem(name) {
            throw Refusal(status: 400, message: "name: Invalid value: \"\(name)\": \(problem)")
        }
        let longest =
            GateKind.allCases.map { ConfigMapGateStore.dataKey($0.key(name: name, namespace: namespace)) }
            .max { $0.count < $1.count } ?? ""
        if longest.count > maximumKeyLength {
            throw Refusal(
                status: 400,
                message: "name: Invalid value: \"\(name)\": too long for a gate in namespace \"\(namespace)\": its "
                    + "key \"\(longest)\" would have \(longest.count) characters, and a ConfigMap key at most "
                    + "\(maximumKeyLength)"
            )
        }
    }

    static let labelFormat =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
        + "end with an alphanumeric character"
    static let subdomainFormat =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
        + "start and end with an alphanumeric character"

    static func labelProblem(_ text: String) -> String? {
        if text.utf8.count > 63 { return "must be no more than 63 characters" }
        return isLabel(Substring(text)) ? nil : labelFormat
    }

    static func subdomainProblem(_ text: String) -> String? {
        if text.utf8.count > 253 { return "must be no more than 253 characters" }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy(isLabel) ? nil : subdomainFormat
    }

    private static func isLabel(_ text: Substring) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, let last = bytes.last else { return false }
        func alphanumeric(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        return alphanumeric(first) && alphanumeric(last)
            && bytes.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: "-") }
    }
}
