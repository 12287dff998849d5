// Layer and RMS normalisation of Float rows in portable C (clang's vector extensions; see ckernels.h). Not a header
// to include anywhere else: rownorm.c (AVX-512), portable_avx2.c and portable_generic.c each build it once, having
// defined CK_LEVEL(name) (the level's suffix) and CK_LEVEL_ISA (the level it needs), the first two under a
// `#pragma clang attribute` that gives every function here the level's target.
//
// The Swift loops they replace took every element through Double in SSE2's two lanes, and the input gradient's
// sums with a weight one element at a time. Here the statistics and the row sums of the backward still
// accumulate in Double (four lanes, two chains), but the elementwise passes run in Float, eight lanes with FMA.

// Built for baseline x86-64, a function that takes or returns an eight-lane vector warns that AVX would pass it
// differently, even when it is static and always inlined: no call here crosses a translation unit.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpsabi"

#include "levels.h"
#include "cpu.h"
#include "vector.h"

#if !defined(CK_LEVEL) || !defined(CK_LEVEL_ISA)
#error "rownorm_portable.h is built by rownorm.c, portable_avx2.c and portable_generic.c, which define CK_LEVEL and CK_LEVEL_ISA"
#endif

typedef float ck_rownorm_f4 __attribute__((ext_vector_type(4)));

/// The low and high four lanes of `v`, widened to Double.
static inline __attribute__((always_inline)) ck_d4 ck_rownorm_low(ck_f8 v) {
    return __builtin_convertvector(__builtin_shufflevector(v, v, 0, 1, 2, 3), ck_d4);
}
static inline __attribute__((always_inline)) ck_d4 ck_rownorm_high(ck_f8 v) {
    return __builtin_convertvector(__builtin_shufflevector(v, v, 4, 5, 6, 7), ck_d4);
}

static inline __attribute__((always_inline)) double ck_rownorm_sum(ck_d4 v) { return (v.x + v.z) + (v.y + v.w); }

/// `Σ (x − shift)²` over a row of `d`, in Double, and `Σ (x − shift)` in `*first`, in one pass: sixteen elements a
/// step on four chains of each sum, since a sum's add waits for the previous one (the row is too short for the
/// loop to be limited by anything but those chains).
static inline __attribute__((always_inline)) double ck_rownorm_squares(const float *x, ptrdiff_t d, double shift,
                                                                       double *first) {
    const ck_d4 s = (ck_d4)shift;
    ck_d4 sum0 = (ck_d4)0, sum1 = (ck_d4)0, sum2 = (ck_d4)0, sum3 = (ck_d4)0;
    ck_d4 square0 = (ck_d4)0, square1 = (ck_d4)0, square2 = (ck_d4)0, square3 = (ck_d4)0;
    ptrdiff_t i = 0;
    for (; i + 16 <= d; i += 16) {
        const ck_f8 v = ck_f8_load(x + i), w = ck_f8_load(x + i + 8);
        const ck_d4 c0 = ck_rownorm_low(v) - s, c1 = ck_rownorm_high(v) - s;
        const ck_d4 c2 = ck_rownorm_low(w) - s, c3 = ck_rownorm_high(w) - s;
        sum0 += c0;
        sum1 += c1;
        sum2 += c2;
        sum3 += c3;
        square0 = c0 * c0 + square0;
        square1 = c1 * c1 + square1;
        square2 = c2 * c2 + square2;
        square3 = c3 * c3 + square3;
    }
    for (; i + 8 <= d; i += 8) {
        const ck_f8 v = ck_f8_load(x + i);
        const ck_d4 c0 = ck_rownorm_low(v) - s, c1 = ck_rownorm_high(v) - s;
        sum0 += c0;
        sum1 += c1;
        square0 = c0 * c0 + square0;
        square1 = c1 * c1 + square1;
    }
    double sum = ck_rownorm_sum((sum0 + sum1) + (sum2 + sum3));
    double squares = ck_rownorm_sum((square0 + square1) + (square2 + square3));
    for (; i < d; i++) {
        const double c = (double)x[i] - shift;
        sum += c;
        squares += c * c;
    }
    *first = sum;
    return squares;
}

