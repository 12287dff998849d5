// Layer and RMS normalisation of Float rows in portable C (clang's vector extensions; see ckernels.h). Not a header
// to include anywhere else: rownorm.c (AVX-512), portable_avx2.c and portable_generic.c each build it once, having
// defined CK_LEVEL(name) (the level's suffix) and CK_LEVEL_ISA (the level it needs), the first two under a
// `#pragma clang attribute` that gives every function here the level's target.
//
// Everything runs in Float, eight lanes with FMA: the statistics by the corrected two-pass algorithm, which keeps
// Float's precision for rows far from zero, the backward's row sums on four chains, and the parameter gradients in
// Float over blocks of rows whose sums are then added in Double. Widening every element to Double, as these kernels
// did before, cost more than the memory traffic (Docs/Performance.md); a row whose Float sums overflow is summed
// again in Double.

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

// The partial loads and stores of a row's last `lanes` elements.
#define CK_LOAD_TAIL(P) ck_f8_load_first((P), lanes)
#define CK_STORE_TAIL(P, V) ck_f8_store_first((P), (V), lanes)

/// The low and high four lanes of `v`, widened to Double.
static inline __attribute__((always_inline)) ck_d4 ck_rownorm_low(ck_f8 v) {
    return __builtin_convertvector(__builtin_shufflevector(v, v, 0, 1, 2, 3), ck_d4);
}
static inline __attribute__((always_inline)) ck_d4 ck_rownorm_high(ck_f8 v) {
    return __builtin_convertvector(__builtin_shufflevector(v, v, 4, 5, 6, 7), ck_d4);
}

/// The rows the forward and the input gradient take together: each row's statistics end in horizontal sums, a
/// division and a square root, a chain of latencies longer than the row's own work. Eight rows' partial sums are
/// transposed and added in one go (lane k the sum of row k), and their scalars computed in two Double vectors.
enum { CK_ROWNORM_ROWS = 8 };

/// Lane k: the sum of the lanes of `v[k]` (`v` is overwritten).
static inline __attribute__((always_inline)) ck_f8 ck_rownorm_lane_sums(ck_f8 v[CK_ROWNORM_ROWS]) {
    ck_f8_transpose(v);
    return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
}

/// The row pointers of a block of `n` rows (0 < n ≤ 8) of `d` from `base`: the places past the last row repeat it,
/// so the block always computes eight rows and its callers keep only the first `n`.
static inline __attribute__((always_inline)) void ck_rownorm_block_rows(const float *base, ptrdiff_t n, ptrdiff_t d,
                                                                        const float *rows[CK_ROWNORM_ROWS]) {
    for (ptrdiff_t k = 0; k < CK_ROWNORM_ROWS; k++) rows[k] = base + (k < n ? k : n - 1) * d;
}

/// `Σ x` over a row of `d` in Float, as eight lanes to be added: thirty-two elements a step on four chains.
static inline __attribute__((always_inline)) ck_f8 ck_rownorm_sum_lanes(const float *x, ptrdiff_t d) {
    ck_f8 a0 = (ck_f8)0, a1 = (ck_f8)0, a2 = (ck_f8)0, a3 = (ck_f8)0;
    ptrdiff_t i = 0;
    for (; i + 32 <= d; i += 32) {
        a0 += ck_f8_load(x + i);
        a1 += ck_f8_load(x + i + 8);
        a2 += ck_f8_load(x + i + 16);
        a3 += ck_f8_load(x + i + 24);
    }
    for (; i + 8 <= d; i += 8) a0 += ck_f8_load(x + i);
    if (i < d) a1 += ck_f8_load_first(x + i, d - i);
    return (a0 + a1) + (a2 + a3);
}

