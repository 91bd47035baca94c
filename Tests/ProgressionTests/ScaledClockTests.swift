import Foundation
import Progression
import Testing

/// `--speed` speeds up the simulated durations, not the timestamps users read.
@Suite("A sped-up clock writes wall-clock timestamps and measures deadlines in its own time")
struct ScaledClockTests {
    @Test("after a sped-up sleep, timestamps are still the wall clock's while elapsed time is the clock's")
    func timestampsStayOnTheWallClock() async throws {
        let clock = ScaledClock(speed: 1000)
        let written = clock.timestamp()
        // 10 s of the clock's time is at least 10 ms of real time, so its now() is then at least 9.99 s ahead.
        try await clock.sleep(for: .seconds(10))
        let stamp = clock.timestamp()
        let wall = Date()
        #expect(stamp <= wall, "a written timestamp must never lie in the future")
        #expect(written <= wall)
        #expect(clock.now() > wall.addingTimeInterval(5), "schedules still run on the sped-up time")
        #expect(clock.elapsed(since: written) >= 10, "deadlines such as progressDeadlineSeconds keep pace with sleeps")
    }

    @Test("a clock at speed 1 and a manual clock measure elapsed time from now()")
    func defaults() {
        let manual = ManualClock()
        let written = manual.timestamp()
        manual.advance(by: .seconds(42))
        #expect(manual.elapsed(since: written) == 42)
        #expect(manual.timestamp() == manual.now())
    }
}
