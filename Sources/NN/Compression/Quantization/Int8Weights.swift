import AutoGrad

/// A weight matrix quantised symmetrically to int8 per output row (per output channel): row `j` is
/// `scales[j] · values[j, :]` with `values` in −127…127 and `scales[j] = max|W[j, :]| / 127`, as PyTorch's
/// `per_channel_symmetric` weight observer gives (−128 is never produced, so negating a weight cannot overflow).
///
/// `rowSums[j] = Σₚ values[j, p]` lets a product with zero-point activations subtract the zero point's share once
/// per output instead of once per product.
public struct Int8Weights: Sendable, Equatable {
    /// Rows (outputs) × columns (inputs).
    public let rows: Int, columns: Int
    /// The quantised values, row-major.
    public let values: [Int8]
    /// One positive scale per row.
    public let scales: [Float]
    /// The sum of each row's values.
    let rowSums: [Int32]

    /// Quantises a `[rows, columns]` weight; an all-zero row gets scale 1.
    ///
    /// - Precondition: `weight` has rank 2.
    public init(quantizing weight: Tensor) {
        precondition(weight.rank == 2, "Int8Weights: the weight must have rank 2, got shape \(weight.shape)")
        let (rows, columns) = (weight.shape[0], weight.shape[1])
        let w = weight.doubles
        var values = [Int8](repeating: 0, count: rows * columns)
        var scales = [Float](repeating: 1, count: rows)
        for j in 0..<rows {
            let row = w[j * columns..<(j + 1) * columns]
            let largest = row.reduce(0) { Swift.max($0, Swift.abs($1)) }
            // The scale is rounded to Float first, so the values are quantised with the scale that is stored.
            let scale = largest > 0 ? Float(largest / 127) : 1
            scales[j] = scale
            for p in 0..<columns {
                values[j * columns + p] = Int8(Swift.max(-127, Swift.min(127, (row[row.startIndex + p] / Double(scale)).rounded())))
            }
        }
        self.init(rows: rows, columns: columns, values: values, scales: scales)
    }

    /// Weights from stored parts, as a quantised checkpoint holds them.
    ///
    /// - Throws: ``QuantizedStateError`` when the counts do not match the shape, a value is −128, or a scale is
    ///   not positive and finite.
    public init(rows: Int, columns: Int, values: [Int8], scales: [Float], name: String) throws {
        guard values.count == rows * columns, scales.count == rows else {
            throw QuantizedStateError.shapeMismatch(key: name, expected: [rows, columns],
                                                    found: [values.count / Swift.max(columns, 1), columns])
        }
        if let bad = values.firstIndex(of: -128) {
            throw QuantizedStateError.invalidValue(key: name, reason: "value −128 at \(bad) is outside the symmetric range −127…127")
        }
        if let bad = scales.firstIndex(where: { !($0 > 0 && $0.isFinite) }) {
            throw QuantizedStateError.invalidValue(key: name + "_scale", reason: "scale \(scales[bad]) at \(bad) is not positive and finite")
        }
        self.init(rows: rows, columns: columns, values: values, scales: scales)
    }

    private init(rows: Int, columns: Int, values: [Int8], scales: [Float]) {
        self.rows = rows
        self.columns = columns
        self.values = values
        self.scales = scales
        self.rowSums = (0..<rows).map { j in values[j * columns..<(j + 1) * columns].reduce(Int32(0)) { $0 + Int32($1) } }
    }

    /// The values with each row padded by zeros to `pitch` columns, for a product whose depth is rounded up to its
    /// kernel's vector step (zero weights add nothing whatever the activations there).
    ///
    /// - Precondition: `pitch >= columns`.
    func paddedValues(pitch: Int) -> [Int8] {
        precondition(pitch >= columns, "Int8Weights.paddedValues: pitch \(pitch) is less than the \(columns) columns")
        var padded = [Int8](repeating: 0, count: rows * pitch)
        for j in 0..<rows {
            for p in 0..<columns { padded[j * pitch + p] = values[j * columns + p] }
        }
        return padded
    }

    /// The weights they stand for, `scales[j] · values[j, :]`, as a Float tensor.
    public func dequantized() -> Tensor {
        var out = [Float](repeating: 0, count: rows * columns)
        for j in 0..<rows { for p in 0..<columns { out[j * columns + p] = scales[j] * Float(values[j * columns + p]) } }
        return Tensor(shape: [rows, columns], scalars: out)
    }
}
