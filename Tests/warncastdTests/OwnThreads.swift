import Testing
import WarncastTestSupport

/// Runs each test of a suite on `ThreadExecutor.waiting` instead of Swift's cooperative
/// pool. These tests wait for processes synchronously (a daemon's start, a curl request, a
/// CLI run); on the pool, two of them at once held both of its threads here, and every other
/// test's poll and every in-process peer stood still until one finished.
struct OwnThreads: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        try await withTaskExecutorPreference(ThreadExecutor.waiting) { try await function() }
    }
}

extension Trait where Self == OwnThreads {
    static var ownThreads: Self { OwnThreads() }
}
