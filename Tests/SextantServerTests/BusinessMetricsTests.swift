import Foundation
import SextantServer
import Testing

@Suite("Business metrics posted with feedback")
struct BusinessMetricsTests {
    @Test("running mean and variance match the two-pass values")
    func moments() {
        var moments = RunningMoments()
        let values = [2.0, 4, 4, 4, 5, 5, 7, 9]
        for value in values { moments.add(value) }
        #expect(moments.count == 8)
        #expect(abs(moments.mean - 5) < 1e-12)
        #expect(abs((moments.variance ?? 0) - 32.0 / 7) < 1e-12)
        var single = RunningMoments()
        single.add(1)
        #expect(single.variance == nil)
    }

    @Test("names and values are checked; nothing is recorded from a refused item")
    func refusals() {
        var metrics = BusinessMetrics()
        #expect(metrics.add(["revenue": 12.5, "clicked": 1]) == nil)
        #expect(metrics.add(["9lives": 1]) == "metric name '9lives' must start with a letter and use letters, digits, '_', '.', '-'")
        #expect(metrics.add(["revenue": "a lot"]) == "metric 'revenue' must be a finite number")
        #expect(metrics.add(["revenue": true]) == "metric 'revenue' must be a finite number")
        #expect(metrics.byName["revenue"]?.count == 1)
        #expect(metrics.byName["clicked"]?.mean == 1)
        var many = BusinessMetrics()
        for index in 0..<BusinessMetrics.maxNames { _ = many.add(["m\(index)": 1]) }
        #expect(many.add(["another": 1]) == "at most \(BusinessMetrics.maxNames) business metrics are kept")
        #expect(many.add(["m0": 2]) == nil)
    }
}
