import Testing
import WarncastCore
import WarncastReceiver

@Suite("What heartbeats say of the terminal")
struct TerminalConditionTests {
    @Test("normal, broadcasting while playing, fault after a failure until a success, then recovered once")
    func lifecycle() {
        var condition = TerminalCondition()
        #expect(condition.heartbeatStatus() == .normal)
        condition.beganPlaying()
        #expect(condition.heartbeatStatus() == .broadcasting)
        condition.finished("w-1/ls-1", succeeded: false)
        #expect(condition.heartbeatStatus() == .fault)
        #expect(condition.heartbeatStatus() == .fault)
        #expect(condition.lastPlayed == nil)
        condition.beganPlaying()
        #expect(condition.heartbeatStatus() == .broadcasting)
        condition.finished("w-2/ls-1", succeeded: true)
        #expect(condition.lastPlayed == "w-2/ls-1")
        #expect(condition.heartbeatStatus() == .recovered)
        #expect(condition.heartbeatStatus() == .normal)
    }

    @Test("a recovery whose heartbeat did not reach the node is said again")
    func recoveryNotSent() {
        var condition = TerminalCondition()
        condition.finished("w-1/ls-1", succeeded: false)
        condition.finished("w-2/ls-1", succeeded: true)
        let status = condition.heartbeatStatus()
        #expect(status == .recovered)
        condition.notSent(status)
        #expect(condition.heartbeatStatus() == .recovered)
        #expect(condition.heartbeatStatus() == .normal)
    }

    @Test("the monitor's heartbeat carries the last key played and the version")
    func heartbeat() async {
        let monitor = TerminalMonitor()
        await monitor.finished("w-1/ls-1", succeeded: true)
        let heartbeat = await monitor.heartbeat(version: "warncast-receiver 1")
        #expect(heartbeat == TerminalHeartbeat(status: .normal, lastPlayed: "w-1/ls-1", version: "warncast-receiver 1"))
    }
}
