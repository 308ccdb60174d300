import Foundation
import Testing

@testable import HookGate

/// The delivery core without real time (issue 13): which rows a lane starts, and what becomes of
/// a failed attempt, driven with a fixed clock and fixed random draws.
@Suite struct DeliveryCoreTests {
    @Test func aLaneStartsAtMostItsConcurrencyOldestFirst() {
        var lane = LaneSchedule(Array(1...10), concurrency: 4)
        #expect(lane.start() == [1, 2, 3, 4])
        #expect(lane.start() == [])
        #expect(lane.finished(retrying: false) == [5])
        #expect(lane.finished(retrying: false) == [6])
        #expect(lane.inFlight == 4)
        #expect(!lane.isDone)
    }

    @Test func aRetryableFailureStopsNewStartsButLetsInFlightFinish() {
        var lane = LaneSchedule(Array(1...10), concurrency: 3)
        #expect(lane.start() == [1, 2, 3])
        #expect(lane.finished(retrying: true) == [])
        #expect(lane.failing)
        #expect(!lane.isDone)
        #expect(lane.finished(retrying: false) == [])
        #expect(lane.finished(retrying: false) == [])
        #expect(lane.isDone, "the target is probed with the oldest, not flooded")
    }

    @Test func permanentRefusalsDoNotHoldTheLane() {
        var lane = LaneSchedule(Array(1...3), concurrency: 1)
        #expect(lane.start() == [1])
        #expect(lane.finished(retrying: false) == [2])
        #expect(lane.finished(retrying: false) == [3])
        #expect(lane.finished(retrying: false) == [])
        #expect(lane.isDone)
    }

    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    func policy(_ change: (inout DeliverySettings) -> Void = { _ in }) -> RetryPolicy {
        var settings = DeliverySettings()
        settings.initialBackoff = .seconds(1)
        settings.maxBackoff = .seconds(60)
        change(&settings)
        return RetryPolicy(settings: settings)
    }

    @Test func backoffDoublesWithJitterUpToTheCap() {
        let unreachable = NotifyFailure(.unreachable, "refused")
        let expected: [(attempts: Int, random: Double, seconds: Double)] = [(1, 1, 1), (2, 1, 2), (3, 0.5, 2), (4, 1, 8), (10, 1, 60), (10, 0.5, 30)]
        for (attempts, random, seconds) in expected {
            let decision = policy().decide(attempts: attempts, createdAt: Self.now, failure: unreachable, now: Self.now, random: { random })
            #expect(decision == .retry(at: Self.now.addingTimeInterval(seconds)), "attempt \(attempts)")
        }
    }

    @Test func retryAfterIsHonoured() {
        let busy = NotifyFailure(.rejected, "429", status: 429, retryAfter: .seconds(120))
        #expect(policy().decide(attempts: 1, createdAt: Self.now, failure: busy, now: Self.now, random: { 1 }) == .retry(at: Self.now.addingTimeInterval(120)))
    }

    @Test func permanentRefusalsMaxAttemptsAndMaxAgeGiveUp() {
        let refused = NotifyFailure(.rejected, "403 forbidden", status: 403)
        #expect(policy().decide(attempts: 1, createdAt: Self.now, failure: refused, now: Self.now, random: { 1 }) == .giveUp("403 forbidden"))
        let down = NotifyFailure(.rejected, "503", status: 503)
        #expect(policy { $0.maxAttempts = 3 }.decide(attempts: 3, createdAt: Self.now, failure: down, now: Self.now, random: { 1 }) == .giveUp("503"))
        #expect(policy { $0.maxAttempts = 3 }.decide(attempts: 2, createdAt: Self.now, failure: down, now: Self.now, random: { 1 }) != .giveUp("503"))
        let old = Self.now.addingTimeInterval(-24 * 3600 + 0.5)
        #expect(policy().decide(attempts: 5, createdAt: old, failure: down, now: Self.now, random: { 1 }) == .giveUp("503"), "the next try would be past maxAge")
        #expect(policy().decide(attempts: 5, createdAt: Self.now, failure: NotifyFailure(.timeout, "slow"), now: Self.now, random: { 1 }) == .retry(at: Self.now.addingTimeInterval(16)))
    }
}
