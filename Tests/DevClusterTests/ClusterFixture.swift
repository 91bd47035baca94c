import Foundation
import KubeClient
import Testing

/// The error a call threw, as a KubeAPIError; records an issue when it succeeded.
func apiError(_ body: () async throws -> Void) async -> KubeAPIError? {
    do {
        try await body()
        Issue.record("the request succeeded")
        return nil
    } catch let error as KubeAPIError {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

/// Polls until `condition` holds (the simulated controllers run in the background).
func eventually(
    timeout: Duration = .seconds(10),
    _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return false
}
