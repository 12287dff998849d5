/// L-BFGS (Nocedal, 1980) — PyTorch's `torch.optim.LBFGS`: a quasi-Newton method that builds an
/// approximation of the inverse Hessian from the last `historySize` steps and gradient changes, optionally with a
/// line search satisfying the strong Wolfe conditions.
///
/// Each ``step(_:)`` runs up to `maxIterations` iterations, so it needs a closure that re-evaluates the loss:
/// the closure zeroes the gradients, computes the loss, runs backward and returns the loss.
///
/// ```swift
/// let optimizer = LBFGS(model.parameters(), lineSearch: .strongWolfe)
/// for _ in 0..<10 {
///     optimizer.step {
///         optimizer.zeroGrad()
///         let loss = mseLoss(model(Variable(x)), Variable(y))
///         loss.backward()
///         return loss.value.item
///     }
/// }
/// ```
///
/// Without a line search each iteration moves by `learningRate` times the search direction (the first by at
/// most `learningRate / ‖g‖₁`). Iterations stop early when the largest gradient element is at most
/// `toleranceGrad`, or a step or the change of the loss is below `toleranceChange`. The arithmetic runs in
/// `Double` whatever the parameters' dtype. As in PyTorch, all parameters form one group and the method suits
/// full-batch problems; it keeps its own step counter and history, not saved by a state dictionary.
public final class LBFGS: _DeprecatedParametersProperty {
    /// How a step length is chosen.
    public enum LineSearch: Sendable {
        /// A bracketing search with cubic interpolation for a step satisfying the strong Wolfe conditions
        /// (c₁ = 1e-4, c₂ = 0.9, at most 25 evaluations), PyTorch's `line_search_fn="strong_wolfe"`.
        case strongWolfe
    }

    /// The parameters optimised, as one flat vector in this order.
    public func parameters() -> [Variable] { optimised }
    private let optimised: [Variable]
    /// The step length, or the first trial step of the line search (default 1).
    public var learningRate: Double
    /// Iterations per ``step(_:)`` (default 20).
    public let maxIterations: Int
    /// Closure evaluations per ``step(_:)`` (default `maxIterations · 5 / 4`).
    public let maxEvaluations: Int
    /// Stop when the largest gradient element is at most this (default 1e-7).
    public let toleranceGrad: Double
    /// Stop when a step's largest element or the change of the loss is below this (default 1e-9).
    public let toleranceChange: Double
    /// The number of curvature pairs kept (default 100).
    public let historySize: Int
    /// The line search, if any (default none: fixed steps).
    public let lineSearch: LineSearch?

    /// Iterations run over all steps (PyTorch's `n_iter`).
    public private(set) var iterations = 0
    /// Closure evaluations over all steps (PyTorch's `func_evals`).
    public private(set) var evaluations = 0

    private var direction: [Double] = []
    private var stepLength = 0.0
    private var steps: [[Double]] = []
    private var gradientChanges: [[Double]] = []
    private var rho: [Double] = []
    private var hessianDiagonal = 1.0
    private var previousGradient: [Double]?
    private var previousLoss = 0.0

    /// L-BFGS over `parameters` with PyTorch's defaults.
    ///
    /// - Precondition: a positive learning rate, iteration, evaluation and history counts; tolerances ≥ 0.
    public init(_ parameters: [Variable], learningRate: Double = 1, maxIterations: Int = 20, maxEvaluations: Int? = nil,
                toleranceGrad: Double = 1e-7, toleranceChange: Double = 1e-9, historySize: Int = 100,
                lineSearch: LineSearch? = nil) {
        let maxEvaluations = maxEvaluations ?? maxIterations * 5 / 4
        precondition(learningRate.isFinite && learningRate > 0, "LBFGS: learningRate must be positive, got \(learningRate)")
        precondition(maxIterations > 0 && maxEvaluations > 0 && historySize > 0,
                     "LBFGS: maxIterations \(maxIterations), maxEvaluations \(maxEvaluations) and historySize \(historySize) must be positive")
        precondition(toleranceGrad >= 0 && toleranceChange >= 0, "LBFGS: tolerances must be non-negative")
        optimised = parameters
        self.learningRate = learningRate
        self.maxIterations = maxIterations
        self.maxEvaluations = maxEvaluations
        self.toleranceGrad = toleranceGrad
        self.toleranceChange = toleranceChange
        self.historySize = historySize
        self.lineSearch = lineSearch
    }

    /// Forgets every parameter's gradient.
    public func zeroGrad() {
        for p in optimised { p.zeroGrad() }
    }

