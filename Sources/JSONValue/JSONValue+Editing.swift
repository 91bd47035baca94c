extension JSONValue {
    /// Sets (or with nil removes) the member at `path`, creating objects along the way.
    public mutating func setMember(_ path: [String], _ value: JSONValue?) {
        guard let first = path.first else {
            if let value { self = value }
            return
        }
        var members = objectValue ?? [:]
        if path.count == 1 {
            members[first] = value
        } else {
            var child = members[first] ?? .object([:])
            if child.objectValue == nil { child = .object([:]) }
            child.setMember(Array(path.dropFirst()), value)
            members[first] = child
        }
        self = .object(members)
    }
}

extension JSONValue {
    /// Whether `other` holds everything this value holds: every member of an object (recursively), arrays of the
    /// same length element by element, other values equal. Members only `other` has are ignored, so a written
    /// object compares equal to what the API server returns with its defaults added.
    public func isContained(in other: JSONValue) -> Bool {
        switch (self, other) {
        case (.object(let mine), .object(let theirs)):
            return mine.allSatisfy { key, value in theirs[key].map { value.isContained(in: $0) } ?? value.isNull }
        case (.array(let mine), .array(let theirs)):
            return mine.count == theirs.count && zip(mine, theirs).allSatisfy { $0.isContained(in: $1) }
        default:
            return self == other
        }
    }
}

extension JSONValue {
    /// The value without the members and elements the pointers name, rebuilt in one walk whatever their number.
    ///
    /// Every pointer refers to this value as it is: removing an array element does not shift the pointers to the
    /// elements after it. A pointer that names nothing is ignored; the empty pointer (the whole value) is ignored
    /// too, since a value cannot remove itself.
    public func removing(_ pointers: some Sequence<JSONPointer>) -> JSONValue {
        removingWithShifts(pointers).value
    }

    /// ``removing(_:)``, also telling for each array that lost elements the original index of each element kept,
    /// so that a path into the result (`metrics[1]`) can be mapped back to the same element in this value.
    public func removingWithShifts(
        _ pointers: some Sequence<JSONPointer>
    ) -> (value: JSONValue, shifts: [(array: JSONPointer, keptIndices: [Int])]) {
        let root = RemovalTrie()
        for pointer in pointers where !pointer.tokens.isEmpty { root.insert(pointer.tokens[...]) }
        guard !root.children.isEmpty else { return (self, []) }
        var shifts: [(JSONPointer, [Int])] = []
        var path: [String] = []
        let value = root.apply(to: self, path: &path, shifts: &shifts)
        return (value, shifts)
    }
}

/// The pointers to remove as a tree of reference tokens, so the document is rebuilt along those paths only.
private final class RemovalTrie {
    var removed = false
    var children: [String: RemovalTrie] = [:]

    func insert(_ tokens: ArraySlice<String>) {
        guard let first = tokens.first else {
            removed = true
            return
        }
        let child: RemovalTrie
        if let existing = children[first] {
            child = existing
        } else {
            child = RemovalTrie()
            children[first] = child
        }
        child.insert(tokens.dropFirst())
    }

    /// `value` with this node's children removed or rebuilt; the node itself is removed by its parent. `path` is
    /// where `value` is; each array that loses elements is noted in `shifts`.
    func apply(
        to value: JSONValue,
        path: inout [String],
        shifts: inout [(JSONPointer, [Int])]
    ) -> JSONValue {
        switch value {
        case .object(var members):
            for (token, child) in children {
                guard let member = members[token] else { continue }
                if child.removed {
                    members[token] = nil
                } else {
                    path.append(token)
                    members[token] = child.apply(to: member, path: &path, shifts: &shifts)
                    path.removeLast()
                }
            }
            return .object(members)
        case .array(let elements):
            var byIndex: [Int: RemovalTrie] = [:]
            for (token, child) in children {
                guard let index = Int(token), String(index) == token, elements.indices.contains(index) else { continue }
                byIndex[index] = child
            }
            guard !byIndex.isEmpty else { return value }
            var kept: [JSONValue] = []
            var keptIndices: [Int] = []
            kept.reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                guard let child = byIndex[index] else {
                    kept.append(element)
                    keptIndices.append(index)
                    continue
                }
                if !child.removed {
                    path.append(String(index))
                    kept.append(child.apply(to: element, path: &path, shifts: &shifts))
                    path.removeLast()
                    keptIndices.append(index)
                }
            }
            if kept.count < elements.count { shifts.append((JSONPointer(tokens: path), keptIndices)) }
            return .array(kept)
        default:
            return value
        }
    }
}
