import JSONValue

/// Patch metadata for one field tree: which lists merge by which key, which use retainKeys, which are atomic.
///
/// It mirrors the `patchStrategy` and `patchMergeKey` struct tags of the Kubernetes API types. A field with no
/// metadata is merged when it is an object and replaced when it is a list.
public indirect enum PatchMeta: Sendable, Hashable {
    /// An object whose named fields carry metadata; `retainKeys` mirrors `patchStrategy:"retainKeys"`.
    case object([String: PatchMeta], retainKeys: Bool = false)
    /// An object with free-form keys whose values all share one metadata, like a Go `map[string]T`.
    case map(PatchMeta)
    /// A list merged element by element: objects matched on `mergeKey`, primitives (no key) unioned.
    case mergeList(mergeKey: String?, element: PatchMeta? = nil, retainKeys: Bool = false)
    /// A value replaced whole by the patch: `patchStrategy:"replace"`, or a list marked `+listType=atomic`.
    case atomic

    /// A list of objects merged on `key`, whose elements are described by `element`.
    public static func merge(on key: String, _ element: PatchMeta? = nil, retainKeys: Bool = false) -> PatchMeta {
        .mergeList(mergeKey: key, element: element, retainKeys: retainKeys)
    }

    /// A list of primitives merged as a set (`patchStrategy:"merge"` without a merge key), like `finalizers`.
    public static let primitiveSet = PatchMeta.mergeList(mergeKey: nil)

    /// The metadata of the member `key` of an object described by this metadata, if any.
    public func member(_ key: String) -> PatchMeta? {
        switch self {
        case .object(let fields, _): return fields[key]
        case .map(let values): return values
        case .mergeList, .atomic: return nil
        }
    }
}

/// Why a strategic merge patch could not be applied; the message follows apimachinery's wording.
public struct StrategicMergeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, in words.
    public var message: String

    /// An error with the given message.
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}

/// Kubernetes strategic merge patch, applied the way the API server's `strategicpatch` package applies it.
///
/// Objects merge member by member and `null` deletes a member. Lists whose metadata says `merge` merge element by
/// element on their merge key (or as a set of primitives); every other list is replaced. The directives `$patch`,
/// `$retainKeys`, `$deleteFromPrimitiveList/<field>` and `$setElementOrder/<field>` are honoured and never appear in
/// the result.
public enum StrategicMergePatch {
    /// Applies `patch` to `original` using `meta` for the list strategies; `nil` metadata merges objects only.
    public static func apply(
        _ patch: JSONValue,
        to original: JSONValue,
        meta: PatchMeta?
    ) throws(StrategicMergeError) -> JSONValue {
        guard case .object(let patchMembers) = patch else { throw StrategicMergeError("invalid JSON document") }
        let originalMembers: [String: JSONValue]
        switch original {
        case .object(let members): originalMembers = members
        case .null: originalMembers = [:]
        default: throw StrategicMergeError("invalid JSON document")
        }
        return .object(try mergeObject(originalMembers, patchMembers, meta: meta))
    }
}

// MARK: - Objects

extension StrategicMergePatch {
    static let directiveMarker = "$patch"
    static let retainKeysDirective = "$retainKeys"
    static let deleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList"
    static let setElementOrderPrefix = "$setElementOrder"

