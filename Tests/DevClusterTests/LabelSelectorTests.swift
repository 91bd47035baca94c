import DevCluster
import JSONValue
import Testing

@Suite("Label selectors")
struct LabelSelectorTests {
    static let qualifiedNameRule =
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
        + "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
        + "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    static let labelValueRule =
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
        + "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
        + "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

    @Test(
        "parses every operator and renders the canonical form sorted by key",
        arguments: [
            ("app=web", "app=web"),
            ("app==web", "app==web"),
            ("app!=web", "app!=web"),
            ("  app = web , tier in ( b , a ) ", "app=web,tier in (a,b)"),
            ("x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()"),
            ("!canary", "!canary"),
            ("app.kubernetes.io/name=podinfo", "app.kubernetes.io/name=podinfo"),
            ("b=1,a=2", "a=2,b=1"),
            ("replicas>1,replicas<5", "replicas>1,replicas<5"),
            ("in=notin", "in=notin"),
            ("a=", "a="),
            ("tier notin (b,a,b)", "tier notin (a,b)"),
            ("", ""),
        ]
    )
    func parses(input: String, canonical: String) throws {
        let selector = try LabelSelector(parsing: input)
        #expect(selector.description == canonical)
        #expect(selector.isEverything == canonical.isEmpty)
    }

    @Test(
        "matches labels as apimachinery does",
        arguments: [
            ("app=web", ["app": "web"], true),
            ("app=web", ["app": "api"], false),
            ("app=web", [:], false),
            ("app!=web", [:], true),
            ("app!=web", ["app": "web"], false),
            ("tier in (a,b)", ["tier": "b"], true),
            ("tier in (a,b)", ["tier": "c"], false),
            ("tier notin (a)", [:], true),
            ("tier notin (a)", ["tier": "a"], false),
            ("canary", ["canary": ""], true),
            ("canary", [:], false),
            ("!canary", ["canary": "x"], false),
            ("!canary", ["app": "web"], true),
            ("replicas>1", ["replicas": "2"], true),
            ("replicas>1", ["replicas": "1"], false),
            ("replicas>1", ["replicas": "two"], false),
            ("replicas<3", ["replicas": "-4"], true),
            ("app=web,tier=front", ["app": "web", "tier": "back"], false),
            ("", ["anything": "goes"], true),
        ] as [(String, [String: String], Bool)]
    )
    func matches(selector: String, labels: [String: String], expected: Bool) throws {
        #expect(try LabelSelector(parsing: selector).matches(labels) == expected)
    }

