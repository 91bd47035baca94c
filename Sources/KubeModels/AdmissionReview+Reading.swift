import JSONValue

// Direct readers for what the admission gate decodes on every review (see `JSONObjectDecodable`); the members and
// errors are those of the synthesized `Decodable` conformances.

extension AdmissionRequest: JSONObjectDecodable {
    public init(reading reader: JSONObjectReader) throws {
        uid = try reader.required("uid")
        kind = try reader.required("kind")
        resource = try reader.required("resource")
        subResource = try reader.optional("subResource")
        requestKind = try reader.optional("requestKind")
        requestResource = try reader.optional("requestResource")
        requestSubResource = try reader.optional("requestSubResource")
        name = try reader.optional("name")
        namespace = try reader.optional("namespace")
        operation = try reader.required("operation")
        userInfo = try reader.required("userInfo")
        self.object = try reader.optional("object", as: JSONValue.self)
        oldObject = try reader.optional("oldObject", as: JSONValue.self)
        dryRun = try reader.optional("dryRun")
        options = try reader.optional("options", as: JSONValue.self)
    }
}

extension GroupVersionKind: JSONObjectDecodable {
    public init(reading object: JSONObjectReader) throws {
        group = try object.required("group")
        version = try object.required("version")
        kind = try object.required("kind")
    }
}

extension GroupVersionResource: JSONObjectDecodable {
    public init(reading object: JSONObjectReader) throws {
        group = try object.required("group")
        version = try object.required("version")
        resource = try object.required("resource")
    }
}

extension UserInfo: JSONObjectDecodable {
    public init(reading object: JSONObjectReader) throws {
        username = try object.optional("username")
        uid = try object.optional("uid")
        groups = try object.optional("groups")
        extra = try object.optional("extra")
    }
}
