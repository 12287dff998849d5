#include "ckernels.h"
#include <float.h>

#pragma clang fp contract(off)

#if defined(__x86_64__)
#define CK_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CK_MULTIVERSION
#endif

// Branch-free, so the loops vectorise: 0 for subnormal x (see flushSubnormal in Optim).
#define CK_FLUSH(x, least) (__builtin_fabs(x) < (least) ? 0 : (x))

// One element of Adam's update; `useDecay` and `useMax` are constants where it is inlined, so each loop
// below is branch-free.
#define CK_ADAM(NAME, T, LEAST)                                                                             \
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
CK_MULTIVERSION                                                                                             \
void NAME(T *restrict p, const T *restrict g, T *restrict m, T *restrict v, T *restrict vmax, ptrdiff_t n, \
          T beta1, T beta2, T stepSize, T scaledEps, T decay) {                                            \
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

CK_ADAM(ck_adam_f32, float, FLT_MIN)
CK_ADAM(ck_adam_f64, double, DBL_MIN)