void CK_LEVEL(ck_row_norm_f32)(const float *x, float *y, ptrdiff_t rows, ptrdiff_t d, double eps, const float *weight,
                               const float *bias, int centered, double *mean, double *inverseStd) {
    CK_REQUIRE(CK_LEVEL_ISA, "ck_row_norm_f32");
    const double scale = 1.0 / (double)d;
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *row = x + r * d;
        float *out = y + r * d;
        // One pass about the row's first element K: with c = x − K, μ = K + Σc/d and the variance Σc²/d − (Σc/d)².
        // Every c is exact in Double, and K lies within the row's spread, so a large mean cancels nothing;
        // the subtraction loses at most log₂(d + 1) bits of Double: the variance is at least Σc²/d ÷ (d + 1), as c₀ = 0.
        const double shift = centered && d > 0 ? (double)row[0] : 0;
        double sum;
        const double squares = ck_rownorm_squares(row, d, shift, &sum);
        const double mu = centered ? shift + sum * scale : 0;
        const double meanShift = centered ? sum * scale : 0;
        const double variance = __builtin_elementwise_max(squares * scale - meanShift * meanShift, 0.0);
        const double invstd = 1 / __builtin_elementwise_sqrt(variance + eps);
        mean[r] = mu;
        inverseStd[r] = invstd;
        // μ as two Floats: x − μ₁ is exact for x near μ (Sterbenz), so rows far from zero with a small spread keep
        // their digits (a Float μ alone would be off by half an ulp of μ, maybe more than the spread).
        const float muHigh = (float)mu;
        const ck_f8 m = (ck_f8)muHigh, mLow = (ck_f8)(float)(mu - (double)muHigh), s = (ck_f8)(float)invstd;
        // Whole vectors, then the last lanes through the partial loads (the loop over whole ones stays branch-free).
#define CK_ROWNORM_OUTPUT(LOAD, STORE)                                                                      \
    do {                                                                                                    \
        ck_f8 v = ((LOAD(row + i) - m) - mLow) * s;                                                         \
        if (weight) v *= LOAD(weight + i);                                                                  \
        if (bias) v += LOAD(bias + i);                                                                      \
        STORE(out + i, v);                                                                                  \
    } while (0)
        ptrdiff_t i = 0;
        for (; i + 8 <= d; i += 8) CK_ROWNORM_OUTPUT(ck_f8_load, ck_f8_store);
        if (i < d) {
            const ptrdiff_t lanes = d - i;
#define CK_LOAD_TAIL(P) ck_f8_load_first((P), lanes)
#define CK_STORE_TAIL(P, V) ck_f8_store_first((P), (V), lanes)
            CK_ROWNORM_OUTPUT(CK_LOAD_TAIL, CK_STORE_TAIL);
        }
#undef CK_ROWNORM_OUTPUT
    }
}

