import CVectorMath
import RealModule

/// The element type of a ``Tensor``.
///
/// `float32` is the training type; `float64` is what `gradcheck` and `gradgradcheck` use.
/// A binary operation on mixed dtypes computes in ``promoted(_:_:)``.
public enum DType: String, Sendable, CustomStringConvertible {
    /// 32-bit IEEE float (Swift `Float`).
    case float32
    /// 64-bit IEEE float (Swift `Double`).
    case float64

    /// Size of one element in bytes.
    public var byteSize: Int { self == .float32 ? 4 : 8 }

    /// `"float32"` or `"float64"`, as PyTorch prints dtypes.
    public var description: String { rawValue }

    /// The type two operands of these dtypes compute in: `float64` wins, as in PyTorch.
    public static func promoted(_ a: DType, _ b: DType) -> DType {
        a == .float64 || b == .float64 ? .float64 : .float32
    }
}

/// A scalar type a ``Tensor`` can hold: `Float` or `Double`.
///
/// The kernels are generic over this protocol and are specialised for both types inside the
/// module (whole-module optimisation), so no hot loop runs as unspecialised generic code.
/// ``VectorMathScalar`` supplies `vectorizableExp`, `vectorizableLog`, `vectorizableTanh` and
/// `vectorizableSigmoid` (VectorMath.swift) for loops that must vectorise.
public protocol TensorScalar: BinaryFloatingPoint, Real, VectorMathScalar, Sendable where Self.RawSignificand: FixedWidthInteger {
    /// The ``DType`` tag of this type.
    static var dtype: DType { get }

    /// `√x`, correctly rounded like `squareRoot()`, in a form loops can vectorise
    /// (`squareRoot()` calls libm, whose `errno` contract blocks vectorisation).
    static func vectorizableSquareRoot(_ x: Self) -> Self
}

extension Float: TensorScalar {
    /// ``DType/float32``.
    public static var dtype: DType { .float32 }
    /// `√x` through `llvm.sqrt`, so loops calling it vectorise.
    @inlinable @inline(__always)
    public static func vectorizableSquareRoot(_ x: Float) -> Float { vm_sqrtf(x) }
}

extension Double: TensorScalar {
    /// ``DType/float64``.
    public static var dtype: DType { .float64 }
    /// `√x` through `llvm.sqrt`, so loops calling it vectorise.
    @inlinable @inline(__always)
    public static func vectorizableSquareRoot(_ x: Double) -> Double { vm_sqrt(x) }
}
