// The softmax rows of fused attention in portable C (clang's vector extensions; see ckernels.h). Not a header to
// include anywhere else: attention.c (AVX-512), portable_avx2.c and portable_generic.c each build it once, having
// defined CK_LEVEL(name) (the level's suffix) and CK_LEVEL_ISA (the level it needs), the first two under a
// `#pragma clang attribute` that gives every function here the level's target.
//
// Swift's baseline code runs the vectorisable exponential four lanes at a time without FMA; here it runs a row's
// whole steps at CK_WIDE_LANES lanes (below) and the rest eight at a time, and the maximum, the exponentials and their
// sum take one call per block of rows instead of three per row.

// Built for baseline x86-64, a function that takes or returns an eight-lane vector warns that AVX would pass it
// differently, even when it is static and always inlined: no call here crosses a translation unit.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpsabi"

#include "levels.h"
#include "cpu.h"
#include "vector.h"

// A wide vector's lanes fold to eight in registers, low half against high half (a fold through memory stalls on
// the stores: measured, it cost about as much as the exponentials of a 64-wide row). FOLD(v, op) is eight lanes.
#if CK_WIDE_LANES == 64
#define CK_ATT_HALVES_64(v, low, high)                                                                              \
    const ck_f32 low = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, \
        18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31);                                                   \
    const ck_f32 high = __builtin_shufflevector(v, v, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, \
        47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63);
#define CK_ATT_FOLD_TO_32(v, op, out) CK_ATT_HALVES_64(v, wideLow, wideHigh) const ck_f32 out = op(wideLow, wideHigh);
#elif CK_WIDE_LANES == 32
#define CK_ATT_FOLD_TO_32(v, op, out) const ck_f32 out = v;
#else
#error "attention_portable.h folds 32 or 64 lanes"
#endif
#define CK_ATT_FOLD(v, op)                                                                                          \
    CK_ATT_FOLD_TO_32(v, op, v32)                                                                                   \
    const ck_f16 v32Low = __builtin_shufflevector(v32, v32, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); \
    const ck_f16 v32High = __builtin_shufflevector(v32, v32, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, \
        29, 30, 31);                                                                                                \
    const ck_f16 v16 = op(v32Low, v32High);                                                                     \
    const ck_f8 v16Low = __builtin_shufflevector(v16, v16, 0, 1, 2, 3, 4, 5, 6, 7);                                  \
    const ck_f8 v16High = __builtin_shufflevector(v16, v16, 8, 9, 10, 11, 12, 13, 14, 15);
#define CK_ATT_ADD(a, b) ((a) + (b))

/// The lanes folded to eight by their sums.
static inline __attribute__((always_inline)) ck_f8 ck_att_sum8(ck_wide_f v) {
    CK_ATT_FOLD(v, CK_ATT_ADD)
    return v16Low + v16High;
}

/// The lanes folded to eight by their maxima.
static inline __attribute__((always_inline)) ck_f8 ck_att_max8(ck_wide_f v) {
    CK_ATT_FOLD(v, ck_vector_max)
    return ck_vector_max(v16Low, v16High);
}

/// The rows a softmax step takes together: a row's maximum, its exponentials' sum and its correction end in
/// horizontal reductions and an exponential, a chain of latencies longer than a short row's own work. Eight rows'
/// lanes are transposed and reduced in one go (lane k row k), and their corrections take one vector exponential.
enum { CK_ATT_ROWS = 8 };

/// Lane k: the maximum of the lanes of `v[k]` (`v` is overwritten).
static inline __attribute__((always_inline)) ck_f8 ck_att_lane_maxima(ck_f8 v[CK_ATT_ROWS]) {
    ck_f8_transpose(v);
    return ck_vector_max(ck_vector_max(ck_vector_max(v[0], v[1]), ck_vector_max(v[2], v[3])),
                         ck_vector_max(ck_vector_max(v[4], v[5]), ck_vector_max(v[6], v[7])));
}

/// Lane k: the sum of the lanes of `v[k]` (`v` is overwritten).
static inline __attribute__((always_inline)) ck_f8 ck_att_lane_sums(ck_f8 v[CK_ATT_ROWS]) {
    ck_f8_transpose(v);
    return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
}