/// `Σ (x − shift)²` over a row of `d` in Float, as eight lanes to be added, and likewise `Σ (x − shift)` in `*first`:
/// one pass on four chains of each.
static inline __attribute__((always_inline)) ck_f8 ck_rownorm_square_lanes(const float *x, ptrdiff_t d, float shift,
                                                                           ck_f8 *first) {
    const ck_f8 s = (ck_f8)shift;
    ck_f8 sum0 = (ck_f8)0, sum1 = (ck_f8)0, sum2 = (ck_f8)0, sum3 = (ck_f8)0;
    ck_f8 square0 = (ck_f8)0, square1 = (ck_f8)0, square2 = (ck_f8)0, square3 = (ck_f8)0;
    ptrdiff_t i = 0;
    for (; i + 32 <= d; i += 32) {
        const ck_f8 c0 = ck_f8_load(x + i) - s, c1 = ck_f8_load(x + i + 8) - s;
        const ck_f8 c2 = ck_f8_load(x + i + 16) - s, c3 = ck_f8_load(x + i + 24) - s;
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
        const ck_f8 c = ck_f8_load(x + i) - s;
        sum0 += c;
        square0 = c * c + square0;
    }
    if (i < d) {
        // The lanes past the row load as zero, which is not zero once shifted: they are cleared.
        const ck_f8 c = (ck_f8)((ck_i8)(ck_f8_load_first(x + i, d - i) - s) & ck_f8_first_lanes(d - i));
        sum1 += c;
        square1 = c * c + square1;
    }
    *first = (sum0 + sum1) + (sum2 + sum3);
    return (square0 + square1) + (square2 + square3);
}

/// `Σ (x − shift)²` over a row of `d` and `Σ (x − shift)` in `*first`, every term in Double: the statistics of a row
/// whose Float sums overflow.
static double ck_rownorm_double_squares(const float *x, ptrdiff_t d, double shift, double *first) {
    double sum = 0, squares = 0;
    for (ptrdiff_t i = 0; i < d; i++) {
        const double c = (double)x[i] - shift;
        sum += c;
        squares += c * c;
    }
    *first = sum;
    return squares;
}

/// `μ` and `invstd` of eight rows from their shifts K, `Σ(x − K)` and `Σ(x − K)²` (Float sums, lane k row k),
/// computed in Double: `μ = K + Σc/d` and `invstd = 1/√(Σc²/d − (Σc/d)² + ε)`, the variance floored at zero.
static inline __attribute__((always_inline)) void ck_rownorm_statistics(ck_f8 shift, ck_f8 first, ck_f8 squares,
                                                                        double scale, double eps, int centered,
                                                                        double mu[CK_ROWNORM_ROWS],
                                                                        double invstd[CK_ROWNORM_ROWS]) {
    for (int half = 0; half < 2; half++) {
        const ck_d4 k = half ? ck_rownorm_high(shift) : ck_rownorm_low(shift);
        const ck_d4 f = half ? ck_rownorm_high(first) : ck_rownorm_low(first);
        const ck_d4 q = half ? ck_rownorm_high(squares) : ck_rownorm_low(squares);
        const ck_d4 meanShift = centered ? f * scale : (ck_d4)0;
        const ck_d4 m = centered ? k + meanShift : (ck_d4)0;
        const ck_d4 variance = __builtin_elementwise_max(q * scale - meanShift * meanShift, (ck_d4)0);
        const ck_d4 s = (ck_d4)1 / __builtin_elementwise_sqrt(variance + eps);
        memcpy(mu + 4 * half, &m, sizeof m);
        memcpy(invstd + 4 * half, &s, sizeof s);
    }
}