    /// Merges one patch object into one original object.
    ///
    /// The steps follow apimachinery's `mergeMap`: a `$patch` directive decides alone; otherwise `$retainKeys`
    /// prunes the original, `$setElementOrder` lists are merged and ordered, then every other key is merged, and
    /// `$deleteFromPrimitiveList` lists are applied last (apimachinery's map order leaves that open).
    static func mergeObject(
        _ original: [String: JSONValue],
        _ patch: [String: JSONValue],
        meta: PatchMeta?
    ) throws(StrategicMergeError) -> [String: JSONValue] {
        var patch = patch
        if let directive = patch[directiveMarker] {
            switch directive {
            case "replace":
                patch[directiveMarker] = nil
                return cleanMembers(patch)
            case "delete":
                return [:]
            default:
                throw badPatchType(directive, patch)
            }
        }
        var original = original
        try applyRetainKeys(to: &original, patch: &patch)
        try mergeOrderedLists(into: &original, patch: &patch, meta: meta)

        var deletionLists: [(field: String, values: JSONValue)] = []
        for key in patch.keys.sorted() {
            guard let value = patch[key] else { continue }
            if key.hasPrefix(deleteFromPrimitiveListPrefix) {
                let field = try extractKey(
                    key,
                    prefix: deleteFromPrimitiveListPrefix,
                    error: "invalid patch format of primitive list"
                )
                deletionLists.append((field, value))
                continue
            }
            if value.isNull {
                original[key] = nil
                continue
            }
            let fieldMeta = meta?.member(key)
            switch (original[key], value) {
            case (.object(let current)?, .object(let change)):
                if case .atomic = fieldMeta {
                    original[key] = clean(value)
                } else {
                    original[key] = .object(try mergeObject(current, change, meta: fieldMeta))
                }
            case (.array(let current)?, .array(let change)):
                if let strategy = ListStrategy(fieldMeta) {
                    original[key] = .array(try mergeList(current, change, strategy: strategy, field: key).merged)
                } else {
                    original[key] = clean(value)
                }
            default:
                original[key] = clean(value)
            }
        }
        for (field, values) in deletionLists {
            if values.isNull {
                original[field] = nil
                continue
            }
            guard case .array(let current) = original[field], case .array(let doomed) = values else { continue }
            if current.isEmpty && doomed.isEmpty { continue }
            _ = try elementKind(current, doomed)
            original[field] = .array(current.filter { !doomed.contains($0) })
        }
        return original
    }

    /// Applies a `$retainKeys` directive: every key the patch sets must be listed, and unlisted original keys go.
    static func applyRetainKeys(
        to original: inout [String: JSONValue],
        patch: inout [String: JSONValue]
    ) throws(StrategicMergeError) {
        guard let directive = patch.removeValue(forKey: retainKeysDirective) else { return }
        guard case .array(let listed) = directive else {
            throw StrategicMergeError("invalid patch format of retainKeys")
        }
        let retained = Set(listed.compactMap(\.stringValue))
        for (key, value) in patch where !value.isNull {
            if key.hasPrefix(deleteFromPrimitiveListPrefix) || key.hasPrefix(setElementOrderPrefix) { continue }
            guard retained.contains(key) else { throw StrategicMergeError("invalid patch format of retainKeys") }
        }
        original = original.filter { retained.contains($0.key) }
    }

    /// The field name after `prefix/` in a parallel-list directive key.
    static func extractKey(_ key: String, prefix: String, error: String) throws(StrategicMergeError) -> String {
        let parts = key.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == prefix else { throw StrategicMergeError(error) }
        return String(parts[1])
    }

    /// A patch value placed where the original has nothing to merge with: nulls and directives are dropped.
    ///
    /// An object carrying `$patch` is dropped whole (`nil`), as apimachinery does for values it cannot merge.
    static func clean(_ value: JSONValue) -> JSONValue? {
        switch value {
        case .object(let members):
            if members[directiveMarker] != nil { return nil }
            return .object(cleanMembers(members))
        case .array(let elements):
            return .array(elements.compactMap(clean))
        default:
            return value
        }
    }

    /// The members of a patch object without nulls, directive keys or directive-carrying objects.
    static func cleanMembers(_ members: [String: JSONValue]) -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for (key, value) in members where !value.isNull && !isDirectiveKey(key) {
            if let cleaned = clean(value) { result[key] = cleaned }
        }
        return result
    }

    static func isDirectiveKey(_ key: String) -> Bool {
        key == directiveMarker || key == retainKeysDirective || key.hasPrefix(setElementOrderPrefix + "/")
            || key.hasPrefix(deleteFromPrimitiveListPrefix + "/")
    }
}

// MARK: - Lists

extension StrategicMergePatch {
    /// How a list with `patchStrategy:"merge"` merges.
    struct ListStrategy {
        var mergeKey: String?
        var element: PatchMeta?