void CK_LEVEL(ck_row_norm_input_gradient_f32)(const float *g, const float *x, const float *weight, float *gx,
                                              ptrdiff_t rows, ptrdiff_t d, int centered, const double *mean,
                                              const double *inverseStd) {
    CK_REQUIRE(CK_LEVEL_ISA, "ck_row_norm_input_gradient_f32");
    const double scale = 1.0 / (double)d;
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *gRow = g + r * d, *xRow = x + r * d;
        float *out = gx + r * d;
        const double mu = mean[r], invstd = inverseStd[r];
        // Σ g·w and Σ g·w·(x − μ), in Double.
        const ck_d4 shift = (ck_d4)mu;
        ck_d4 sum0 = (ck_d4)0, sum1 = (ck_d4)0, dot0 = (ck_d4)0, dot1 = (ck_d4)0;
        ck_d4 sum2 = (ck_d4)0, sum3 = (ck_d4)0, dot2 = (ck_d4)0, dot3 = (ck_d4)0;
        ptrdiff_t i = 0;
        // Sixteen elements a step on four chains of each sum, as in ck_rownorm_squares.
        for (; i + 16 <= d; i += 16) {
            ck_f8 gw = ck_f8_load(gRow + i), gw2 = ck_f8_load(gRow + i + 8);
            if (weight) {
                gw *= ck_f8_load(weight + i);
                gw2 *= ck_f8_load(weight + i + 8);
            }
            const ck_f8 v = ck_f8_load(xRow + i), v2 = ck_f8_load(xRow + i + 8);
            const ck_d4 g0 = ck_rownorm_low(gw), g1 = ck_rownorm_high(gw), g2 = ck_rownorm_low(gw2), g3 = ck_rownorm_high(gw2);
            sum0 += g0;
            sum1 += g1;
            sum2 += g2;
            sum3 += g3;
            dot0 = g0 * (ck_rownorm_low(v) - shift) + dot0;
            dot1 = g1 * (ck_rownorm_high(v) - shift) + dot1;
            dot2 = g2 * (ck_rownorm_low(v2) - shift) + dot2;
            dot3 = g3 * (ck_rownorm_high(v2) - shift) + dot3;
        }
        for (; i + 8 <= d; i += 8) {
            ck_f8 gw = ck_f8_load(gRow + i);
            if (weight) gw *= ck_f8_load(weight + i);
            const ck_f8 v = ck_f8_load(xRow + i);
            const ck_d4 gLo = ck_rownorm_low(gw), gHi = ck_rownorm_high(gw);
            sum0 += gLo;
            sum1 += gHi;
            dot0 = gLo * (ck_rownorm_low(v) - shift) + dot0;
            dot1 = gHi * (ck_rownorm_high(v) - shift) + dot1;
        }
        double sumGW = ck_rownorm_sum((sum0 + sum1) + (sum2 + sum3)), sumGWX = ck_rownorm_sum((dot0 + dot1) + (dot2 + dot3));
        for (; i < d; i++) {
            const double gw = (double)gRow[i] * (weight ? (double)weight[i] : 1.0);
            sumGW += gw;
            sumGWX += gw * ((double)xRow[i] - mu);
        }
        const double meanGW = centered ? sumGW * scale : 0, meanGWX = sumGWX * scale * invstd;
        // ∂x = invstd·(gw − mean(gw) − x̂·mean(gw·x̂)), in Float.
        const float muHigh = (float)mu;
        const ck_f8 m = (ck_f8)muHigh, mLow = (ck_f8)(float)(mu - (double)muHigh), s = (ck_f8)(float)invstd;
        const ck_f8 a = (ck_f8)(float)meanGW, c = (ck_f8)(float)meanGWX;
#define CK_ROWNORM_GRADIENT(LOAD, STORE)                                                                    \
    do {                                                                                                    \
        ck_f8 gw = LOAD(gRow + i);                                                                          \
        if (weight) gw *= LOAD(weight + i);                                                                 \
        const ck_f8 xHat = ((LOAD(xRow + i) - m) - mLow) * s;                                               \
        STORE(out + i, s * (gw - a - xHat * c));                                                            \
    } while (0)
        for (i = 0; i + 8 <= d; i += 8) CK_ROWNORM_GRADIENT(ck_f8_load, ck_f8_store);
        if (i < d) {
            const ptrdiff_t lanes = d - i;
            CK_ROWNORM_GRADIENT(CK_LOAD_TAIL, CK_STORE_TAIL);
        }
#undef CK_ROWNORM_GRADIENT
    }
}

/// Columns `start ..< end` of the parameter gradients, each Double sum kept in memory (2 KiB a tile, in L1) and
/// updated row by row in memory order: for the columns left over from the register blocks below.
static void ck_rownorm_parameter_gradient_columns(const float *g, const float *x, ptrdiff_t rows, ptrdiff_t d,
                                                  const double *mean, const double *inverseStd, ptrdiff_t start,
                                                  ptrdiff_t end, double *weightGradient, double *biasGradient) {
    for (ptrdiff_t j = start; j < end; j++) {
        if (weightGradient) weightGradient[j] = 0;
        if (biasGradient) biasGradient[j] = 0;
    }
    enum { TILE = 256 };
    for (ptrdiff_t tile = start; tile < end; tile += TILE) {
        const ptrdiff_t tileEnd = tile + TILE < end ? tile + TILE : end;
        for (ptrdiff_t r = 0; r < rows; r++) {
            const float *gRow = g + r * d, *xRow = x + r * d;
            const ck_d4 shift = (ck_d4)mean[r], s = (ck_d4)inverseStd[r];
            ptrdiff_t j = tile;
            for (; j + 8 <= tileEnd; j += 8) {
                const ck_f8 gv = ck_f8_load(gRow + j);
                const ck_d4 gLo = ck_rownorm_low(gv), gHi = ck_rownorm_high(gv);
                if (weightGradient) {
                    const ck_f8 xv = ck_f8_load(xRow + j);
                    ck_d4 lo, hi;
                    memcpy(&lo, weightGradient + j, sizeof lo);
                    memcpy(&hi, weightGradient + j + 4, sizeof hi);
                    lo = gLo * ((ck_rownorm_low(xv) - shift) * s) + lo;
                    hi = gHi * ((ck_rownorm_high(xv) - shift) * s) + hi;
                    memcpy(weightGradient + j, &lo, sizeof lo);
                    memcpy(weightGradient + j + 4, &hi, sizeof hi);
                }
                if (biasGradient) {
                    ck_d4 lo, hi;
                    memcpy(&lo, biasGradient + j, sizeof lo);
                    memcpy(&hi, biasGradient + j + 4, sizeof hi);
                    lo += gLo;
                    hi += gHi;
                    memcpy(biasGradient + j, &lo, sizeof lo);
                    memcpy(biasGradient + j + 4, &hi, sizeof hi);
                }
            }
            for (; j < tileEnd; j++) {
                if (weightGradient) weightGradient[j] += (double)gRow[j] * (((double)xRow[j] - mean[r]) * inverseStd[r]);
                if (biasGradient) biasGradient[j] += (double)gRow[j];
            }
        }
    }
}

