// GELU's forward and backward and the LSTM step's gate arithmetic in portable C (clang's vector extensions; see
// ckernels.h). Not a header to include
// anywhere else: activation.c (AVX-512), portable_avx2.c and portable_generic.c each build it once, having defined
// CK_LEVEL(name) (the level's suffix) and CK_LEVEL_ISA (the level it needs), the first two under a
// `#pragma clang attribute` that gives every function here the level's target.
//
// Composed from elementwise ops, GELU took six passes forward and a dozen backward, its erf in scalar Double; here
// each direction is one vectorised pass. The LSTM's sigmoids and tanhs ran as Swift's vectorisable functions, four
// lanes without FMA; here they run at the level's width with FMA, in the same pass as the cell update.

// Built for baseline x86-64, a function that takes or returns an eight-lane vector warns that AVX would pass it
// differently, even when it is static and always inlined: no call here crosses a translation unit.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpsabi"

#include "levels.h"
#include "cpu.h"
#include "vector.h"

#if !defined(CK_LEVEL) || !defined(CK_LEVEL_ISA)
#error "activation_portable.h is built by activation.c, portable_avx2.c and portable_generic.c, which define CK_LEVEL and CK_LEVEL_ISA"
#endif

// Each step runs CK_WIDE_LANES lanes (vector.h): GELU and the gates are long dependent chains per element.

/// The `count` elements at `p` in the first lanes (0 < count ≤ CK_WIDE_LANES), the other lanes zero.
static inline __attribute__((always_inline)) ck_wide_f ck_act_load(const float *p, ptrdiff_t count) {
    ck_wide_f v = (ck_wide_f)0.0f;
    // A whole step copies a constant size, which compiles to vector loads; only a partial one copies `count`.
    if (count >= CK_WIDE_LANES) memcpy(&v, p, sizeof v);
    else memcpy(&v, p, (size_t)count * sizeof(float));
    return v;
}

/// Stores the first `count` lanes of `v` at `p` (0 < count ≤ CK_WIDE_LANES).
static inline __attribute__((always_inline)) void ck_act_store(float *p, ck_wide_f v, ptrdiff_t count) {
    if (count >= CK_WIDE_LANES) memcpy(p, &v, sizeof v);
    else memcpy(p, &v, (size_t)count * sizeof(float));
}

/// `1/(1 + e⁻ˣ)` in each lane, the algorithm of Swift's `vectorizableSigmoid`: with `e = e^−|x|` (never overflows),
/// `1/(1 + e)` for x ≥ 0 and `e/(1 + e)` below; `e` is 0 below Float's normal range (vector.h's nonpositive
/// exponential), so σ(x) is 0 below x ≈ −87.3 rather than a subnormal number, except at the AVX-512 level, whose
/// exponential gives the subnormal numbers there.
static inline __attribute__((always_inline)) ck_wide_f ck_act_sigmoid(ck_wide_f x) {
    const ck_wide_i negative = x < (ck_wide_f)0.0f;
    const ck_wide_f e = ck_wide_exp_nonpositive(-(ck_wide_f)((ck_wide_i)x & (ck_wide_i)0x7fffffff));
    const ck_wide_f numerator = (ck_wide_f)(((ck_wide_i)e & negative) | ((ck_wide_i)(ck_wide_f)1.0f & ~negative));
    return numerator / ((ck_wide_f)1.0f + e);
}