/// Rows `0 ..< n` (0 < n ≤ 8) of ``ck_row_norm_f32``.
static inline __attribute__((always_inline)) void ck_rownorm_forward_block(const float *x, float *y, ptrdiff_t n,
                                                                           ptrdiff_t d, double eps, const float *weight,
                                                                           const float *bias, int centered,
                                                                           double *mean, double *inverseStd) {
    const double scale = 1.0 / (double)d;
    const float *rows[CK_ROWNORM_ROWS];
    ck_rownorm_block_rows(x, n, d, rows);
    // The corrected two-pass algorithm in Float: a first mean K, then with c = x − K, μ = K + Σc/d and the
    // variance Σc²/d − (Σc/d)². K is within a few ulps of μ, so c is exact wherever x is near μ (Sterbenz) and
    // Σc/d corrects K's own error; the variance keeps Float's precision (Chan, Golub and LeVeque), however far
    // the row lies from zero.
    ck_f8 lanes[CK_ROWNORM_ROWS], firstLanes[CK_ROWNORM_ROWS], shift = (ck_f8)0;
    if (centered) {
        for (int k = 0; k < CK_ROWNORM_ROWS; k++) lanes[k] = ck_rownorm_sum_lanes(rows[k], d);
        const ck_f8 sums = ck_rownorm_lane_sums(lanes);
        shift = __builtin_shufflevector(__builtin_convertvector(ck_rownorm_low(sums) * scale, ck_rownorm_f4),
                                        __builtin_convertvector(ck_rownorm_high(sums) * scale, ck_rownorm_f4),
                                        0, 1, 2, 3, 4, 5, 6, 7);
    }
    for (int k = 0; k < CK_ROWNORM_ROWS; k++) lanes[k] = ck_rownorm_square_lanes(rows[k], d, shift[k], &firstLanes[k]);
    const ck_f8 squares = ck_rownorm_lane_sums(lanes), first = ck_rownorm_lane_sums(firstLanes);
    double mu[CK_ROWNORM_ROWS], invstd[CK_ROWNORM_ROWS];
    ck_rownorm_statistics(shift, first, squares, scale, eps, centered, mu, invstd);
    for (ptrdiff_t k = 0; k < n; k++) {
        const float *row = rows[k];
        float *out = y + k * d;
        if (!__builtin_isfinite(shift[k]) || !__builtin_isfinite(squares[k]) || !__builtin_isfinite(first[k])) {
            // The Float sums overflowed: this row again in Double, about its first element.
            const double rowShift = centered ? (double)row[0] : 0;
            double sum;
            const double rowSquares = ck_rownorm_double_squares(row, d, rowShift, &sum);
            const double meanShift = centered ? sum * scale : 0;
            mu[k] = centered ? rowShift + meanShift : 0;
            invstd[k] = 1 / __builtin_elementwise_sqrt(
                                __builtin_elementwise_max(rowSquares * scale - meanShift * meanShift, 0.0) + eps);
        }
        mean[k] = mu[k];
        inverseStd[k] = invstd[k];
        // μ as two Floats: x − μ₁ is exact for x near μ (Sterbenz), so rows far from zero with a small spread keep
        // their digits (a Float μ alone would be off by half an ulp of μ, maybe more than the spread).
        const float muHigh = (float)mu[k];
        const ck_f8 m = (ck_f8)muHigh, mLow = (ck_f8)(float)(mu[k] - (double)muHigh), s = (ck_f8)(float)invstd[k];
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
            CK_ROWNORM_OUTPUT(CK_LOAD_TAIL, CK_STORE_TAIL);
        }
#undef CK_ROWNORM_OUTPUT
    }
}

void CK_LEVEL(ck_row_norm_f32)(const float *x, float *y, ptrdiff_t rows, ptrdiff_t d, double eps, const float *weight,
                               const float *bias, int centered, double *mean, double *inverseStd) {
    CK_REQUIRE(CK_LEVEL_ISA, "ck_row_norm_f32");
    for (ptrdiff_t r = 0; r < rows; r += CK_ROWNORM_ROWS) {
        const ptrdiff_t n = rows - r < CK_ROWNORM_ROWS ? rows - r : CK_ROWNORM_ROWS;
        ck_rownorm_forward_block(x + r * d, y + r * d, n, d, eps, weight, bias, centered, mean + r, inverseStd + r);
    }
}

