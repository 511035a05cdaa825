import SextantOperator
import Testing

/// Known values computed with SciPy 1.x (`scipy.stats.ttest_ind(..., equal_var=False)`,
/// `scipy.stats.t.sf`) and by hand for the z-test.
@Suite("Statistical tests")
struct StatisticalTestsUnitTests {
    @Test("two-proportion z-test: 200/1000 against 250/1000")
    func zTest() throws {
        let result = try #require(StatisticalTests.twoProportionZTest(successesA: 200, trialsA: 1000, successesB: 250, trialsB: 1000))
        #expect(abs(result.statistic - 2.677397763008329) < 1e-9)
        #expect(abs(result.pValue - 0.007419649261025693) < 1e-9)
        #expect(abs(result.difference - 0.05) < 1e-12)
        #expect(abs(result.effectSize - 0.11990) < 1e-4)  // Cohen's h = 2 asin √0.25 − 2 asin √0.2
    }

    @Test("z-test is undefined without trials or without variation")
    func zTestDegenerate() {
        #expect(StatisticalTests.twoProportionZTest(successesA: 0, trialsA: 0, successesB: 1, trialsB: 2) == nil)
        #expect(StatisticalTests.twoProportionZTest(successesA: 10, trialsA: 10, successesB: 5, trialsB: 5) == nil)
    }

    @Test("Welch's t-test on Wikipedia's first example")
    func welch() throws {
        let a = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
        let b = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]
        let result = try #require(StatisticalTests.welchTTest(a, b))
        // SciPy tests a − b; this tests b − a, so the statistic has the opposite sign.
        #expect(abs(result.statistic - 2.455356398286006) < 1e-9)
        #expect(abs(result.pValue - 0.021378001462866992) < 1e-9)
        #expect(abs((result.degreesOfFreedom ?? 0) - 24.988529290231416) < 1e-9)
        #expect(abs(result.difference - (22.986666666666665 - 20.819999999999997)) < 1e-9)
    }

    @Test("Student's t two-sided tail against SciPy")
    func studentT() {
        #expect(abs(StatisticalTests.studentTTwoSided(2.0, degreesOfFreedom: 5) - 0.10193947882985835) < 1e-10)
        #expect(abs(StatisticalTests.studentTTwoSided(1.0, degreesOfFreedom: 30.5) - 0.3251785944351794) < 1e-10)
        #expect(StatisticalTests.studentTTwoSided(0, degreesOfFreedom: 10) == 1)
    }
}
