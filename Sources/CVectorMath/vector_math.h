#ifndef CVECTORMATH_H
#define CVECTORMATH_H
// Square roots that loops can vectorise. Swift's squareRoot() goes through libm's sqrtf/sqrt, whose
// errno contract keeps LLVM from vectorising a loop that calls it; the elementwise builtin lowers to
// llvm.sqrt directly (IEEE-exact, no errno), so `for i in … { y[i] = vm_sqrtf(x[i]) }` becomes sqrtps.
static inline float vm_sqrtf(float x) { return __builtin_elementwise_sqrt(x); }
static inline double vm_sqrt(double x) { return __builtin_elementwise_sqrt(x); }
#endif