/// `Σ g·w` over a row of `d` in Float as eight lanes to be added (`g` where `weight` is NULL), and likewise
/// `Σ g·w·(x − μ)` in `*dot`, μ given as the two Floats `m + mLow`: thirty-two elements a step on four chains of
/// each. Lanes past the row load `g` as zero and add nothing.
static inline __attribute__((always_inline)) ck_f8 ck_rownorm_gradient_lanes(const float *gRow, const float *xRow,
                                                                             const float *weight, ptrdiff_t d,
                                                                             ck_f8 m, ck_f8 mLow, ck_f8 *dot) {
    ck_f8 sums[4] = {0}, dots[4] = {0};
#define CK_ROWNORM_SUMS(LOAD, CHAIN, OFFSET)                                                                \
    do {                                                                                                    \
        ck_f8 gw = LOAD(gRow + i + (OFFSET));                                                               \
        if (weight) gw *= LOAD(weight + i + (OFFSET));                                                      \
        sums[CHAIN] += gw;                                                                                  \
        dots[CHAIN] = gw * ((LOAD(xRow + i + (OFFSET)) - m) - mLow) + dots[CHAIN];                          \
    } while (0)
    ptrdiff_t i = 0;
    for (; i + 32 <= d; i += 32)
        for (int chain = 0; chain < 4; chain++) CK_ROWNORM_SUMS(ck_f8_load, chain, 8 * chain);
    for (; i + 8 <= d; i += 8) CK_ROWNORM_SUMS(ck_f8_load, 0, 0);
    if (i < d) {
        const ptrdiff_t lanes = d - i;
        CK_ROWNORM_SUMS(CK_LOAD_TAIL, 1, 0);
    }
#undef CK_ROWNORM_SUMS
    *dot = (dots[0] + dots[1]) + (dots[2] + dots[3]);
    return (sums[0] + sums[1]) + (sums[2] + sums[3]);
}

// CK_ROW_NORM_BLOCK_ROWS (ckernels.h), the rows the parameter gradients sum in Float before adding the block to their
// Double totals: few enough that a Float sum keeps nearly all of Float's precision, and the block's rows stay in the
// L2 cache while every column block of ck_row_norm_parameter_gradients_f32 reads them.
_Static_assert(CK_ROW_NORM_BLOCK_ROWS % CK_ROWNORM_ROWS == 0, "an eight-row block must lie in one parameter block");

/// Rows `0 ..< n` (0 < n ≤ 8) of ``ck_row_norm_input_gradient_f32``.
/// With `partial` (not NULL), also adds each row's `g·x̂` and `g` to `partial[0 ..< d]` and `partial[d ..< 2d]`, in
/// row order, as ``ck_rownorm_parameter_block`` sums them.
static inline __attribute__((always_inline)) void ck_rownorm_input_gradient_block(const float *g, const float *x,
                                                                                  const float *weight, float *gx,
                                                                                  ptrdiff_t n, ptrdiff_t d, int centered,
                                                                                  const double *mean,
                                                                                  const double *inverseStd,
                                                                                  float *partial) {
    const double scale = 1.0 / (double)d;
    const float *gRows[CK_ROWNORM_ROWS], *xRows[CK_ROWNORM_ROWS];
    ck_rownorm_block_rows(g, n, d, gRows);
    ck_rownorm_block_rows(x, n, d, xRows);
    ck_f8 m[CK_ROWNORM_ROWS], mLow[CK_ROWNORM_ROWS], sumLanes[CK_ROWNORM_ROWS], dotLanes[CK_ROWNORM_ROWS];
    for (int k = 0; k < CK_ROWNORM_ROWS; k++) {
        const double mu = mean[k < n ? k : n - 1];
        const float muHigh = (float)mu;
        m[k] = (ck_f8)muHigh;
        mLow[k] = (ck_f8)(float)(mu - (double)muHigh);
        sumLanes[k] = ck_rownorm_gradient_lanes(gRows[k], xRows[k], weight, d, m[k], mLow[k], &dotLanes[k]);
    }
    const ck_f8 sums = ck_rownorm_lane_sums(sumLanes), dots = ck_rownorm_lane_sums(dotLanes);
    for (ptrdiff_t k = 0; k < n; k++) {
        const float *gRow = gRows[k], *xRow = xRows[k];
        float *out = gx + k * d;
        const double mu = mean[k], invstd = inverseStd[k];
        double sumGW = sums[k], sumGWX = dots[k];
        if (!__builtin_isfinite(sumGW) || !__builtin_isfinite(sumGWX)) {
            // The Float sums overflowed: this row's again in Double.
            sumGW = sumGWX = 0;
            for (ptrdiff_t i = 0; i < d; i++) {
                const double gw = (double)gRow[i] * (weight ? (double)weight[i] : 1.0);
                sumGW += gw;
                sumGWX += gw * ((double)xRow[i] - mu);
            }
        }
        const double meanGW = centered ? sumGW * scale : 0, meanGWX = sumGWX * scale * invstd;
        // ∂x = invstd·(gw − mean(gw) − x̂·mean(gw·x̂)), in Float.
        const ck_f8 s = (ck_f8)(float)invstd, a = (ck_f8)(float)meanGW, c = (ck_f8)(float)meanGWX;
#define CK_ROWNORM_GRADIENT(LOAD, STORE)                                                                    \
    do {                                                                                                    \
        const ck_f8 gv = LOAD(gRow + i), gw = weight ? gv * LOAD(weight + i) : gv;                          \
        const ck_f8 xHat = ((LOAD(xRow + i) - m[k]) - mLow[k]) * s;                                         \
        STORE(out + i, s * (gw - a - xHat * c));                                                            \
        if (partial) {                                                                                      \
            const ck_f8 weightSum = LOAD(partial + i), biasSum = LOAD(partial + d + i);                     \
            STORE(partial + i, gv * xHat + weightSum);                                                      \
            STORE(partial + d + i, biasSum + gv);                                                           \
        }                                                                                                   \
    } while (0)
        ptrdiff_t i = 0;
        for (; i + 8 <= d; i += 8) CK_ROWNORM_GRADIENT(ck_f8_load, ck_f8_store);
        if (i < d) {
            const ptrdiff_t lanes = d - i;
            CK_ROWNORM_GRADIENT(CK_LOAD_TAIL, CK_STORE_TAIL);
        }
#undef CK_ROWNORM_GRADIENT
    }
}