/// The maximum of a row of `width` scores, as eight lanes to be folded (lanes past the row are −∞). A NaN score may
/// or may not be taken as the maximum (ck_vector_max); either way its row's weights come out NaN, as PyTorch's do.
static inline __attribute__((always_inline)) ck_f8 ck_att_row_max_lanes(const float *row, ptrdiff_t width) {
    ck_wide_f wide = (ck_wide_f)(-__builtin_inff());
    ptrdiff_t i = 0;
    for (; i + CK_WIDE_LANES <= width; i += CK_WIDE_LANES) {
        ck_wide_f v;
        memcpy(&v, row + i, sizeof v);
        wide = ck_vector_max(wide, v);
    }
    ck_f8 lanes = ck_att_max8(wide);
    for (; i + 8 <= width; i += 8) lanes = ck_vector_max(lanes, ck_f8_load(row + i));
    if (i < width) {
        const ck_i8 present = ck_f8_first_lanes(width - i);
        const ck_f8 v = ck_f8_load_first(row + i, width - i);
        lanes = ck_vector_max(lanes, (ck_f8)(((ck_i8)v & present) | ((ck_i8)(ck_f8)(-__builtin_inff()) & ~present)));
    }
    return lanes;
}

/// x[0..<n] = exp(x − m), returning their sum as eight lanes to be added (lanes past n neither written nor counted).
/// Every x − m is at most 0 (m is at least the row's maximum), so the exponential is vector.h's nonpositive one.
static inline __attribute__((always_inline)) ck_f8 ck_attention_exp_row(float *x, ptrdiff_t n, float m) {
    const ck_f8 shift = (ck_f8)m;
    ck_f8 sum0 = (ck_f8)0.0f, sum1 = (ck_f8)0.0f;
    ptrdiff_t i = 0;
    const ck_wide_f wideShift = (ck_wide_f)m;
    ck_wide_f wideSum = (ck_wide_f)0.0f;
    for (; i + CK_WIDE_LANES <= n; i += CK_WIDE_LANES) {
        ck_wide_f v;
        memcpy(&v, x + i, sizeof v);
        v = ck_wide_exp_nonpositive(v - wideShift);
        memcpy(x + i, &v, sizeof v);
        wideSum += v;
    }
    for (; i + 16 <= n; i += 16) {
        const ck_f8 e0 = ck_f8_exp_nonpositive(ck_f8_load(x + i) - shift), e1 = ck_f8_exp_nonpositive(ck_f8_load(x + i + 8) - shift);
        ck_f8_store(x + i, e0);
        ck_f8_store(x + i + 8, e1);
        sum0 += e0;
        sum1 += e1;
    }
    for (; i < n; i += 8) {
        const ptrdiff_t lanes = n - i < 8 ? n - i : 8;
        ck_f8 e = ck_f8_exp_nonpositive(ck_f8_load_first(x + i, lanes) - shift);
        ck_f8_store_first(x + i, e, lanes);
        for (ptrdiff_t j = lanes; j < 8; j++) e[j] = 0;
        sum0 += e;
    }
    return ck_att_sum8(wideSum) + (sum0 + sum1);
}

void CK_LEVEL(ck_attention_softmax_step_f32)(float *scores, ptrdiff_t rows, ptrdiff_t width, float *rowMax,
                                             float *rowSum, float *correction) {
    CK_REQUIRE(CK_LEVEL_ISA, "ck_attention_softmax_step_f32");
    // Two passes over the block: every row's new maximum and correction first, then the exponentials and their sums,
    // which then wait on nothing computed just before them.
    for (ptrdiff_t r0 = 0; r0 < rows; r0 += CK_ATT_ROWS) {
        const ptrdiff_t n = rows - r0 < CK_ATT_ROWS ? rows - r0 : CK_ATT_ROWS;
        ck_f8 lanes[CK_ATT_ROWS];
        // The places past the last row repeat it.
        for (ptrdiff_t k = 0; k < CK_ATT_ROWS; k++) lanes[k] = ck_att_row_max_lanes(scores + (r0 + (k < n ? k : n - 1)) * width, width);
        const ck_f8 previous = ck_f8_load_first(rowMax + r0, n), m = ck_vector_max(previous, ck_att_lane_maxima(lanes));
        // exp(previous − m), exactly 1 where the maximum did not grow (−∞ − −∞ would be NaN).
        const ck_i8 unchanged = previous == m;
        const ck_f8 c = (ck_f8)(((ck_i8)ck_f8_exp(previous - m) & ~unchanged) | ((ck_i8)(ck_f8)1.0f & unchanged));
        ck_f8_store_first(rowMax + r0, m, n);
        ck_f8_store_first(correction + r0, c, n);
    }
    const float infinity = __builtin_inff();
    for (ptrdiff_t r0 = 0; r0 < rows; r0 += CK_ATT_ROWS) {
        const ptrdiff_t n = rows - r0 < CK_ATT_ROWS ? rows - r0 : CK_ATT_ROWS;
        ck_f8 lanes[CK_ATT_ROWS];
        for (ptrdiff_t k = 0; k < CK_ATT_ROWS; k++) {
            float *row = scores + (r0 + k) * width;
            if (k >= n) lanes[k] = (ck_f8)0.0f;
            else if (rowMax[r0 + k] != -infinity) lanes[k] = ck_attention_exp_row(row, width, rowMax[r0 + k]);
            else {
                // Every key so far is hidden: the weights are 0, and the row keeps its empty state (maximum −∞,
                // correction 1, sum 0·1 + 0).
                memset(row, 0, (size_t)width * sizeof(float));
                lanes[k] = (ck_f8)0.0f;
            }
        }
        // The sums as vectors: lane by lane, the compiler takes each lane out of registers through memory.
        const ck_f8 sums = ck_f8_load_first(rowSum + r0, n) * ck_f8_load_first(correction + r0, n) + ck_att_lane_sums(lanes);
        ck_f8_store_first(rowSum + r0, sums, n);
    }
}

