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