void CK_LEVEL(ck_row_norm_input_gradient_f32)(const float *g, const float *x, const float *weight, float *gx,
                                              ptrdiff_t rows, ptrdiff_t d, int centered, const double *mean,
                                              const double *inverseStd, float *blockSums) {
    CK_REQUIRE(CK_LEVEL_ISA, "ck_row_norm_input_gradient_f32");
    for (ptrdiff_t r = 0; r < rows; r += CK_ROWNORM_ROWS) {
        const ptrdiff_t n = rows - r < CK_ROWNORM_ROWS ? rows - r : CK_ROWNORM_ROWS;
        // Each eight-row block lies in one block of CK_ROW_NORM_BLOCK_ROWS rows, whose partial sums start at zero.
        float *partial = blockSums ? blockSums + (r / CK_ROW_NORM_BLOCK_ROWS) * 2 * d : NULL;
        if (partial && r % CK_ROW_NORM_BLOCK_ROWS == 0) memset(partial, 0, (size_t)(2 * d) * sizeof(float));
        ck_rownorm_input_gradient_block(g + r * d, x + r * d, weight, gx + r * d, n, d, centered, mean + r,
                                        inverseStd + r, partial);
    }
}

/// `total[0 ..< 8] += v`, widened to Double.
static inline __attribute__((always_inline)) void ck_rownorm_add_widened(double *total, ck_f8 v) {
    ck_d4 lo, hi;
    memcpy(&lo, total, sizeof lo);
    memcpy(&hi, total + 4, sizeof hi);
    lo += ck_rownorm_low(v);
    hi += ck_rownorm_high(v);
    memcpy(total, &lo, sizeof lo);
    memcpy(total + 4, &hi, sizeof hi);
}