/// `tanh x` in each lane: for |x| < 0.55 `x + x³·P(x²)` (the degree-4 Chebyshev fit of Swift's `vectorizableTanh`
/// for Float, coefficients as VectorMath.swift's), above `(1 − e)/(1 + e)` with `e = e^(−2|x|)` ≤ e^(−1.1), where
/// neither side cancels and the exponential's argument is never positive; the sign put back from x.
static inline __attribute__((always_inline)) ck_wide_f ck_act_tanh(ck_wide_f x) {
    const ck_wide_i sign = (ck_wide_i)x & (ck_wide_i)(int)0x80000000;
    const ck_wide_f a = (ck_wide_f)((ck_wide_i)x & (ck_wide_i)0x7fffffff), z = a * a;
    ck_wide_f p = (ck_wide_f)-0x1.b13538p-8f;
    p = p * z + (ck_wide_f)0x1.5d220ep-6f;
    p = p * z + (ck_wide_f)-0x1.b9a044p-5f;
    p = p * z + (ck_wide_f)0x1.110feap-3f;
    p = p * z + (ck_wide_f)-0x1.555554p-2f;
    const ck_wide_f small = a + a * z * p;
    const ck_wide_f e = ck_wide_exp_nonpositive((ck_wide_f)-2.0f * a);
    const ck_wide_f large = ((ck_wide_f)1.0f - e) / ((ck_wide_f)1.0f + e);
    const ck_wide_i useSmall = a < (ck_wide_f)0.55f;
    return (ck_wide_f)((((ck_wide_i)small & useSmall) | ((ck_wide_i)large & ~useSmall)) | sign);
}

/// `Φ(x)`, the standard normal CDF, for each lane, and through `density` (when not NULL) `φ(x) = e^(−x²/2)/√(2π)`.
///
/// `Φ(−|x|) = ½·erfc(|x|/√2)`, with `erfc(z) = t·exp(−z² + P(t))`, `t = 1/(1 + z/2)` and `P` the degree-9 Chebyshev
/// fit of Numerical Recipes (§6.2), whose relative error is below 1.2·10⁻⁷ for every z ≥ 0; then `Φ(x) = 1 − Φ(−x)`
/// for x > 0. Taking the tail itself rather than `1 + erf` keeps Φ accurate far below zero, where `1 + erf` cancels,
/// down to where it leaves Float's normal range (x ≈ −13): the exponentials' arguments are at most about 0, so they
/// take vector.h's nonpositive exponential.
static inline __attribute__((always_inline)) ck_wide_f ck_gelu_cdf(ck_wide_f x, ck_wide_f *density) {
    const ck_wide_i negative = x < (ck_wide_f)0.0f;   // all bits set in the lanes below zero
    const ck_wide_f z = (ck_wide_f)((ck_wide_i)x & (ck_wide_i)0x7fffffff) * (ck_wide_f)0.70710678118654752f;   // |x|/√2
    const ck_wide_f t = (ck_wide_f)1.0f / ((ck_wide_f)1.0f + (ck_wide_f)0.5f * z);
    // P by Estrin's scheme: four independent pairs joined by t², t⁴ and t⁸, a quarter of Horner's dependent chain.
    const ck_wide_f t2 = t * t, t4 = t2 * t2, t8 = t4 * t4;
    const ck_wide_f p01 = (ck_wide_f)-1.26551223f + t * (ck_wide_f)1.00002368f, p23 = (ck_wide_f)0.37409196f + t * (ck_wide_f)0.09678418f;
    const ck_wide_f p45 = (ck_wide_f)-0.18628806f + t * (ck_wide_f)0.27886807f, p67 = (ck_wide_f)-1.13520398f + t * (ck_wide_f)1.48851587f;
    const ck_wide_f p89 = (ck_wide_f)-0.82215223f + t * (ck_wide_f)0.17087277f;
    const ck_wide_f p = (p01 + t2 * p23) + t4 * (p45 + t2 * p67) + t8 * p89;
    const ck_wide_f square = z * z;
    const ck_wide_f tail = (ck_wide_f)0.5f * t * ck_wide_exp_nonpositive(p - square);
    if (density) *density = ck_wide_exp_nonpositive(-square) * (ck_wide_f)0.39894228040143268f;
    return (ck_wide_f)(((ck_wide_i)tail & negative) | ((ck_wide_i)((ck_wide_f)1.0f - tail) & ~negative));
}

