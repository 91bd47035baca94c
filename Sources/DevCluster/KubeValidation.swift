/// The label key and value rules of apimachinery's `util/validation`, with its exact messages.
enum KubeValidation {
    static let qualifiedNameFormat = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
    static let qualifiedNameMessage =
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
    static let labelValueFormat = "(" + qualifiedNameFormat + ")?"
    static let labelValueMessage =
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
        + "and must start and end with an alphanumeric character"
    static let subdomainFormat = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
    static let subdomainMessage =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
        + "and must start and end with an alphanumeric character"

    /// `validation.RegexError`.
    static func regexError(_ message: String, _ format: String, examples: [String]) -> String {
        if examples.isEmpty { return message + " (regex used for validation is '" + format + "')" }
        var text = message + " (e.g. "
        for (offset, example) in examples.enumerated() {
            if offset > 0 { text += " or " }
            text += "'" + example + "', "
        }
        return text + "regex used for validation is '" + format + "')"
    }

    static func maxLengthError(_ length: Int) -> String { "must be no more than \(length) characters" }

    /// `validation.IsQualifiedName`: a label key such as `app.kubernetes.io/name`.
    static func qualifiedNameErrors(_ value: String) -> [String] {
        var errors: [String] = []
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        let name: Substring
        switch parts.count {
        case 1:
            name = parts[0]
        case 2:
            let prefix = parts[0]
            name = parts[1]
            if prefix.isEmpty {
                errors.append("prefix part must be non-empty")
            } else {
                errors += subdomainErrors(String(prefix)).map { "prefix part " + $0 }
            }
        default:
            return [
                "a qualified name "
                    + regexError(qualifiedNameMessage, qualifiedNameFormat, examples: ["MyName", "my.name", "123-abc"])
                    + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            ]
        }
        if name.isEmpty {
            errors.append("name part must be non-empty")
        } else if name.utf8.count > 63 {
            errors.append("name part " + maxLengthError(63))
        }
        if !isQualifiedNamePart(name) {
            errors.append(
                "name part "
                    + regexError(qualifiedNameMessage, qualifiedNameFormat, examples: ["MyName", "my.name", "123-abc"])
            )
        }
        return errors
    }

    /// `validation.IsValidLabelValue`.
    static func labelValueErrors(_ value: String) -> [String] {
        var errors: [String] = []
        if value.utf8.count > 63 { errors.append(maxLengthError(63)) }
        if !value.isEmpty && !isQualifiedNamePart(value) {
            errors.append(regexError(labelValueMessage, labelValueFormat, examples: ["MyValue", "my_value", "12345"]))
        }
        return errors
    }

    /// `validation.IsDNS1123Subdomain`.
    static func subdomainErrors(_ value: String) -> [String] {
        var errors: [String] = []
        if value.utf8.count > 253 { errors.append(maxLengthError(253)) }
        if !isSubdomain(value) {
            errors.append(regexError(subdomainMessage, subdomainFormat, examples: ["example.com"]))
        }
        return errors
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    /// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, anchored.
    private static func isQualifiedNamePart(_ text: some StringProtocol) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, let last = bytes.last else { return false }
        guard isAlphanumeric(first), isAlphanumeric(last) else { return false }
        return bytes.allSatisfy {
            isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
        }
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x61...0x7A).contains(byte)
    }

    /// A lowercase RFC 1123 subdomain: dot-separated labels of `[a-z0-9]([-a-z0-9]*[a-z0-9])?`.
    private static func isSubdomain(_ text: String) -> Bool {
        let labels = Array(text.utf8).split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            guard let first = label.first, let last = label.last else { return false }
            return isLowerAlphanumeric(first) && isLowerAlphanumeric(last)
                && label.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }
        }
    }

    /// `field.Invalid(path, value, detail).Error()` for a string value.
    static func invalid(_ path: String, _ value: String, _ detail: String) -> String {
        path + ": Invalid value: " + GoFormat.quote(value) + (detail.isEmpty ? "" : ": " + detail)
    }

    /// `field.Invalid(path, values, detail).Error()` for a `[]string` value.
    static func invalid(_ path: String, values: [String], _ detail: String) -> String {
        path + ": Invalid value: " + GoFormat.goSyntax(values) + (detail.isEmpty ? "" : ": " + detail)
    }

    /// `utilerrors.NewAggregate(errs).Error()`: one message as is; several, de-duplicated, in brackets.
    static func aggregate(_ messages: [String]) -> String? {
        var seen: [String] = []
        for message in messages where !seen.contains(message) { seen.append(message) }
        switch seen.count {
        case 0: return nil
        case 1: return seen[0]
        default: return "[" + seen.joined(separator: ", ") + "]"
        }
    }
}
