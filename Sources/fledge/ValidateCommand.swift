import ArgumentParser
import CanaryModel
import CommandSupport
import Foundation
import JSONValue
import KubeModels
import KubeYAML

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check Canary manifests with the webhook's rules, for CI pipelines.",
        discussion: """
            Reads multi-document YAML or JSON. Canaries get the defaults the webhook would write, then every rule; \
            MetricTemplates and AlertProviders are checked against their schema; other kinds are skipped. \
            Exit status: 0 all valid, 1 something invalid, 2 input unreadable.
            """
    )

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(name: .shortAndLong, help: "File to read, or - for standard input.")
    var filename: String

    @Option(name: .shortAndLong, help: "Output format: text or json.")
    var output: OutputFormat = .text

    @Option(help: "Provider assumed for Canaries that name none.")
    var defaultProvider = "linkerd"

    func run() throws {
        let text: String
        if filename == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            guard let data = FileManager.default.contents(atPath: filename) else {
                throw fail("error: cannot read \(filename)", code: 2)
            }
            text = String(decoding: data, as: UTF8.self)
        }
        let documents: [JSONValue]
        do {
            documents = try YAMLDocuments.parse(text)
        } catch {
            throw fail("error: \(filename): \(error)", code: 2)
        }
        let results = documents.enumerated().map {
            DocumentCheck(index: $0.offset, document: $0.element, defaultProvider: defaultProvider)
        }
        switch output {
        case .text:
            for result in results { result.printText() }
            if results.isEmpty { print("no documents in \(filename)") }
        case .json:
            print(JSONValue.array(results.map(\.json)).serialized())
        }
        if results.contains(where: { !$0.report.isValid }) { throw ExitCode(1) }
    }
}

/// The verdict on one document of the input.
struct DocumentCheck {
    let kind: String
    let name: String
    let namespace: String?
    let checked: Bool
    let report: ValidationReport

    init(index: Int, document: JSONValue, defaultProvider: String) {
        kind = document["kind"]?.stringValue ?? "(no kind)"
        name = document["metadata", "name"]?.stringValue ?? "(document \(index + 1))"
        namespace = document["metadata", "namespace"]?.stringValue
        let group = document["apiVersion"]?.stringValue?.split(separator: "/").first.map(String.init)
        guard group == "flagger.app" else {
            checked = false
            report = ValidationReport()
            return
        }
        checked = true
        switch kind {
        case "Canary":
            let defaulted = CanaryDefaulter(defaultProvider: defaultProvider).defaulted(document)
            report = CanaryValidator().validate(defaulted)
        case "MetricTemplate":
            report = Self.schemaReport(CanarySchema.metricTemplate, document)
        case "AlertProvider":
            report = Self.schemaReport(CanarySchema.alertProvider, document)
        default:
            report = ValidationReport(errors: [
                .notSupported("kind", .string(kind), supported: ["Canary", "MetricTemplate", "AlertProvider"])
            ])
        }
    }

    static func schemaReport(_ schema: StructuralSchema, _ document: JSONValue) -> ValidationReport {
        let findings = schema.validate(document, at: FieldPath(""))
        return ValidationReport(
            errors: findings.errors,
            warnings: findings.unknownFields.map { "unknown field \"\($0)\" is ignored" }
        )
    }

    var resource: String { "\(kind.lowercased()).flagger.app/\(name)" }

    func printText() {
        guard checked else {
            print("\(kind)/\(name) skipped (not a flagger.app resource)")
            return
        }
        for warning in report.warnings {
            FileHandle.standardError.write(Data("Warning: \(warning)\n".utf8))
        }
        if report.isValid {
            print("\(resource) is valid")
        } else {
            print("The \(kind) \"\(name)\" is invalid: ")
            for error in report.errors { print("* \(error)") }
        }
    }

    var json: JSONValue {
        var object: JSONValue = [
            "kind": .string(kind),
            "name": .string(name),
            "checked": .bool(checked),
            "valid": .bool(report.isValid),
            "errors": .array(
                report.errors.map {
                    ["field": .string($0.field), "type": .string($0.kind.rawValue), "message": .string($0.description)]
                }
            ),
            "warnings": .array(report.warnings.map { .string($0) }),
        ]
        if let namespace { object["namespace"] = .string(namespace) }
        return object
    }
}
