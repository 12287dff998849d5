#ifndef CKERNELS_VECTOR_H
#define CKERNELS_VECTOR_H
// Eight-lane Float vectors in portable C (clang's vector extensions), for the kernels written once and built at
// the AVX2 level (one ymm register) and the generic one (two SSE2 or NEON registers): *_portable.h files.
// Loads and stores go through memcpy, so they carry no alignment assumption, and partial ones copy the lanes
// that exist through a small buffer (lanes past `count` read as zero and are never written).
#include <stddef.h>
#include <string.h>

typedef float ck_f8 __attribute__((ext_vector_type(8)));
typedef double ck_d4 __attribute__((ext_vector_type(4)));
typedef int ck_i8 __attribute__((ext_vector_type(8)));
/// Sixteen and thirty-two Float lanes: the halves and quarters of the wide vectors below, as kernels split them.
typedef float ck_f16 __attribute__((ext_vector_type(16)));
typedef float ck_f32 __attribute__((ext_vector_type(32)));

static inline __attribute__((always_inline)) ck_f8 ck_f8_load(const float *p) {
    ck_f8 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) void ck_f8_store(float *p, ck_f8 v) { memcpy(p, &v, sizeof v); }

static inline __attribute__((always_inline)) ck_f8 ck_f8_splat(float x) { return (ck_f8)x; }

/// The first `count` lanes from `p` (0 ≤ count ≤ 8), the rest zero.
static inline __attribute__((always_inline)) ck_f8 ck_f8_load_first(const float *p, ptrdiff_t count) {
    if (count >= 8) return ck_f8_load(p);
    float lanes[8] = {0};
    if (count > 0) memcpy(lanes, p, (size_t)count * sizeof(float));
    return ck_f8_load(lanes);
}

/// Stores the first `count` lanes of `v` at `p` (0 ≤ count ≤ 8).
static inline __attribute__((always_inline)) void ck_f8_store_first(float *p, ck_f8 v, ptrdiff_t count) {
    if (count >= 8) {
        ck_f8_store(p, v);
        return;
    }
    float lanes[8];
    ck_f8_store(lanes, v);
    if (count > 0) memcpy(p, lanes, (size_t)count * sizeof(float));
}

/// All bits set in lanes `0 ..< count` (0 ≤ count ≤ 8), zero in the others: the lanes a partial load filled.
static inline __attribute__((always_inline)) ck_i8 ck_f8_first_lanes(ptrdiff_t count) {
    const ck_i8 lane = {0, 1, 2, 3, 4, 5, 6, 7};
    return lane < (ck_i8)(int)count;
}

/// The larger of a and b in each lane of any vector type (b where either is NaN): one max instruction, where
/// __builtin_elementwise_max's NaN rule costs a compare and a blend more. Each argument is evaluated once.
#define ck_vector_max(a, b)                                                                                   \
    ({                                                                                                        \
        const __typeof__(a) ckMaxA = (a), ckMaxB = (b);                                                       \
        ckMaxA > ckMaxB ? ckMaxA : ckMaxB;                                                                    \
    })

/// The sum of the lanes, pairwise.
static inline __attribute__((always_inline)) float ck_f8_sum(ck_f8 v) {
    ck_f8 half = v + __builtin_shufflevector(v, v, 4, 5, 6, 7, 0, 1, 2, 3);
    ck_f8 quarter = half + __builtin_shufflevector(half, half, 2, 3, 0, 1, 0, 1, 0, 1);
    return quarter[0] + quarter[1];
}