        init?(_ meta: PatchMeta?) {
            guard case .mergeList(let mergeKey, let element, _) = meta else { return nil }
            self.mergeKey = mergeKey
            self.element = element
        }
    }

    enum ElementKind: Equatable {
        case object
        case scalar
    }

    /// The kind shared by every element of the lists; mixed kinds and lists of lists are refused as apimachinery does.
    static func elementKind(_ lists: [JSONValue]...) throws(StrategicMergeError) -> ElementKind {
        guard let first = lists.joined().first else { return .scalar }
        if case .array = first { throw StrategicMergeError("lists of lists are not supported") }
        let type = goTypeName(first)
        if lists.joined().contains(where: { goTypeName($0) != type }) {
            let printed = lists.map { goFormat(.array($0)) }.joined(separator: " ")
            throw StrategicMergeError("list element types are not identical: [\(printed)]")
        }
        if case .object = first { return .object }
        return .scalar
    }

    /// Merges a patch list into an original list with merge strategy.
    ///
    /// Returns the merged list and the original list as apimachinery's later ordering step sees it: its Go code
    /// deletes and appends in the original list's backing array, so `$setElementOrder` compares against that view.
    static func mergeList(
        _ original: [JSONValue],
        _ patch: [JSONValue],
        strategy: ListStrategy,
        field: String
    ) throws(StrategicMergeError) -> (merged: [JSONValue], serverView: [JSONValue]) {
        if original.isEmpty && patch.isEmpty { return (original, original) }
        switch try elementKind(original, patch) {
        case .scalar:
            if strategy.mergeKey != nil, let first = original.first ?? patch.first {
                throw badArgType("map[string]interface {}", first)
            }
            var merged: [JSONValue] = []
            for value in original + patch where !merged.contains(value) { merged.append(value) }
            let patchItems = merged.filter { patch.contains($0) }
            let serverOnly = merged.filter { !patch.contains($0) }
            let ordered = try normalizeOrder(
                patchItems: patchItems,
                serverOnly: serverOnly,
                patchOrder: patch,
                serverOrder: original,
                key: nil
            )
            return (ordered, original)
        case .object:
            guard let key = strategy.mergeKey else {
                throw StrategicMergeError("cannot merge lists without merge key for \(field)")
            }
            return try mergeObjectList(original, patch, key: key, element: strategy.element)
        }
    }

    static func mergeObjectList(
        _ original: [JSONValue],
        _ patch: [JSONValue],
        key: String,
        element: PatchMeta?
    ) throws(StrategicMergeError) -> (merged: [JSONValue], serverView: [JSONValue]) {
        // `view` models the Go backing array of the original list and `length` the live slice's length in it.
        var view = original
        var length = original.count
        var replace = false
        var plain: [[String: JSONValue]] = []
        for item in patch {
            guard case .object(let members) = item else { throw badArgType("map[string]interface {}", item) }
            guard let directive = members[directiveMarker] else {
                plain.append(members)
                continue
            }
            switch directive {
            case "delete":
                guard let doomed = members[key] else { throw noMergeKey(members, key) }
                while let index = view[0..<length].firstIndex(where: { $0.objectValue?[key] == doomed }) {
                    view.replaceSubrange(index..<(length - 1), with: view[(index + 1)..<length])
                    length -= 1
                }
            case "replace":
                replace = true
            case "merge":
                throw StrategicMergeError("merging lists cannot yet be specified in the patch")
            default:
                throw badPatchType(directive, members)
            }
        }

        var list: [JSONValue]
        let changes: [[String: JSONValue]]
        if replace {
            list = plain.map { .object(cleanMembers($0)) }
            changes = []
        } else {
            list = Array(view[0..<length])
            changes = plain
        }
        let base = list
        for change in changes {
            guard let value = change[key] else { throw noMergeKey(change, key) }
            if let index = list.firstIndex(where: { $0.objectValue?[key] == value }),
                case .object(let current) = list[index]
            {
                list[index] = .object(try mergeObject(current, change, meta: element))
            } else {
                let added = JSONValue.object(cleanMembers(change))
                if list.count < view.count { view[list.count] = added }
                list.append(added)
            }
        }

        let patchOrder = changes.map { JSONValue.object($0) }
        var patchItems: [JSONValue] = []
        var serverOnly: [JSONValue] = []
        for item in list {
            if try contains(patchOrder, item, key: key) {
                patchItems.append(item)
            } else {
                serverOnly.append(item)
            }
        }
        let ordered = try normalizeOrder(
            patchItems: patchItems,
            serverOnly: serverOnly,
            patchOrder: patchOrder,
            serverOrder: base,
            key: key
        )
        return (ordered, view)
    }