/// Columns `j ..< j + 8·(groups − 1) + lanes` of the parameter gradients over the `n` rows from `firstRow`: Float
/// sums of `g·x̂` and `g` in registers, added to the Double totals at the end. `m`, `mLow` and `s` are the rows' μ
/// as two Floats and their invstd. Each Float sum takes the same operations in the same order as the input
/// gradient's `blockSums`, so either route gives the same totals to the bit.
static inline __attribute__((always_inline)) void
ck_rownorm_parameter_block(const float *g, const float *x, ptrdiff_t d, ptrdiff_t firstRow, ptrdiff_t n, const float *m,
                           const float *mLow, const float *s, ptrdiff_t j, int groups, ptrdiff_t lanes,
                           double *weightGradient, double *biasGradient) {
    ck_f8 w[4] = {0}, b[4] = {0};
    for (ptrdiff_t k = 0; k < n; k++) {
        const float *gRow = g + (firstRow + k) * d + j, *xRow = x + (firstRow + k) * d + j;
        for (int e = 0; e < groups; e++) {
            const ck_f8 gv = lanes >= 8 ? ck_f8_load(gRow + 8 * e) : ck_f8_load_first(gRow + 8 * e, lanes);
            if (biasGradient) b[e] += gv;
            if (weightGradient) {
                const ck_f8 xv = lanes >= 8 ? ck_f8_load(xRow + 8 * e) : ck_f8_load_first(xRow + 8 * e, lanes);
                w[e] = gv * (((xv - (ck_f8)m[k]) - (ck_f8)mLow[k]) * (ck_f8)s[k]) + w[e];
            }
        }
    }
    for (int e = 0; e < groups; e++) {
        double *wTotal = weightGradient ? weightGradient + j + 8 * e : NULL, *bTotal = biasGradient ? biasGradient + j + 8 * e : NULL;
        if (lanes >= 8) {
            if (wTotal) ck_rownorm_add_widened(wTotal, w[e]);
            if (bTotal) ck_rownorm_add_widened(bTotal, b[e]);
        } else {
            for (ptrdiff_t l = 0; l < lanes; l++) {
                if (wTotal) wTotal[l] += (double)w[e][l];
                if (bTotal) bTotal[l] += (double)b[e][l];
            }
        }
    }
}

void CK_LEVEL(ck_row_norm_parameter_gradients_f32)(const float *g, const float *x, ptrdiff_t rows, ptrdiff_t d,
                                                   const double *mean, const double *inverseStd, ptrdiff_t start,
                                                   ptrdiff_t count, double *weightGradient, double *biasGradient) {
    CK_REQUIRE(CK_LEVEL_ISA, "ck_row_norm_parameter_gradients_f32");
    const ptrdiff_t end = start + count;
    for (ptrdiff_t j = start; j < end; j++) {
        if (weightGradient) weightGradient[j] = 0;
        if (biasGradient) biasGradient[j] = 0;
    }
    // Blocks of rows at fixed places, each summed in Float and then added to the Double totals in order: every
    // column's total is the same however the columns are split over threads.
    float m[CK_ROW_NORM_BLOCK_ROWS], mLow[CK_ROW_NORM_BLOCK_ROWS], s[CK_ROW_NORM_BLOCK_ROWS];
    for (ptrdiff_t firstRow = 0; firstRow < rows; firstRow += CK_ROW_NORM_BLOCK_ROWS) {
        const ptrdiff_t n = rows - firstRow < CK_ROW_NORM_BLOCK_ROWS ? rows - firstRow : CK_ROW_NORM_BLOCK_ROWS;
        for (ptrdiff_t k = 0; k < n; k++) {
            const double mu = mean[firstRow + k];
            m[k] = (float)mu;
            mLow[k] = (float)(mu - (double)m[k]);
            s[k] = (float)inverseStd[firstRow + k];
        }
        // Thirty-two columns at a time (eight independent chains per row), then eight, then the last few.
        ptrdiff_t j = start;
        for (; j + 32 <= end; j += 32)
            ck_rownorm_parameter_block(g, x, d, firstRow, n, m, mLow, s, j, 4, 8, weightGradient, biasGradient);
        for (; j + 8 <= end; j += 8)
            ck_rownorm_parameter_block(g, x, d, firstRow, n, m, mLow, s, j, 1, 8, weightGradient, biasGradient);
        if (j < end)
            ck_rownorm_parameter_block(g, x, d, firstRow, n, m, mLow, s, j, 1, end - j, weightGradient, biasGradient);
    }
}

#undef CK_LOAD_TAIL
#undef CK_STORE_TAIL

#pragma clang diagnostic pop