/// Transposes the 8 × 8 block whose row r is `v[r]`: afterwards `v[c]` holds column c (lane r of it from row r).
static inline __attribute__((always_inline)) void ck_f8_transpose(ck_f8 v[8]) {
    // Pairs of rows interleaved, then pairs of pairs, then the 128-bit halves swapped between rows four apart.
    ck_f8 a[8], b[8];
    for (int r = 0; r < 8; r += 2) {
        a[r] = __builtin_shufflevector(v[r], v[r + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        a[r + 1] = __builtin_shufflevector(v[r], v[r + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int r = 0; r < 8; r += 4)
        for (int e = 0; e < 2; e++) {
            b[r + 2 * e] = __builtin_shufflevector(a[r + e], a[r + e + 2], 0, 1, 8, 9, 4, 5, 12, 13);
            b[r + 2 * e + 1] = __builtin_shufflevector(a[r + e], a[r + e + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        }
    // b[r + e] (r = 0, 4; e < 4): column e of rows r ..< r + 4 in its lower half, column e + 4 in its upper one.
    for (int e = 0; e < 4; e++) {
        v[e] = __builtin_shufflevector(b[e], b[e + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        v[e + 4] = __builtin_shufflevector(b[e], b[e + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

/// `eʳ·2ᵏ` apart from the scaling, for CK_DEFINE_EXP and CK_DEFINE_EXP_NONPOSITIVE: declares `k` (VI) and `p` (VF,
/// `eʳ`) from `clamped` (VF), with x = k·ln 2 + r by Cody–Waite and eʳ by its Taylor polynomial to degree 7.
#define CK_EXP_REDUCED(VF, VI, clamped)                                                                       \
    const VF ckMagic = (VF)12582912.0f;                                                                       \
    const VF ckT = (clamped) * (VF)0x1.715476p+0f + ckMagic, ckN = ckT - ckMagic;                            \
    const VI k = (VI)ckT - (VI)ckMagic;                                                                       \
    const VF ckR = ((clamped) - ckN * (VF)0x1.62e4p-1f) - ckN * (VF)0x1.7f7d1cp-20f;                          \
    VF ckQ = (VF)(1.0f / 5040);                                                                               \
    ckQ = ckQ * ckR + (VF)(1.0f / 720);                                                                       \
    ckQ = ckQ * ckR + (VF)(1.0f / 120);                                                                       \
    ckQ = ckQ * ckR + (VF)(1.0f / 24);                                                                        \
    ckQ = ckQ * ckR + (VF)(1.0f / 6);                                                                         \
    ckQ = ckQ * ckR + (VF)0.5f;                                                                               \
    const VF p = (VF)1.0f + (ckR + ckR * ckR * ckQ);

/// Defines `static VF NAME(VF x)`, `eˣ` in every lane of the Float vector type VF (VI: the int vector of as many
/// lanes), the algorithm of Swift's `vectorizableExp` (VectorMath.swift) for Float: x clamped to [−110, 89] (NaN
/// passes), x = k·ln 2 + r by Cody–Waite, eʳ by its Taylor polynomial to degree 7, and 2ᵏ applied as two factors
/// built from bits, so subnormal results round once and −∞ gives 0. Within 1 ulp at every level (levels may differ
/// in the last bit where FMA contracts the polynomial). A macro so a kernel can take it at its own width.
#define CK_DEFINE_EXP(NAME, VF, VI)                                                                          \
    static inline __attribute__((always_inline)) VF NAME(VF x) {                                             \
        const VI below = x < (VF)-110.0f, above = x > (VF)89.0f;                                             \
        VI bits = ((VI)x & ~(below | above)) | ((VI)(VF)-110.0f & below) | ((VI)(VF)89.0f & above);          \
        CK_EXP_REDUCED(VF, VI, (VF)bits)                                                                      \
        const VI k1 = k >> 1, k2 = k - k1;                                                                    \
        return p * (VF)((k1 + 127) << 23) * (VF)((k2 + 127) << 23);                                           \
    }

/// Defines `static VF NAME(VF x)`, `eˣ` for x ≤ 0 (softmax weights, whose scores are shifted by at least their
/// maximum; `e^−|x|`; a normal tail): CK_DEFINE_EXP's polynomial, but results below Float's normal range
/// (x < −87.3365) are 0 and 2ᵏ is one factor built from bits, which saves the upper clamp and half the scaling.
/// There is no upper clamp: x may be a little above 0, never near 88.7. NaN passes; −∞ gives 0. Equal to
/// CK_DEFINE_EXP's result for every x ≥ −87.3365 up to there.
#define CK_DEFINE_EXP_NONPOSITIVE(NAME, VF, VI)                                                              \
    static inline __attribute__((always_inline)) VF NAME(VF x) {                                             \
        const VI below = x < (VF)-87.336548f;                                                                     \
        CK_EXP_REDUCED(VF, VI, (VF)(((VI)x & ~below) | ((VI)(VF)-87.336548f & below)))                            \
        return (VF)((VI)(p * (VF)((k + 127) << 23)) & ~below);                                                \
    }

/// `eˣ` for eight lanes (``CK_DEFINE_EXP``).
CK_DEFINE_EXP(ck_f8_exp, ck_f8, ck_i8)

/// `eˣ` for x ≤ 0, eight lanes (``CK_DEFINE_EXP_NONPOSITIVE``).
CK_DEFINE_EXP_NONPOSITIVE(ck_f8_exp_nonpositive, ck_f8, ck_i8)

// The lanes per step of the kernels whose elements are long dependent chains (GELU, the LSTM gates, attention's
// exponentials): thirty-two (four ymm registers at AVX2, eight SSE2 or NEON ones), sixty-four where the file that
// builds the AVX-512 level defines CK_WIDE_LANES so before including (four zmm). Several registers' worth of lanes
// per step keep more independent work in flight than one (measured in Docs/Performance.md).
#ifndef CK_WIDE_LANES
#define CK_WIDE_LANES 32
#endif
typedef float ck_wide_f __attribute__((ext_vector_type(CK_WIDE_LANES)));
typedef int ck_wide_i __attribute__((ext_vector_type(CK_WIDE_LANES)));

/// `eˣ` for CK_WIDE_LANES lanes (``CK_DEFINE_EXP``).
CK_DEFINE_EXP(ck_wide_exp, ck_wide_f, ck_wide_i)

#if defined(CK_WIDE_EXP_SCALEF)
// The AVX-512 builds (CK_WIDE_LANES 64) define CK_WIDE_EXP_SCALEF: their ck_wide_exp_nonpositive scales by 2ⁿ with
// vscalefps, one instruction for the integer add, shift and multiply of the portable form, and it rounds results
// below Float's normal range once, so the clamp is a single max and no mask is needed.
#if CK_WIDE_LANES != 64
#error "CK_WIDE_EXP_SCALEF needs CK_WIDE_LANES 64"
#endif
typedef float ck_zmm_f __attribute__((vector_size(64)));

/// p·2ⁿ in each lane of sixteen (n integral), rounded once.
static inline __attribute__((always_inline)) ck_f16 ck_f16_scalef(ck_f16 p, ck_f16 n) {
    return (ck_f16)__builtin_ia32_scalefps512_mask((ck_zmm_f)p, (ck_zmm_f)n, (ck_zmm_f)p, (unsigned short)0xFFFF, 4);
}

/// `eˣ` for x ≤ 0, sixty-four lanes: CK_DEFINE_EXP_NONPOSITIVE's contract, except that results below Float's normal
/// range are the subnormals (within one subnormal step of libm's) rather than 0. x is clamped below at −110, where
/// the result rounds to 0, so −∞ gives 0; NaN passes.
static inline __attribute__((always_inline)) ck_wide_f ck_wide_exp_nonpositive(ck_wide_f x) {
    const ck_wide_f clamped = ck_vector_max((ck_wide_f)-110.0f, x);
    CK_EXP_REDUCED(ck_wide_f, ck_wide_i, clamped)
    (void)k;
#define CK_SLICE16(v, i) __builtin_shufflevector(v, v, 16 * i, 16 * i + 1, 16 * i + 2, 16 * i + 3, 16 * i + 4, 16 * i + 5, \
    16 * i + 6, 16 * i + 7, 16 * i + 8, 16 * i + 9, 16 * i + 10, 16 * i + 11, 16 * i + 12, 16 * i + 13, 16 * i + 14, 16 * i + 15)
    const ck_f16 e0 = ck_f16_scalef(CK_SLICE16(p, 0), CK_SLICE16(ckN, 0)), e1 = ck_f16_scalef(CK_SLICE16(p, 1), CK_SLICE16(ckN, 1));
    const ck_f16 e2 = ck_f16_scalef(CK_SLICE16(p, 2), CK_SLICE16(ckN, 2)), e3 = ck_f16_scalef(CK_SLICE16(p, 3), CK_SLICE16(ckN, 3));
#undef CK_SLICE16
    const ck_f32 low = __builtin_shufflevector(e0, e1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
                                               20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31);
    const ck_f32 high = __builtin_shufflevector(e2, e3, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
                                                20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31);
    return __builtin_shufflevector(low, high, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                   22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44,
                                   45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63);
}
#else
/// `eˣ` for x ≤ 0, CK_WIDE_LANES lanes (``CK_DEFINE_EXP_NONPOSITIVE``).
CK_DEFINE_EXP_NONPOSITIVE(ck_wide_exp_nonpositive, ck_wide_f, ck_wide_i)
#endif

#endif
