import Testing

@testable import KubeRuntime

@Suite("Work queue")
struct WorkQueueTests {
    @Test("keys are de-duplicated while waiting and handed out in order")
    func deduplication() async {
        let queue = WorkQueue<String>()
        await queue.add("a")
        await queue.add("b")
        await queue.add("a")
        #expect(await queue.depth == 2)
        #expect(await queue.next() == "a")
        #expect(await queue.next() == "b")
    }

    @Test("a key being processed is not handed out again until done; a re-add then queues it once")
    func noConcurrentKey() async {
        let queue = WorkQueue<String>()
        await queue.add("a")
        let first = await queue.next()
        #expect(first == "a")
        await queue.add("a")
        await queue.add("a")
        await queue.add("b")
        #expect(await queue.next() == "b", "a is still being processed")
        await queue.done("a")
        #expect(await queue.next() == "a")
        #expect(await queue.depth == 0)
    }

    @Test("delayed adds fire after their delay; the earliest deadline wins")
    func delayed() async throws {
        let queue = WorkQueue<String>()
        let start = ContinuousClock.now
        await queue.add("late", after: .milliseconds(200))
        await queue.add("late", after: .milliseconds(50))
        await queue.add("late", after: .seconds(120))
        let key = await queue.next()
        let waited = ContinuousClock.now - start
        #expect(key == "late")
        // A later add must not postpone an earlier deadline: the 120 s add would make it wait
        // 120 s. (No tighter upper bound: a loaded machine has delayed a 50 ms timer by 5 s.)
        #expect(waited >= .milliseconds(50) && waited < .seconds(60))
    }

    @Test("failures back off exponentially per key, forget resets")
    func backoff() async {
        let queue = WorkQueue<String>(baseDelay: .milliseconds(1), maxDelay: .milliseconds(64))
        for expected in 1...4 {
            await queue.addRateLimited("x")
            #expect(await queue.failureCount("x") == expected)
        }
        #expect(await queue.next() == "x")
        await queue.forget("x")
        #expect(await queue.failureCount("x") == 0)
    }

    @Test("shutdown releases waiting workers")
    func shutdown() async {
        let queue = WorkQueue<String>()
        async let waiting = queue.next()
        try? await Task.sleep(for: .milliseconds(20))
        await queue.shutdown()
        #expect(await waiting == nil)
        await queue.add("ignored")
        #expect(await queue.depth == 0)
    }
}
