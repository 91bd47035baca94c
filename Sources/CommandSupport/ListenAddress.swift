import ArgumentParser
import Foundation

/// `HOST:PORT`, with `[v6]:PORT` for IPv6.
///
/// An empty host (`:9443`) means every interface, `0.0.0.0`; port 0 asks the system for a free port.
public struct ListenAddress: Sendable {
    public var host: String
    public var port: Int

    /// Parses `text`; `flag` names the option in the validation error.
    public init(_ text: String, flag: String = "--listen") throws {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[close...].dropFirst().drop { $0 == ":" }
        } else if let colon = text.lastIndex(of: ":") {
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        } else {
            throw ValidationError("\(flag) \(text) must be HOST:PORT, e.g. 0.0.0.0:9443")
        }
        guard let port = Int(portPart), (0...65535).contains(port) else {
            throw ValidationError("\(flag) \(text) has no valid port (0-65535)")
        }
        host = hostPart.isEmpty ? "0.0.0.0" : String(hostPart)
        self.port = port
    }
}

/// Prints `message` to standard error and returns exit code `code`, for commands to throw.
public func fail(_ message: String, code: Int32 = 1) -> ExitCode {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    return ExitCode(code)
}
