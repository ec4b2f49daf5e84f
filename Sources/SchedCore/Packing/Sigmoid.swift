/// exp and the logistic function in plain Swift (the core imports no math library).
enum Sigmoid {
    static let ln2Hi = 6.93147180369123816490e-01
    static let ln2Lo = 1.90821492927058770002e-10

    /// e^x to within a few ulps: x = k·ln2 + r with |r| ≤ ln2/2, then a Taylor series in r.
    static func exp(_ x: Double) -> Double {
        if x.isNaN { return x }
        if x > 709.78 { return .infinity }
        if x < -745.2 { return 0 }
        let k = (x / (ln2Hi + ln2Lo)).rounded()
        let r = (x - k * ln2Hi) - k * ln2Lo
        var sum = 1.0, term = 1.0
        for i in 1...16 {
            term *= r / Double(i)
            sum += term
        }
        return sum * Double(sign: .plus, exponent: Int(k), significand: 1)
    }
}

/// The logistic function 1 / (1 + e^−x).
func sigmoid(_ x: Double) -> Double { 1 / (1 + Sigmoid.exp(-x)) }