void CK_LEVEL(ck_row_norm_parameter_gradients_f32)(const float *g, const float *x, ptrdiff_t rows, ptrdiff_t d,
                                                   const double *mean, const double *inverseStd, ptrdiff_t start,
                                                   ptrdiff_t count, double *weightGradient, double *biasGradient) {
    CK_REQUIRE(CK_LEVEL_ISA, "ck_row_norm_parameter_gradients_f32");
    const ptrdiff_t end = start + count;
    // Sixteen columns at a time, summed over every row in registers (eight chains, so the adds of one row do not
    // wait for each other); each sum still runs over the rows in order, as the columns below do.
    ptrdiff_t j = start;
    for (; j + 16 <= end; j += 16) {
        ck_d4 w0 = (ck_d4)0, w1 = (ck_d4)0, w2 = (ck_d4)0, w3 = (ck_d4)0;
        ck_d4 b0 = (ck_d4)0, b1 = (ck_d4)0, b2 = (ck_d4)0, b3 = (ck_d4)0;
        for (ptrdiff_t r = 0; r < rows; r++) {
            const float *gRow = g + r * d + j, *xRow = x + r * d + j;
            const ck_f8 gv = ck_f8_load(gRow), gv2 = ck_f8_load(gRow + 8);
            const ck_d4 g0 = ck_rownorm_low(gv), g1 = ck_rownorm_high(gv);
            const ck_d4 g2 = ck_rownorm_low(gv2), g3 = ck_rownorm_high(gv2);
            if (biasGradient) {
                b0 += g0;
                b1 += g1;
                b2 += g2;
                b3 += g3;
            }
            if (weightGradient) {
                const ck_d4 shift = (ck_d4)mean[r], s = (ck_d4)inverseStd[r];
                const ck_f8 xv = ck_f8_load(xRow), xv2 = ck_f8_load(xRow + 8);
                w0 = g0 * ((ck_rownorm_low(xv) - shift) * s) + w0;
                w1 = g1 * ((ck_rownorm_high(xv) - shift) * s) + w1;
                w2 = g2 * ((ck_rownorm_low(xv2) - shift) * s) + w2;
                w3 = g3 * ((ck_rownorm_high(xv2) - shift) * s) + w3;
            }
        }
        if (weightGradient) {
            memcpy(weightGradient + j, &w0, sizeof w0);
            memcpy(weightGradient + j + 4, &w1, sizeof w1);
            memcpy(weightGradient + j + 8, &w2, sizeof w2);
            memcpy(weightGradient + j + 12, &w3, sizeof w3);
        }
        if (biasGradient) {
            memcpy(biasGradient + j, &b0, sizeof b0);
            memcpy(biasGradient + j + 4, &b1, sizeof b1);
            memcpy(biasGradient + j + 8, &b2, sizeof b2);
            memcpy(biasGradient + j + 12, &b3, sizeof b3);
        }
    }
    if (j < end) {
        ck_rownorm_parameter_gradient_columns(g, x, rows, d, mean, inverseStd, j, end, weightGradient, biasGradient);
    }
}

#undef CK_LOAD_TAIL
#undef CK_STORE_TAIL

#pragma clang diagnostic pop