    /// Runs up to ``maxIterations`` iterations, calling `closure` to re-evaluate the loss and the gradients.
    ///
    /// - Returns: the loss of the first evaluation, before this step moved the parameters.
    @discardableResult
    public func step(_ closure: () throws -> Double) rethrows -> Double {
        let firstLoss = try closure()
        var loss = firstLoss
        var evaluationsNow = 1
        evaluations += 1
        var gradient = flatGradient()
        guard maxAbs(gradient) > toleranceGrad else { return firstLoss }

        var iteration = 0
        while iteration < maxIterations {
            iteration += 1
            iterations += 1
            if iterations == 1 {
                direction = gradient.map { -$0 }
                steps = []; gradientChanges = []; rho = []
                hessianDiagonal = 1
            } else {
                updateDirection(gradient)
            }
            previousGradient = gradient
            previousLoss = loss
            stepLength = iterations == 1 ? Swift.min(1, 1 / gradient.reduce(0) { $0 + Swift.abs($1) }) * learningRate
                                         : learningRate
            let slope = dot(gradient, direction)
            if slope > -toleranceChange { break }

            var lineEvaluations = 0
            var optimal = false
            if lineSearch != nil {
                let start = flatValues()
                let result = try strongWolfe(closure, start: start, step: stepLength, loss: loss, gradient: gradient, slope: slope)
                (loss, gradient, stepLength, lineEvaluations) = result
                setValues(start, plus: stepLength)
                optimal = maxAbs(gradient) <= toleranceGrad
            } else {
                setValues(flatValues(), plus: stepLength)
                if iteration != maxIterations {
                    loss = try closure()
                    gradient = flatGradient()
                    optimal = maxAbs(gradient) <= toleranceGrad
                    lineEvaluations = 1
                }
            }
            evaluationsNow += lineEvaluations
            evaluations += lineEvaluations

            if iteration == maxIterations || evaluationsNow >= maxEvaluations || optimal { break }
            if maxAbs(direction) * Swift.abs(stepLength) <= toleranceChange { break }
            if Swift.abs(loss - previousLoss) < toleranceChange { break }
        }
        return firstLoss
    }

    /// The two-loop recursion: the new direction −H·g from the stored curvature pairs, after adding the latest.
    private func updateDirection(_ gradient: [Double]) {
        let y = zip(gradient, previousGradient!).map { $0 - $1 }
        let s = direction.map { $0 * stepLength }
        let ys = dot(y, s)
        // A pair with too little curvature would make the approximation indefinite: skip it.
        if ys > 1e-10 {
            if steps.count == historySize {
                steps.removeFirst(); gradientChanges.removeFirst(); rho.removeFirst()
            }
            gradientChanges.append(y)
            steps.append(s)
            rho.append(1 / ys)
            hessianDiagonal = ys / dot(y, y)
        }
        var alpha = [Double](repeating: 0, count: steps.count)
        var q = gradient.map { -$0 }
        for i in steps.indices.reversed() {
            alpha[i] = dot(steps[i], q) * rho[i]
            for k in q.indices { q[k] -= alpha[i] * gradientChanges[i][k] }
        }
        var r = q.map { $0 * hessianDiagonal }
        for i in steps.indices {
            let beta = dot(gradientChanges[i], r) * rho[i]
            for k in r.indices { r[k] += (alpha[i] - beta) * steps[i][k] }
        }
        direction = r
    }

    /// The loss and gradient at `start + t · direction`, leaving the parameters at `start`.
    private func evaluate(_ closure: () throws -> Double, start: [Double], at t: Double) rethrows -> (Double, [Double]) {
        setValues(start, plus: t)
        let loss = try closure()
        let gradient = flatGradient()
        setValues(start, plus: 0)
        return (loss, gradient)
    }

