#ifndef CVECTORMATH_H
#define CVECTORMATH_H
// Square roots that loops can vectorise. Swift's squareRoot() goes through libm's sqrtf/sqrt, whose
// errno contract keeps LLVM from vectorising a loop that calls it; the elementwise builtin lowers to
// llvm.sqrt directly (IEEE-exact, no errno), so `for i in … { y[i] = vm_sqrtf(x[i]) }` becomes sqrtps.
static inline float vm_sqrtf(float x) { return __builtin_elementwise_sqrt(x); }
static inline double vm_sqrt(double x) { return __builtin_elementwise_sqrt(x); }

// A hint to the CPU that the caller is spinning on a memory location (x86 `pause`, Arm `yield`):
// it saves power and frees the core's shared resources for a hyper-thread sibling.
static inline void vm_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield");
#endif
}
#endif