void CK_LEVEL(ck_attention_exp_rows_f32)(float *scores, ptrdiff_t rows, ptrdiff_t width, const float *shift) {
    CK_REQUIRE(CK_LEVEL_ISA, "ck_attention_exp_rows_f32");
    for (ptrdiff_t r = 0; r < rows; r++) {
        float *row = scores + r * width;
        if (shift[r] == -__builtin_inff()) {
            for (ptrdiff_t c = 0; c < width; c++) row[c] = 0;
        } else {
            (void)ck_attention_exp_row(row, width, shift[r]);
        }
    }
}

/// Runs `STEP(i, lanes)` over a row of `width` elements: whole CK_WIDE_LANES steps (`WIDE_STEP(i)`), then eight
/// lanes at a time, the last step partial.
#define CK_ATT_FOR_ROW(width, WIDE_STEP, STEP)                                                                  \
    do {                                                                                                        \
        ptrdiff_t i = 0;                                                                                        \
        for (; i + CK_WIDE_LANES <= (width); i += CK_WIDE_LANES) WIDE_STEP(i);                                  \
        for (; i < (width); i += 8) STEP(i, (width) - i < 8 ? (width) - i : 8);                                 \
    } while (0)

void CK_LEVEL(ck_attention_scale_rows_f32)(float *x, ptrdiff_t rows, ptrdiff_t width, const float *factor) {
    CK_REQUIRE(CK_LEVEL_ISA, "ck_attention_scale_rows_f32");
    for (ptrdiff_t r = 0; r < rows; r++) {
        float *row = x + r * width;
        const float f = factor[r];
#define CK_WIDE_SCALE(i)                                                                                        \
        {                                                                                                       \
            ck_wide_f v;                                                                                        \
            memcpy(&v, row + (i), sizeof v);                                                                    \
            v *= f;                                                                                             \
            memcpy(row + (i), &v, sizeof v);                                                                    \
        }
#define CK_SCALE(i, lanes) ck_f8_store_first(row + (i), ck_f8_load_first(row + (i), lanes) * f, lanes)
        CK_ATT_FOR_ROW(width, CK_WIDE_SCALE, CK_SCALE);
#undef CK_WIDE_SCALE
#undef CK_SCALE
    }
}

void CK_LEVEL(ck_attention_score_gradient_f32)(float *gradient, const float *weights, ptrdiff_t rows, ptrdiff_t width,
                                               const float *rowDot, const float *dropout, ptrdiff_t dropoutStride) {
    CK_REQUIRE(CK_LEVEL_ISA, "ck_attention_score_gradient_f32");
    for (ptrdiff_t r = 0; r < rows; r++) {
        float *dp = gradient + r * width;
        const float *p = weights + r * width, *m = dropout ? dropout + r * dropoutStride : NULL;
        const float d = rowDot[r];
#define CK_WIDE_GRADIENT(i)                                                                                     \
        {                                                                                                       \
            ck_wide_f g, w;                                                                                     \
            memcpy(&g, dp + (i), sizeof g);                                                                     \
            memcpy(&w, p + (i), sizeof w);                                                                      \
            if (m) {                                                                                            \
                ck_wide_f mask;                                                                                 \
                memcpy(&mask, m + (i), sizeof mask);                                                            \
                g *= mask;                                                                                      \
            }                                                                                                   \
            g = w * (g - d);                                                                                    \
            memcpy(dp + (i), &g, sizeof g);                                                                     \
        }
#define CK_GRADIENT(i, lanes)                                                                                   \
        {                                                                                                       \
            ck_f8 g = ck_f8_load_first(dp + (i), lanes);                                                        \
            if (m) g *= ck_f8_load_first(m + (i), lanes);                                                       \
            ck_f8_store_first(dp + (i), ck_f8_load_first(p + (i), lanes) * (g - d), lanes);                     \
        }
        CK_ATT_FOR_ROW(width, CK_WIDE_GRADIENT, CK_GRADIENT);
#undef CK_WIDE_GRADIENT
#undef CK_GRADIENT
    }
}

#pragma clang diagnostic pop
