// Which route each of a convolution's three computations takes: decided here, once per geometry and element
// type, so that the rules live in one place and a test can force any route a geometry admits.

/// The routes of one convolution geometry: forward pass, input gradient (the transposed convolution) and weight
/// gradient (see ConvolutionKernels.swift for the column-matrix routes and each route's own file for the others).
struct ConvolutionPlan: Equatable, CustomStringConvertible {
    enum Forward: String, CaseIterable {
        /// Float: the product gathers the windows from a padded copy (GatheredWindows.swift).
        case gatheredWindows
        /// Float, wide rows: the product reads the input's runs in place (WindowRows.swift).
        case windowRows
        /// im2col, one product per chunk of images, output staged channel-major and copied out.
        case columns
        /// im2col, one product per image written straight into the output's planes.
        case columnsPerImage
    }

    enum InputGradient: String, CaseIterable {
        /// Float, one group, dilation 1, kernels the strides divide: a gathered product per phase (StridePhases.swift).
        case stridePhases
        /// Wᵀ·gy into the column matrix, then col2im.
        case columns
    }

    enum WeightGradient: String, CaseIterable {
        /// Float: the product gathers the windows (GatheredWindows.swift).
        case gatheredWindows
        /// Float, wide rows: A·Bᵀ with the input's runs read in place (WindowRows.swift).
        case windowRows
        /// im2col, then `Wᵀ = X·gyᵀ` with gy staged position-major (neither operand transposed).
        case columnsTransposed
        /// im2col, then `W = gy·Xᵀ` (dot products for narrow layers).
        case columns
    }

    var forward: Forward
    var inputGradient: InputGradient
    var weightGradient: WeightGradient

    var description: String { "forward \(forward), input gradient \(inputGradient), weight gradient \(weightGradient)" }

    /// Whether `g` in `T` can take each route (whatever it costs).
    static func admits<T: TensorScalar>(_ route: Forward, _: T.Type, _ g: Conv2dGeometry) -> Bool {
        switch route {
        case .gatheredWindows: return T.self == Float.self && GatheredWindows.fits(g)
        case .windowRows: return T.self == Float.self && g.usesWideRows
        case .columns: return true
        case .columnsPerImage: return !g.usesWideRows
        }
    }

    static func admits<T: TensorScalar>(_ route: InputGradient, _: T.Type, _ g: Conv2dGeometry) -> Bool {
        switch route {
        case .stridePhases: return T.self == Float.self && StridePhases.fits(g)
        case .columns: return true
        }
    }

    static func admits<T: TensorScalar>(_ route: WeightGradient, _: T.Type, _ g: Conv2dGeometry) -> Bool {
        switch route {
        case .gatheredWindows: return T.self == Float.self && GatheredWindows.fits(g)
        case .windowRows: return T.self == Float.self && g.usesWideRows
        case .columnsTransposed, .columns: return true
        }
    }

    /// Whether `g` in `T` can take every route of this plan.
    func isAdmitted<T: TensorScalar>(_: T.Type, _ g: Conv2dGeometry) -> Bool {
        Self.admits(forward, T.self, g) && Self.admits(inputGradient, T.self, g) && Self.admits(weightGradient, T.self, g)
    }

    /// The fastest plan for `g` in `T`, as measured (Docs/Performance.md):
    /// - where CKernels' product runs (every Float product unless `AUTOGRAD_KEEP_BLAS_CORE` sends them all to
    ///   OpenBLAS): the in-place route for wide rows, and the gathered one for other layers whose output channels
    ///   fill the product's register tiles and whose filters amortise a tile's stores (64 elements);
    /// - stride phases for input gradients whose input channels fill the tiles and whose phase filters do;
    /// - the transposed weight gradient for Float groups of at least 32 output channels and patch rows (narrower
    ///   layers run the untransposed product as dot products, which suits them better);
    /// - the im2col forward pass image by image where an output plane has 128 positions or more (splitting the
    ///   product costs less than staging the chunk's output and copying it out).
    static func automatic<T: TensorScalar>(_: T.Type, _ g: Conv2dGeometry) -> ConvolutionPlan {
        let own = T.self == Float.self && BLAS.floatProductRoute != .openBLAS
        let gathered = own && !g.usesWideRows && GatheredWindows.fits(g) && g.outChannels >= 32 && g.patchSize >= 64
        let inPlace = own && g.usesWideRows
        let forward: Forward = gathered ? .gatheredWindows : inPlace ? .windowRows
            : !g.usesWideRows && g.outputPlane >= 128 ? .columnsPerImage : .columns
        let phases = own && StridePhases.fits(g) && g.inChannels >= 32 && StridePhases.depth(g) >= 64
        let transposed = T.self == Float.self && g.groupOutChannels >= 32 && g.patchSize >= 32
        let weightGradient: WeightGradient = gathered ? .gatheredWindows : transposed ? .columnsTransposed
            : inPlace ? .windowRows : .columns
        return ConvolutionPlan(forward: forward, inputGradient: phases ? .stridePhases : .columns,
                               weightGradient: weightGradient)
    }
}