    /// Whether `list` holds an element with the same merge key value as `item` (or the same value, without a key).
    ///
    /// `item` must be an object carrying the merge key, as apimachinery's partitioning requires.
    static func contains(_ list: [JSONValue], _ item: JSONValue, key: String?) throws(StrategicMergeError) -> Bool {
        guard let key else { return list.contains(item) }
        guard case .object(let members) = item else { throw badArgType("map[string]interface {}", item) }
        guard let value = members[key] else { throw noMergeKey(members, key) }
        return list.contains { $0.objectValue?[key] == value }
    }

    /// Handles every `$setElementOrder/<field>` directive of a patch object, merging and ordering that field.
    ///
    /// Items named in the directive come first, in its order; original items it does not name keep their place
    /// relative to them as apimachinery's best-effort interleaving puts them.
    static func mergeOrderedLists(
        into original: inout [String: JSONValue],
        patch: inout [String: JSONValue],
        meta: PatchMeta?
    ) throws(StrategicMergeError) {
        for directiveKey in patch.keys.sorted() where directiveKey.hasPrefix(setElementOrderPrefix) {
            guard let directive = patch.removeValue(forKey: directiveKey) else { continue }
            guard case .array(let order) = directive else { throw badArgType("[]interface {}", directive) }
            let field = try extractKey(
                directiveKey,
                prefix: setElementOrderPrefix,
                error: "invalid patch format of setElementOrder list"
            )
            var originalList: [JSONValue]?
            if let value = original[field] {
                guard case .array(let elements) = value else { throw badArgType("[]interface {}", value) }
                originalList = elements
            }
            var patchList: [JSONValue]?
            if let value = patch[field] {
                guard case .array(let elements) = value else { throw badArgType("[]interface {}", value) }
                patchList = elements
            }
            let strategy = ListStrategy(meta?.member(field))
            let mergeKey = strategy?.mergeKey
            try validateOrder(patchList ?? [], order, key: mergeKey)

            let merged: [JSONValue]
            var serverOrder = originalList ?? []
            switch (originalList, patchList) {
            case (let current?, nil):
                merged = current
            case (nil, let change?):
                merged = change.compactMap(clean)
            case (let current?, let change?):
                if let strategy {
                    (merged, serverOrder) = try mergeList(current, change, strategy: strategy, field: field)
                } else {
                    merged = change.compactMap(clean)
                }
            case (nil, nil):
                continue
            }

            let kind = try elementKind(originalList ?? [], patchList ?? [])
            let key = kind == .object ? mergeKey : nil
            var patchItems: [JSONValue] = []
            var serverOnly: [JSONValue] = []
            for item in merged {
                if try contains(order, item, key: key) {
                    patchItems.append(item)
                } else {
                    serverOnly.append(item)
                }
            }
            original[field] = .array(
                try normalizeOrder(
                    patchItems: patchItems,
                    serverOnly: serverOnly,
                    patchOrder: order,
                    serverOrder: serverOrder,
                    key: key
                )
            )
            patch[field] = nil
        }
    }

