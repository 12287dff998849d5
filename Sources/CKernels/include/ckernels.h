#ifndef CKERNELS_H
#define CKERNELS_H
// Elementwise loops whose arithmetic, not memory, limits them, compiled once per x86-64 feature level
// (AVX-512, AVX2 + FMA, baseline SSE2) and chosen by the CPU at load time.
//
// Swift compiles for the baseline x86-64 (SSE2, four Float lanes) and has no way to build one function
// for several instruction sets. These loops divide and take square roots per element, and the divider
// and square-root unit are four times as wide with AVX-512. Each is written once per element type by a
// macro in kernels.c; floating-point contraction is off there, so every clone rounds like the others
// (and like the Swift code they replaced): results do not depend on the CPU.
#include <stddef.h>

/// One Adam/AdamW step over `n` elements, in place (see Optim's AdamKernel for the rule):
///
///     g' = g + coupledDecay·θ
///     m ← flush(m + (1 − β₁)(g' − m));   v ← flush(β₂v + (1 − β₂)g'²)
///     v̂ ← max(v̂, v)   (when maxSecond is not NULL; the denominator then uses v̂)
///     θ ← θ − stepSize · m / (√v + scaledEps)
///
/// flush(x) is 0 for subnormal x. The buffers must not overlap.
void ck_adam_f32(float *parameter, const float *gradient, float *first, float *second, float *maxSecond,
                 ptrdiff_t n, float beta1, float beta2, float stepSize, float scaledEps, float coupledDecay);
void ck_adam_f64(double *parameter, const double *gradient, double *first, double *second, double *maxSecond,
                 ptrdiff_t n, double beta1, double beta2, double stepSize, double scaledEps, double coupledDecay);

#endif