/// `σ(2u)` with `u = √(2/π)·(x + 0.044715x³)`, for each lane: GELU's tanh form `½(1 + tanh u)` written as the
/// logistic of `2u` (``ck_act_sigmoid``), which neither cancels for large negative `u` nor overflows. Through
/// `slope` (when not NULL) `2u′ = 2√(2/π)·(1 + 3·0.044715x²)`.
static inline __attribute__((always_inline)) ck_wide_f ck_gelu_tanh_gate(ck_wide_f x, ck_wide_f *slope) {
    const ck_wide_f c = (ck_wide_f)1.5957691216057308f;   // 2√(2/π)
    const ck_wide_f square = x * x;
    const ck_wide_f twiceU = c * x * ((ck_wide_f)1.0f + (ck_wide_f)0.044715f * square);
    if (slope) *slope = c * ((ck_wide_f)1.0f + (ck_wide_f)0.134145f * square);
    return ck_act_sigmoid(twiceU);
}

/// `x·Φ(x)` (exact form) or `x·σ(2u)` (tanh form) of each lane.
static inline __attribute__((always_inline)) ck_wide_f ck_gelu_lanes(ck_wide_f x, int tanhForm) {
    return x * (tanhForm ? ck_gelu_tanh_gate(x, NULL) : ck_gelu_cdf(x, NULL));
}

/// `g·GELU′(x)` of each lane: `Φ + x·φ` (exact form) or `s + x·s(1 − s)·2u′` with `s = σ(2u)` (tanh form).
static inline __attribute__((always_inline)) ck_wide_f ck_gelu_gradient_lanes(ck_wide_f g, ck_wide_f x, int tanhForm) {
    if (tanhForm) {
        ck_wide_f slope;
        const ck_wide_f s = ck_gelu_tanh_gate(x, &slope);
        return g * (s + x * s * ((ck_wide_f)1.0f - s) * slope);
    }
    ck_wide_f density;
    const ck_wide_f cdf = ck_gelu_cdf(x, &density);
    return g * (cdf + x * density);
}

void CK_LEVEL(ck_gelu_f32)(const float *x, float *y, ptrdiff_t n, int tanhForm) {
    CK_REQUIRE(CK_LEVEL_ISA, "ck_gelu_f32");
    const ptrdiff_t L = CK_WIDE_LANES;
    ptrdiff_t i = 0;
    for (; i + L <= n; i += L) ck_act_store(y + i, ck_gelu_lanes(ck_act_load(x + i, L), tanhForm), L);
    if (i < n) ck_act_store(y + i, ck_gelu_lanes(ck_act_load(x + i, n - i), tanhForm), n - i);
}

void CK_LEVEL(ck_gelu_backward_f32)(const float *g, const float *x, float *gx, ptrdiff_t n, int tanhForm) {
    CK_REQUIRE(CK_LEVEL_ISA, "ck_gelu_backward_f32");
    const ptrdiff_t L = CK_WIDE_LANES;
    ptrdiff_t i = 0;
    for (; i + L <= n; i += L) ck_act_store(gx + i, ck_gelu_gradient_lanes(ck_act_load(g + i, L), ck_act_load(x + i, L), tanhForm), L);
    if (i < n) ck_act_store(gx + i, ck_gelu_gradient_lanes(ck_act_load(g + i, n - i), ck_act_load(x + i, n - i), tanhForm), n - i);
}

/// ck_lstm_gates_f32's rows; `adds` and `keeps` are constants where inlined, so each case of the exported function
/// compiles to its own loop without tests inside.
static inline __attribute__((always_inline)) void ck_lstm_gates_rows(const int adds, const int keeps, const float *gates,
                                                                     const float *input, const float *cPrev, ptrdiff_t rows,
                                                                     ptrdiff_t n, float *activations, float *tanhC, float *h,
                                                                     ptrdiff_t hStride, float *c, ptrdiff_t cStride) {
    for (ptrdiff_t row = 0; row < rows; row++) {
        const float *a = gates + row * 4 * n, *x = adds ? input + row * 4 * n : NULL, *cp = cPrev + row * n;
        float *act = keeps ? activations + row * 4 * n : NULL, *tc = keeps ? tanhC + row * n : NULL;
        float *cr = c + row * cStride, *hr = h + row * hStride;
        for (ptrdiff_t k = 0; k < n; k += CK_WIDE_LANES) {
            const ptrdiff_t count = n - k < CK_WIDE_LANES ? n - k : CK_WIDE_LANES;
#define CK_GATE(q) (adds ? ck_act_load(a + (q) * n + k, count) + ck_act_load(x + (q) * n + k, count) : ck_act_load(a + (q) * n + k, count))
            const ck_wide_f i = ck_act_sigmoid(CK_GATE(0)), f = ck_act_sigmoid(CK_GATE(1));
            const ck_wide_f g = ck_act_tanh(CK_GATE(2)), o = ck_act_sigmoid(CK_GATE(3));
#undef CK_GATE
            const ck_wide_f cell = f * ck_act_load(cp + k, count) + i * g, t = ck_act_tanh(cell);
            if (keeps) {
                ck_act_store(act + k, i, count);
                ck_act_store(act + n + k, f, count);
                ck_act_store(act + 2 * n + k, g, count);
                ck_act_store(act + 3 * n + k, o, count);
                ck_act_store(tc + k, t, count);
            }
            ck_act_store(cr + k, cell, count);
            ck_act_store(hr + k, o * t, count);
        }
    }
}