    /// Checks that the patch list's items (deletions and directives aside) come in the `$setElementOrder` order.
    static func validateOrder(
        _ patchList: [JSONValue],
        _ order: [JSONValue],
        key: String?
    ) throws(StrategicMergeError) {
        if order.isEmpty || patchList.isEmpty { return }
        var items = patchList
        if key != nil {
            items = []
            for item in patchList {
                guard case .object(let members) = item else { throw badArgType("map[string]interface {}", item) }
                if members[directiveMarker] != "delete" { items.append(item) }
            }
        }
        var patchIndex = 0
        var orderIndex = 0
        while patchIndex < items.count && orderIndex < order.count {
            if items[patchIndex].objectValue?[directiveMarker] != nil {
                patchIndex += 1
                continue
            }
            if try mergeKeyEqual(items[patchIndex], order[orderIndex], key: key) { patchIndex += 1 }
            orderIndex += 1
        }
        if patchIndex < items.count && orderIndex >= order.count {
            throw StrategicMergeError(
                "The order in patch list:\n\(goFormat(.array(patchList)))\n doesn't match "
                    + "\(setElementOrderPrefix) list:\n\(goFormat(.array(order)))\n"
            )
        }
    }

    static func mergeKeyEqual(_ left: JSONValue, _ right: JSONValue, key: String?) throws(StrategicMergeError) -> Bool {
        guard let key else { return left == right }
        guard case .object(let leftMembers) = left else { throw badArgType("map[string]interface {}", left) }
        guard case .object(let rightMembers) = right else { throw badArgType("map[string]interface {}", right) }
        guard let leftValue = leftMembers[key] else { throw noMergeKey(leftMembers, key) }
        guard let rightValue = rightMembers[key] else { throw noMergeKey(rightMembers, key) }
        return leftValue == rightValue
    }

    /// Orders the patch items by `patchOrder` and the server-only items by `serverOrder`, then interleaves them.
    static func normalizeOrder(
        patchItems: [JSONValue],
        serverOnly: [JSONValue],
        patchOrder: [JSONValue],
        serverOrder: [JSONValue],
        key: String?
    ) throws(StrategicMergeError) -> [JSONValue] {
        let patchSorted = try sortByOrder(patchItems, order: patchOrder, key: key)
        let serverSorted = try sortByOrder(serverOnly, order: serverOrder, key: key)
        return interleave(serverOnly: serverSorted, patchItems: patchSorted, serverOrder: serverOrder, key: key)
    }

    /// Sorts `items` by their position in `order`, stably, with apimachinery's comparison and insertion sort.
    static func sortByOrder(
        _ items: [JSONValue],
        order: [JSONValue],
        key: String?
    ) throws(StrategicMergeError) -> [JSONValue] {
        var toSort = items
        var deletions: [JSONValue] = []
        if let key {
            for item in items + order {
                guard case .object(let members) = item else { throw badArgType("map[string]interface {}", item) }
                if members[key] == nil { throw noMergeKey(members, key) }
            }
            toSort = items.filter { $0.objectValue?[directiveMarker] != "delete" }
            deletions = items.filter { $0.objectValue?[directiveMarker] == "delete" }
        }
        var entries = toSort.map { (item: $0, position: position(of: $0, in: order, key: key)) }
        func less(_ left: Int?, _ right: Int?) -> Bool {
            guard let left, let right else { return true }
            return left < right
        }
        if entries.count > 1 {
            for start in 1..<entries.count {
                var index = start
                while index > 0 && less(entries[index].position, entries[index - 1].position) {
                    entries.swapAt(index, index - 1)
                    index -= 1
                }
            }
        }
        return entries.map(\.item) + deletions
    }

    /// The first position in `list` of an element matching `item` by merge key value (or by value, without a key).
    static func position(of item: JSONValue, in list: [JSONValue], key: String?) -> Int? {
        guard let key else { return list.firstIndex(of: item) }
        let value = item.objectValue?[key]
        return list.firstIndex { $0.objectValue?[key] == value }
    }

    /// Interleaves the server-only items into the patch items: a server-only item goes first only when both it and
    /// the next patch item are in `serverOrder` and it comes earlier there.
    static func interleave(
        serverOnly: [JSONValue],
        patchItems: [JSONValue],
        serverOrder: [JSONValue],
        key: String?
    ) -> [JSONValue] {
        var result: [JSONValue] = []
        result.reserveCapacity(serverOnly.count + patchItems.count)
        var serverIndex = 0
        var patchIndex = 0
        while serverIndex < serverOnly.count || patchIndex < patchItems.count {
            if patchIndex >= patchItems.count {
                result.append(serverOnly[serverIndex])
                serverIndex += 1
            } else if serverIndex >= serverOnly.count {
                result.append(patchItems[patchIndex])
                patchIndex += 1
            } else if let serverPosition = position(of: serverOnly[serverIndex], in: serverOrder, key: key),
                let patchPosition = position(of: patchItems[patchIndex], in: serverOrder, key: key),
                serverPosition < patchPosition
            {
                result.append(serverOnly[serverIndex])
                serverIndex += 1
            } else {
                result.append(patchItems[patchIndex])
                patchIndex += 1
            }
        }
        return result
    }
}

