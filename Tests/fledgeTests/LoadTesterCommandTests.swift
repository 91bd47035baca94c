import Foundation
import Testing

@Suite("fledge loadtester")
struct LoadTesterCommandTests {
    @Test(
        "flags are checked before anything starts",
        arguments: [
            (["loadtester", "--programs", "hey,wget"], "--programs: \"wget\" is not one of hey, curl, helm, kubectl"),
            (["loadtester", "--allow-bash", "^curl ("], "allowBash: \"^curl (\" is not a valid regular expression"),
            (["loadtester", "--allow", "[x"], "allow: \"[x\" is not a valid regular expression"),
            (["loadtester", "--max-tasks", "0"], "--max-tasks 0: must be at least 1"),
            (["loadtester", "--max-gates", "0"], "--max-gates 0: must be at least 1"),
            (
                ["loadtester", "--token-file", "/nonexistent/token"],
                "the token file \"/nonexistent/token\" cannot be read"
            ),
        ]
    )
    func badFlags(_ arguments: [String], _ message: String) throws {
        let result = try Fledge.run(arguments + ["--listen", "127.0.0.1:0"])
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }
}