void CK_LEVEL(ck_lstm_gates_f32)(const float *gates, const float *input, const float *cPrev, ptrdiff_t rows, ptrdiff_t n,
                                  float *activations, float *tanhC, float *h, ptrdiff_t hStride, float *c, ptrdiff_t cStride) {
    CK_REQUIRE(CK_LEVEL_ISA, "ck_lstm_gates_f32");
    if (input && activations) ck_lstm_gates_rows(1, 1, gates, input, cPrev, rows, n, activations, tanhC, h, hStride, c, cStride);
    else if (input) ck_lstm_gates_rows(1, 0, gates, input, cPrev, rows, n, activations, tanhC, h, hStride, c, cStride);
    else if (activations) ck_lstm_gates_rows(0, 1, gates, input, cPrev, rows, n, activations, tanhC, h, hStride, c, cStride);
    else ck_lstm_gates_rows(0, 0, gates, input, cPrev, rows, n, activations, tanhC, h, hStride, c, cStride);
}

void CK_LEVEL(ck_lstm_gates_backward_f32)(const float *gh, ptrdiff_t ghStride, const float *gc, ptrdiff_t gcStride,
                                           const float *activations, const float *tanhC, const float *cPrev, ptrdiff_t rows,
                                           ptrdiff_t n, float *dGates, float *dCPrev) {
    CK_REQUIRE(CK_LEVEL_ISA, "ck_lstm_gates_backward_f32");
    const ck_wide_f one = (ck_wide_f)1.0f;
    for (ptrdiff_t row = 0; row < rows; row++) {
        const float *act = activations + row * 4 * n, *tc = tanhC + row * n, *cp = cPrev + row * n;
        const float *ghr = gh + row * ghStride, *gcr = gc + row * gcStride;
        float *d = dGates + row * 4 * n, *dcp = dCPrev + row * n;
        for (ptrdiff_t k = 0; k < n; k += CK_WIDE_LANES) {
            const ptrdiff_t count = n - k < CK_WIDE_LANES ? n - k : CK_WIDE_LANES;
            const ck_wide_f i = ck_act_load(act + k, count), f = ck_act_load(act + n + k, count);
            const ck_wide_f g = ck_act_load(act + 2 * n + k, count), o = ck_act_load(act + 3 * n + k, count);
            const ck_wide_f t = ck_act_load(tc + k, count), dh = ck_act_load(ghr + k, count);
            // Every load of this step (gc's included) comes before the stores: dCPrev may be gc itself.
            const ck_wide_f dc = ck_act_load(gcr + k, count) + dh * o * (one - t * t), previous = ck_act_load(cp + k, count);
            ck_act_store(d + k, dc * g * i * (one - i), count);
            ck_act_store(d + n + k, dc * previous * f * (one - f), count);
            ck_act_store(d + 2 * n + k, dc * i * (one - g * g), count);
            ck_act_store(d + 3 * n + k, dh * t * o * (one - o), count);
            ck_act_store(dcp + k, dc * f, count);
        }
    }
}

#pragma clang diagnostic pop
