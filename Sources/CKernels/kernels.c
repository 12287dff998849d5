// The optimisers' elementwise loops, one macro per rule built at each level (see ckernels.h).
#include "levels.h"
#include "cpu.h"
#include <float.h>

#pragma clang fp contract(off)

// Branch-free, so the loops vectorise: 0 for subnormal x (see flushSubnormal in Optim).
#define CK_FLUSH(x, least) (__builtin_fabs(x) < (least) ? 0 : (x))

// One element of Adam's update; `useDecay` and `useMax` are constants where it is inlined, so each loop
// below is branch-free.
#define CK_ADAM(NAME, T, LEAST, LEVEL)                                                                             \
static inline __attribute__((always_inline))                                                                \
void NAME##_element(T *restrict p, const T *restrict g, T *restrict m, T *restrict v, T *restrict vmax,    \
                    ptrdiff_t i, T a1, T beta2, T a2, T stepSize, T scaledEps, T decay,                     \
                    int useDecay, int useMax) {                                                             \
    T gi = useDecay ? g[i] + decay * p[i] : g[i];                                                           \
    T mi = m[i] + a1 * (gi - m[i]);                                                                         \
    mi = CK_FLUSH(mi, LEAST);                                                                               \
    T vi = beta2 * v[i] + a2 * gi * gi;                                                                     \
    vi = CK_FLUSH(vi, LEAST);                                                                               \
    m[i] = mi;                                                                                              \
    v[i] = vi;                                                                                              \
    T second = vi;                                                                                          \
    if (useMax) {                                                                                           \
        second = vi >= vmax[i] ? vi : vmax[i];                                                              \
        vmax[i] = second;                                                                                   \
    }                                                                                                       \
    p[i] -= stepSize * mi / (__builtin_elementwise_sqrt(second) + scaledEps);                               \
}                                                                                                           \
                                                                                                            \
void NAME(T *restrict p, const T *restrict g, T *restrict m, T *restrict v, T *restrict vmax, ptrdiff_t n, \
          T beta1, T beta2, T stepSize, T scaledEps, T decay) {                                            \
    CK_REQUIRE(LEVEL, #NAME);                                                                               \
    const T a1 = 1 - beta1, a2 = 1 - beta2;                                                                 \
    if (vmax) {                                                                                             \
        for (ptrdiff_t i = 0; i < n; i++)                                                                   \
            NAME##_element(p, g, m, v, vmax, i, a1, beta2, a2, stepSize, scaledEps, decay, 1, 1);           \
    } else if (decay != 0) {                                                                                \
        for (ptrdiff_t i = 0; i < n; i++)                                                                   \
            NAME##_element(p, g, m, v, vmax, i, a1, beta2, a2, stepSize, scaledEps, decay, 1, 0);           \
    } else {                                                                                                \
        for (ptrdiff_t i = 0; i < n; i++)                                                                   \
            NAME##_element(p, g, m, v, vmax, i, a1, beta2, a2, stepSize, scaledEps, decay, 0, 0);           \
    }                                                                                                       \
}

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma"))), apply_to = function)
CK_ADAM(ck_adam_f32_avx512, float, FLT_MIN, CK_ISA_AVX512)
CK_ADAM(ck_adam_f64_avx512, double, DBL_MIN, CK_ISA_AVX512)
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
CK_ADAM(ck_adam_f32_avx2, float, FLT_MIN, CK_ISA_AVX2)
CK_ADAM(ck_adam_f64_avx2, double, DBL_MIN, CK_ISA_AVX2)
#pragma clang attribute pop
#endif

CK_ADAM(ck_adam_f32_generic, float, FLT_MIN, CK_ISA_GENERIC)
CK_ADAM(ck_adam_f64_generic, double, DBL_MIN, CK_ISA_GENERIC)