// MARK: - Errors in apimachinery's words

extension StrategicMergePatch {
    static func noMergeKey(_ members: [String: JSONValue], _ key: String) -> StrategicMergeError {
        StrategicMergeError("map: \(goFormat(.object(members))) does not contain declared merge key: \(key)")
    }

    static func badPatchType(_ directive: JSONValue, _ members: [String: JSONValue]) -> StrategicMergeError {
        let printed: String
        switch directive {
        case .string(let text): printed = text
        case .null: printed = "%!s(<nil>)"
        default: printed = "%!s(\(goTypeName(directive))=\(goFormat(directive)))"
        }
        return StrategicMergeError("unknown patch type: \(printed) in map: \(goFormat(.object(members)))")
    }

    static func badArgType(_ expected: String, _ actual: JSONValue) -> StrategicMergeError {
        StrategicMergeError("expected a \(expected), but received a \(goTypeName(actual))")
    }

    /// The Go type a JSON value decodes to in Kubernetes' unstructured form.
    static func goTypeName(_ value: JSONValue) -> String {
        switch value {
        case .null: return "<nil>"
        case .bool: return "bool"
        case .int: return "int64"
        case .double: return "float64"
        case .string: return "string"
        case .array: return "[]interface {}"
        case .object: return "map[string]interface {}"
        }
    }

    /// The value as Go's `%v` prints its unstructured form: `map[k:v]` with sorted keys, `[a b]`, `<nil>`.
    static func goFormat(_ value: JSONValue) -> String {
        switch value {
        case .null: return "<nil>"
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number): return String(number)
        case .double(let number): return goFloat(number)
        case .string(let text): return text
        case .array(let elements): return "[" + elements.map(goFormat).joined(separator: " ") + "]"
        case .object(let members):
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            return "map[" + keys.map { "\($0):\(members[$0].map(goFormat) ?? "<nil>")" }.joined(separator: " ") + "]"
        }
    }

    /// A float as Go's `%v` prints it: shortest digits, exponent form below 1e-4 and from 1e+06 on.
    static func goFloat(_ number: Double) -> String {
        guard number.isFinite else { return number.isNaN ? "NaN" : (number < 0 ? "-Inf" : "+Inf") }
        if number == 0 { return number.sign == .minus ? "-0" : "0" }
        // Shortest round-trip digits and decimal exponent from Swift's description ("1.5e-07", "123.25").
        let text = String(describing: number.magnitude)
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(String(text[text.index(after: e)...].filter { $0 != "+" })) ?? 0
        }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let whole = String(parts.first ?? "")
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        var digits = whole + fraction
        var point = whole.count + exponent
        while digits.hasPrefix("0") && digits.count > 1 {
            digits.removeFirst()
            point -= 1
        }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        let sign = number < 0 ? "-" : ""
        let decimalExponent = point - 1
        if decimalExponent < -4 || decimalExponent >= 6 {
            let head = String(digits.prefix(1))
            let tail = String(digits.dropFirst())
            let magnitude = abs(decimalExponent)
            let exponentText = (magnitude < 10 ? "0" : "") + String(magnitude)
            return sign + head + (tail.isEmpty ? "" : "." + tail) + "e" + (decimalExponent < 0 ? "-" : "+")
                + exponentText
        }
        if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + digits }
        if point >= digits.count { return sign + digits + String(repeating: "0", count: point - digits.count) }
        let split = digits.index(digits.startIndex, offsetBy: point)
        return sign + String(digits[..<split]) + "." + String(digits[split...])
    }
}
