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

#if !defined(CK_LEVEL) || !defined(CK_LEVEL_ISA)
#error "attention_portable.h is built by attention.c, portable_avx2.c and portable_generic.c, which define CK_LEVEL and CK_LEVEL_ISA"
#endif

// A row's whole steps run CK_WIDE_LANES lanes (vector.h): the exponential is a long dependent chain per element.
// The rest of a row goes eight at a time.

/// The lanes folded to eight by their sums.
static inline __attribute__((always_inline)) ck_f8 ck_att_sum8(ck_wide_f v) {
    float lanes[CK_WIDE_LANES];
    memcpy(lanes, &v, sizeof v);
    ck_f8 sum = ck_f8_load(lanes);
    for (int k = 8; k < CK_WIDE_LANES; k += 8) sum += ck_f8_load(lanes + k);
    return sum;
}

/// The lanes folded to eight by their maxima.
static inline __attribute__((always_inline)) ck_f8 ck_att_max8(ck_wide_f v) {
    float lanes[CK_WIDE_LANES];
    memcpy(lanes, &v, sizeof v);
    ck_f8 folded = ck_f8_load(lanes);
    for (int k = 8; k < CK_WIDE_LANES; k += 8) folded = __builtin_elementwise_max(folded, ck_f8_load(lanes + k));
    return folded;
}

/// The rows a softmax step takes together: a row's maximum, its exponentials' sum and its correction end in
/// horizontal reductions and an exponential, a chain of latencies longer than a short row's own work. Eight rows'
/// lanes are transposed and reduced in one go (lane k row k), and their corrections take one vector exponential.
enum { CK_ATT_ROWS = 8 };

/// Lane k: the maximum of the lanes of `v[k]` (`v` is overwritten).
static inline __attribute__((always_inline)) ck_f8 ck_att_lane_maxima(ck_f8 v[CK_ATT_ROWS]) {
    ck_f8_transpose(v);
    return __builtin_elementwise_max(__builtin_elementwise_max(__builtin_elementwise_max(v[0], v[1]), __builtin_elementwise_max(v[2], v[3])),
                                     __builtin_elementwise_max(__builtin_elementwise_max(v[4], v[5]), __builtin_elementwise_max(v[6], v[7])));
}

/// Lane k: the sum of the lanes of `v[k]` (`v` is overwritten).
static inline __attribute__((always_inline)) ck_f8 ck_att_lane_sums(ck_f8 v[CK_ATT_ROWS]) {
    ck_f8_transpose(v);
    return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
}

/// The maximum of a row of `width` scores, as eight lanes to be folded (lanes past the row are −∞).
static inline __attribute__((always_inline)) ck_f8 ck_att_row_max_lanes(const float *row, ptrdiff_t width) {
    ck_wide_f wide = (ck_wide_f)(-__builtin_inff());
    ptrdiff_t i = 0;
    for (; i + CK_WIDE_LANES <= width; i += CK_WIDE_LANES) {
        ck_wide_f v;
        memcpy(&v, row + i, sizeof v);
        wide = __builtin_elementwise_max(wide, v);
    }
    ck_f8 lanes = ck_att_max8(wide);
    for (; i + 8 <= width; i += 8) lanes = __builtin_elementwise_max(lanes, ck_f8_load(row + i));
    if (i < width) {
        const ck_i8 present = ck_f8_first_lanes(width - i);
        const ck_f8 v = ck_f8_load_first(row + i, width - i);
        lanes = __builtin_elementwise_max(lanes, (ck_f8)(((ck_i8)v & present) | ((ck_i8)(ck_f8)(-__builtin_inff()) & ~present)));
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
    const float infinity = __builtin_inff();
    for (ptrdiff_t r0 = 0; r0 < rows; r0 += CK_ATT_ROWS) {
        const ptrdiff_t n = rows - r0 < CK_ATT_ROWS ? rows - r0 : CK_ATT_ROWS;
        // The places past the last row repeat it; only the first n rows are written.
        float *row[CK_ATT_ROWS];
        ck_f8 lanes[CK_ATT_ROWS];
        for (ptrdiff_t k = 0; k < CK_ATT_ROWS; k++) {
            row[k] = scores + (r0 + (k < n ? k : n - 1)) * width;
            lanes[k] = ck_att_row_max_lanes(row[k], width);
        }
        const ck_f8 previous = ck_f8_load_first(rowMax + r0, n), blockMax = ck_att_lane_maxima(lanes);
        const ck_f8 m = __builtin_elementwise_max(previous, blockMax);
        // exp(previous − m), exactly 1 where the maximum did not grow (−∞ − −∞ would be NaN).
        const ck_i8 unchanged = previous == m;
        const ck_f8 c = (ck_f8)(((ck_i8)ck_f8_exp(previous - m) & ~unchanged) | ((ck_i8)(ck_f8)1.0f & unchanged));
        for (ptrdiff_t k = 0; k < CK_ATT_ROWS; k++) {
            if (k < n && m[k] != -infinity) lanes[k] = ck_attention_exp_row(row[k], width, m[k]);
            else lanes[k] = (ck_f8)0.0f;
        }
        const ck_f8 sums = ck_att_lane_sums(lanes);
        for (ptrdiff_t k = 0; k < n; k++) {
            if (m[k] == -infinity) {
                // Every key so far is hidden: weights 0, the running state stays empty.
                for (ptrdiff_t col = 0; col < width; col++) row[k][col] = 0;
                correction[r0 + k] = 1;
                continue;
            }
            rowSum[r0 + k] = rowSum[r0 + k] * c[k] + sums[k];
            rowMax[r0 + k] = m[k];
            correction[r0 + k] = c[k];
        }
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

#pragma clang diagnostic pop
