/// Sizes computed from numbers read in a file (dimensions, counts, offsets), checked.
///
/// A product or sum that would overflow `Int`, has a negative operand, or exceeds the reader's bound is
/// `nil`, so a hostile header becomes the reader's typed error instead of an arithmetic trap or an
/// allocation the size of the address space. Every reader of outside data computes its sizes here.
///
/// ```swift
/// guard let count = CheckedSize.product(dimensions, limit: 1 << 32) else {
///     throw DataError(path: path, .implausibleSize("dimensions \(dimensions) hold more than 2³² elements"))
/// }
/// ```
package enum CheckedSize {
    /// The product of `factors`, or nil when a factor is negative, or the product overflows `Int` or
    /// exceeds `limit`. A zero factor makes the product 0 whatever the others are.
    package static func product(_ factors: [Int], limit: Int = .max) -> Int? {
        guard factors.allSatisfy({ $0 >= 0 }) else { return nil }
        if factors.contains(0) { return 0 }
        var result = 1
        for factor in factors {
            let (product, overflow) = result.multipliedReportingOverflow(by: factor)
            guard !overflow, product <= limit else { return nil }
            result = product
        }
        return result
    }

    /// The sum of `terms`, or nil when a term is negative, or the sum overflows `Int` or exceeds `limit`.
    package static func sum(_ terms: Int..., limit: Int = .max) -> Int? {
        var result = 0
        for term in terms {
            guard term >= 0 else { return nil }
            let (sum, overflow) = result.addingReportingOverflow(term)
            guard !overflow, sum <= limit else { return nil }
            result = sum
        }
        return result
    }
}
