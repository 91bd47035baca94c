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
