import Foundation

/// The result of a two-sample test: statistic, two-sided p-value, and effect size.
public struct TestResult: Sendable, Equatable {
    /// z (proportions) or t (means).
    public var statistic: Double
    /// Two-sided p-value.
    public var pValue: Double
    /// Difference B − A (of proportions or means).
    public var difference: Double
    /// Standardised effect: Cohen's h (proportions) or Cohen's d (means).
    public var effectSize: Double
    /// Degrees of freedom (Welch's t-test only).
    public var degreesOfFreedom: Double?
}

/// The statistical tests an experiment between two versions can use.
public enum StatisticalTests {
    /// Two-proportion z-test (pooled standard error) of successes/trials in A and B.
    /// Nil when either sample is empty or the pooled proportion is 0 or 1.
    public static func twoProportionZTest(successesA: Int, trialsA: Int, successesB: Int, trialsB: Int) -> TestResult? {
        guard trialsA > 0, trialsB > 0 else { return nil }
        let pA = Double(successesA) / Double(trialsA)
        let pB = Double(successesB) / Double(trialsB)
        let pooled = Double(successesA + successesB) / Double(trialsA + trialsB)
        let standardError = (pooled * (1 - pooled) * (1 / Double(trialsA) + 1 / Double(trialsB))).squareRoot()
        guard standardError > 0 else { return nil }
        let z = (pB - pA) / standardError
        let h = 2 * asin(pB.squareRoot()) - 2 * asin(pA.squareRoot())
        return TestResult(statistic: z, pValue: erfc(abs(z) / 2.0.squareRoot()), difference: pB - pA, effectSize: h, degreesOfFreedom: nil)
    }

    /// Welch's t-test from each sample's mean, (n−1) variance and size. Nil with fewer than two
    /// observations in a sample or no variance at all.
    public static func welchTTest(meanA: Double, varianceA: Double, countA: Int, meanB: Double, varianceB: Double, countB: Int) -> TestResult? {
        guard countA > 1, countB > 1 else { return nil }
        let a = varianceA / Double(countA), b = varianceB / Double(countB)
        guard a + b > 0 else { return nil }
        let t = (meanB - meanA) / (a + b).squareRoot()
        let df = (a + b) * (a + b) / (a * a / Double(countA - 1) + b * b / Double(countB - 1))
        let pooledSD = ((varianceA + varianceB) / 2).squareRoot()
        return TestResult(
            statistic: t, pValue: studentTTwoSided(t, degreesOfFreedom: df), difference: meanB - meanA,
            effectSize: pooledSD > 0 ? (meanB - meanA) / pooledSD : 0, degreesOfFreedom: df)
    }

    /// Welch's t-test on raw samples.
    public static func welchTTest(_ a: [Double], _ b: [Double]) -> TestResult? {
        func moments(_ x: [Double]) -> (Double, Double) {
            let mean = x.reduce(0, +) / Double(x.count)
            return (mean, x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(1, x.count - 1)))
        }
        guard a.count > 1, b.count > 1 else { return nil }
        let (meanA, varianceA) = moments(a), (meanB, varianceB) = moments(b)
        return welchTTest(meanA: meanA, varianceA: varianceA, countA: a.count, meanB: meanB, varianceB: varianceB, countB: b.count)
    }

    /// P(|T| ≥ |t|) for Student's t with `degreesOfFreedom`: I_{ν/(ν+t²)}(ν/2, 1/2).
    public static func studentTTwoSided(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        regularizedIncompleteBeta(nu / (nu + t * t), a: nu / 2, b: 0.5)
    }

    /// The regularised incomplete beta function I_x(a, b), by its continued fraction (Lentz).
    static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logBeta: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let logPowers: Double = a * log(x) + b * log(1 - x)
        let logFront = logBeta + logPowers
        // The continued fraction converges fast for x < (a+1)/(a+b+2); use symmetry otherwise.
        if x > (a + 1) / (a + b + 2) { return 1 - regularizedIncompleteBeta(1 - x, a: b, b: a) }
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var fraction = d
        for m in 1...300 {
            let m = Double(m)
            let evenDenominator: Double = (a + 2 * m - 1) * (a + 2 * m)
            let even: Double = m * (b - m) * x / evenDenominator
            d = 1 + even * d; if abs(d) < tiny { d = tiny }
            c = 1 + even / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            fraction *= d * c
            let oddDenominator: Double = (a + 2 * m) * (a + 2 * m + 1)
            let odd: Double = -(a + m) * (a + b + m) * x / oddDenominator
            d = 1 + odd * d; if abs(d) < tiny { d = tiny }
            c = 1 + odd / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let step = d * c
            fraction *= step
            if abs(step - 1) < 1e-15 { break }
        }
        return exp(logFront) * fraction / a
    }
}
