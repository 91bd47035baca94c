import JSONValue

extension ObjectMeta: JSONObjectDecodable {
    public init(reading object: JSONObjectReader) throws {
        name = try object.optional("name")
        generateName = try object.optional("generateName")
        namespace = try object.optional("namespace")
        uid = try object.optional("uid")
        resourceVersion = try object.optional("resourceVersion")
        generation = try object.optional("generation")
        creationTimestamp = try object.optional("creationTimestamp")
        deletionTimestamp = try object.optional("deletionTimestamp")
        deletionGracePeriodSeconds = try object.optional("deletionGracePeriodSeconds")
        labels = try object.optional("labels")
        annotations = try object.optional("annotations")
        ownerReferences = try object.optional("ownerReferences")
        finalizers = try object.optional("finalizers")
        managedFields = try object.optional("managedFields")
    }
}

extension OwnerReference: JSONObjectDecodable {
    public init(reading object: JSONObjectReader) throws {
        apiVersion = try object.required("apiVersion")
        kind = try object.required("kind")
        name = try object.required("name")
        uid = try object.required("uid")
        controller = try object.optional("controller")
        blockOwnerDeletion = try object.optional("blockOwnerDeletion")
    }
}