    @Test(
        "refuses bad syntax with apimachinery's words",
        arguments: [
            ("x=a b", "found 'b', expected: ',' or 'end of string'"),
            ("x in (a", "unable to parse requirement: found '', expected: ',' or ')'"),
            ("=a", "found '=', expected: !, identifier, or 'end of string'"),
            ("a,", "found '', expected: identifier after ','"),
            ("a b=c", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
            ("a!b", "unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt"),
            ("a in x", "unable to parse requirement: found 'x' expected: '('"),
            ("a in ()x", "found 'x', expected: ',' or 'end of string'"),
            ("a=!b", "unable to parse requirement: found '!', expected: identifier"),
            ("a in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"),
            (
                "a>b",
                "unable to parse requirement: values[0]: Invalid value: \"b\": for 'Gt', 'Lt' operators, the value must be an integer"
            ),
        ]
    )
    func syntaxErrors(input: String, message: String) {
        #expect(throws: SelectorError(message)) { try LabelSelector(parsing: input) }
    }

    @Test("refuses an invalid key with the <nil> path the apiserver prints")
    func invalidKey() {
        #expect(
            throws: SelectorError(
                "unable to parse requirement: <nil>: Invalid value: \"-a\": name part " + Self.qualifiedNameRule
            )
        ) {
            try LabelSelector(parsing: "-a=b")
        }
        let prefixRule =
            "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
            + "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
            + "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        #expect(
            throws: SelectorError("unable to parse requirement: <nil>: Invalid value: \"Example.com/a\": " + prefixRule)
        ) {
            try LabelSelector(parsing: "Example.com/a=b")
        }
        #expect(
            throws: SelectorError(
                "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name "
                    + Self.qualifiedNameRule
                    + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            )
        ) { try LabelSelector(parsing: "a/b/c") }
        let long = String(repeating: "k", count: 64)
        #expect(
            throws: SelectorError(
                "unable to parse requirement: <nil>: Invalid value: \"\(long)\": name part must be no more than 63 characters"
            )
        ) {
            try LabelSelector(parsing: long)
        }
    }

    @Test("refuses invalid values, aggregating several")
    func invalidValues() {
        #expect(
            throws: SelectorError(
                "unable to parse requirement: values[0][a]: Invalid value: \"-b\": " + Self.labelValueRule
            )
        ) {
            try LabelSelector(parsing: "a=-b")
        }
        let both =
            "unable to parse requirement: [values[0][a]: Invalid value: \"-x\": " + Self.labelValueRule
            + ", values[1][a]: Invalid value: \"-y\": " + Self.labelValueRule + "]"
        #expect(throws: SelectorError(both)) { try LabelSelector(parsing: "a in (-y,-x)") }
    }

    @Test("converts a metav1.LabelSelector with matchLabels and matchExpressions")
    func fromJSON() throws {
        let json = try JSONValue(
            parsing: """
                {"matchLabels":{"app":"web"},"matchExpressions":[
                  {"key":"tier","operator":"In","values":["b","a"]},
                  {"key":"canary","operator":"DoesNotExist"},
                  {"key":"track","operator":"NotIn","values":["canary"]},
                  {"key":"owner","operator":"Exists"}]}
                """
        )
        let selector = try LabelSelector(json: json)
        #expect(selector.description == "app=web,!canary,owner,tier in (a,b),track notin (canary)")
        #expect(selector.matches(["app": "web", "tier": "a", "owner": "me"]))
        #expect(!selector.matches(["app": "web", "tier": "a", "owner": "me", "canary": "1"]))
        #expect(!selector.matches(["app": "web", "tier": "a"]))
        #expect(!selector.matches(["app": "web", "tier": "a", "owner": "me", "track": "canary"]))
    }

    @Test("treats an empty selector object as matching everything")
    func emptyJSONSelector() throws {
        let selector = try LabelSelector(json: [:])
        #expect(selector.isEverything)
        #expect(selector.matches(["anything": "x"]))
        #expect(try LabelSelector(json: ["matchLabels": [:], "matchExpressions": []]).isEverything)
    }

    @Test("refuses a bad operator, empty In values and non-objects")
    func jsonErrors() {
        #expect(throws: SelectorError("\"Foo\" is not a valid label selector operator")) {
            try LabelSelector(json: ["matchExpressions": [["key": "a", "operator": "Foo"]]])
        }
        #expect(
            throws: SelectorError(
                "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"
            )
        ) { try LabelSelector(json: ["matchExpressions": [["key": "a", "operator": "In", "values": []]]]) }
        #expect(
            throws: SelectorError(
                "values: Invalid value: []string{\"x\"}: values set must be empty for exists and does not exist"
            )
        ) { try LabelSelector(json: ["matchExpressions": [["key": "a", "operator": "Exists", "values": ["x"]]]]) }
        #expect(throws: SelectorError("key: Invalid value: \"-a\": name part " + Self.qualifiedNameRule)) {
            try LabelSelector(json: ["matchLabels": ["-a": "b"]])
        }
        #expect(throws: SelectorError.self) { try LabelSelector(json: nil) }
    }

    @Test("reads an object's metadata.labels")
    func matchesObject() throws {
        let object: JSONValue = ["metadata": ["labels": ["app": "podinfo", "track": "primary"]]]
        #expect(try LabelSelector(parsing: "app=podinfo,track!=canary").matches(object: object))
        #expect(try !LabelSelector(parsing: "app=other").matches(object: object))
        #expect(try !LabelSelector(parsing: "app").matches(object: ["metadata": [:]]))
    }
}