    /// PyTorch's `_strong_wolfe`: brackets a step satisfying the strong Wolfe conditions, then zooms in with cubic
    /// interpolation. Returns the loss, gradient and step chosen, and the number of evaluations.
    private func strongWolfe(_ closure: () throws -> Double, start: [Double], step initialStep: Double, loss f: Double,
                             gradient g: [Double], slope gtd: Double) rethrows -> (Double, [Double], Double, Int) {
        let c1 = 1e-4, c2 = 0.9, maxSearches = 25
        let directionNorm = maxAbs(direction)
        var t = initialStep
        var (fNew, gNew) = try evaluate(closure, start: start, at: t)
        var evaluationsUsed = 1
        var gtdNew = dot(gNew, direction)
        var (tPrevious, fPrevious, gPrevious, gtdPrevious) = (0.0, f, g, gtd)
        var done = false
        var searches = 0
        var bracket: [(t: Double, f: Double, g: [Double], gtd: Double)] = []
        while searches < maxSearches {
            // The checks in PyTorch's order: too little decrease, then the curvature condition, then an uphill slope.
            if fNew > f + c1 * t * gtd || (searches > 1 && fNew >= fPrevious) {
                bracket = [(tPrevious, fPrevious, gPrevious, gtdPrevious), (t, fNew, gNew, gtdNew)]
                break
            }
            if Swift.abs(gtdNew) <= -c2 * gtd {
                bracket = [(t, fNew, gNew, gtdNew)]
                done = true
                break
            }
            if gtdNew >= 0 {
                bracket = [(tPrevious, fPrevious, gPrevious, gtdPrevious), (t, fNew, gNew, gtdNew)]
                break
            }
            // Extrapolate: the cubic's minimum, kept between 1.01 t − 0.01 t_prev and 10 t.
            let next = cubicMinimum(tPrevious, fPrevious, gtdPrevious, t, fNew, gtdNew,
                                    bounds: (t + 0.01 * (t - tPrevious), t * 10))
            (tPrevious, fPrevious, gPrevious, gtdPrevious) = (t, fNew, gNew, gtdNew)
            t = next
            (fNew, gNew) = try evaluate(closure, start: start, at: t)
            evaluationsUsed += 1
            gtdNew = dot(gNew, direction)
            searches += 1
        }
        if searches == maxSearches {
            bracket = [(0, f, g, gtd), (t, fNew, gNew, gtdNew)]
        }

        // Zoom: shrink the bracket until a point satisfies the conditions.
        var insufficientProgress = false
        var (low, high) = bracket[0].f <= bracket[bracket.count - 1].f ? (0, 1) : (1, 0)
        while !done && searches < maxSearches {
            if Swift.abs(bracket[1].t - bracket[0].t) * directionNorm < toleranceChange { break }
            t = cubicMinimum(bracket[0].t, bracket[0].f, bracket[0].gtd, bracket[1].t, bracket[1].f, bracket[1].gtd)
            let hi = Swift.max(bracket[0].t, bracket[1].t), lo = Swift.min(bracket[0].t, bracket[1].t)
            let margin = 0.1 * (hi - lo)
            // Too near an end of the bracket: move a tenth inside it, unless the last try was not near one.
            if Swift.min(hi - t, t - lo) < margin {
                if insufficientProgress || t >= hi || t <= lo {
                    t = Swift.abs(t - hi) < Swift.abs(t - lo) ? hi - margin : lo + margin
                    insufficientProgress = false
                } else {
                    insufficientProgress = true
                }
            } else {
                insufficientProgress = false
            }
            (fNew, gNew) = try evaluate(closure, start: start, at: t)
            evaluationsUsed += 1
            gtdNew = dot(gNew, direction)
            searches += 1
            if fNew > f + c1 * t * gtd || fNew >= bracket[low].f {
                bracket[high] = (t, fNew, gNew, gtdNew)
                (low, high) = bracket[0].f <= bracket[1].f ? (0, 1) : (1, 0)
            } else {
                if Swift.abs(gtdNew) <= -c2 * gtd {
                    done = true
                } else if gtdNew * (bracket[high].t - bracket[low].t) >= 0 {
                    bracket[high] = bracket[low]
                }
                bracket[low] = (t, fNew, gNew, gtdNew)
            }
        }
        let chosen = bracket[low]
        return (chosen.f, chosen.g, chosen.t, evaluationsUsed)
    }

    /// The minimiser of the cubic through (x₁, f₁) and (x₂, f₂) with slopes g₁ and g₂, clamped to `bounds`
    /// (by default the interval between x₁ and x₂); the middle of the bounds when the cubic has no minimum.
    func cubicMinimum(_ x1: Double, _ f1: Double, _ g1: Double, _ x2: Double, _ f2: Double, _ g2: Double,
                      bounds: (Double, Double)? = nil) -> Double {
        let (lower, upper) = bounds ?? (x1 <= x2 ? (x1, x2) : (x2, x1))
        let d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
        let d2Square = d1 * d1 - g1 * g2
        guard d2Square >= 0 else { return (lower + upper) / 2 }
        let d2 = d2Square.squareRoot()
        let minimum = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                               : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return Swift.min(Swift.max(minimum, lower), upper)
    }

    // MARK: Flat views of the parameters

    private func flatValues() -> [Double] { optimised.flatMap { $0.value.doubles } }

    /// The gradients in parameter order, zeros for a parameter without one.
    private func flatGradient() -> [Double] {
        optimised.flatMap { $0.grad?.doubles ?? [Double](repeating: 0, count: $0.value.count) }
    }

    /// Sets the parameters to `start + t · direction`.
    private func setValues(_ start: [Double], plus t: Double) {
        var offset = 0
        for p in optimised {
            let n = p.value.count
            let values = (offset..<(offset + n)).map { start[$0] + t * direction[$0] }
            p.value = Tensor(shape: p.value.shape, scalars: values, dtype: p.value.dtype)
            offset += n
        }
    }
}

private func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

private func maxAbs(_ a: [Double]) -> Double { a.reduce(0) { Swift.max($0, Swift.abs($1)) } }
