/// RFC 7396 JSON Merge Patch.
public enum MergePatch {
    /// Applies `patch` to `target`: objects merge member by member, `null` deletes, anything else replaces.
    public static func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        guard case .object(let patchMembers) = patch else { return patch }
        var result = target.objectValue ?? [:]
        for (key, value) in patchMembers {
            if value.isNull {
                result[key] = nil
            } else {
                result[key] = apply(value, to: result[key] ?? .null)
            }
        }
        return .object(result)
    }

    /// The merge patch that turns `source` into `target`, or `nil` when they are equal.
    ///
    /// A merge patch cannot set a value to `null`; members that are `null` in `target` are deleted instead.
    public static func diff(from source: JSONValue, to target: JSONValue) -> JSONValue? {
        if source == target { return nil }
        guard case .object(let a) = source, case .object(let b) = target else { return target }
        var patch: [String: JSONValue] = [:]
        for key in a.keys where b[key] == nil { patch[key] = .null }
        for (key, value) in b {
            if let old = a[key] {
                if let nested = diff(from: old, to: value) { patch[key] = nested }
            } else {
                patch[key] = value
            }
        }
        return patch.isEmpty ? nil : .object(patch)
    }
}
