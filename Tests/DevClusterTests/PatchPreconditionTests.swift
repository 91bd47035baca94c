import JSONValue
import Testing

@testable import DevCluster

@Suite("A patch pins a resourceVersion only when it names one")
struct PatchPreconditionTests {
    // The bug: the patched object always carried the stored resourceVersion, so every patch counted as pinned and
    // a concurrent write (the simulated controller updating status) failed it with 409 instead of a retry.
    @Test(
        "merge, strategic and apply patches pin their metadata.resourceVersion; JSON patches an op on it",
        arguments: [
            (#"{"data":{"a":"1"}}"#, "application/merge-patch+json", nil),
            (#"{"metadata":{"resourceVersion":"7"}}"#, "application/merge-patch+json", "7"),
            (#"{"metadata":{"labels":{"a":"b"}}}"#, "application/strategic-merge-patch+json", nil),
            (#"{"metadata":{"resourceVersion":"9"}}"#, "application/strategic-merge-patch+json", "9"),
            (#"[{"op":"replace","path":"/data/a","value":"1"}]"#, "application/json-patch+json", nil),
            (#"[{"op":"test","path":"/metadata/resourceVersion","value":"3"}]"#, "application/json-patch+json", "3"),
            (#"[{"op":"remove","path":"/metadata/resourceVersion"}]"#, "application/json-patch+json", nil),
        ] as [(String, String, String?)]
    )
    func precondition(patch: String, contentType: String, expected: String?) throws {
        let document = try JSONValue(parsing: Array(patch.utf8))
        #expect(DevCluster.resourceVersionPrecondition(document, contentType: contentType) == expected)
    }
}
