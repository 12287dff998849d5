// The 8-bit integer product (see ckernels.h) at every level. Each level is written here rather than as a portable
// source: the exact u8 × s8 product needs vpmaddwd on values widened to 16 bits (AVX2, AVX-512) or vpdpbusd (VNNI),
// which clang's vector extensions do not express, and vpmaddubsw, which they might reach, saturates its 16-bit
// pair sums (255·127 + 255·127 > 32767). The generic level is portable C whose pairs of widened products the
// compiler turns into pmaddwd (SSE2) or NEON's widening multiply-adds. Every level sums exactly in 32-bit integers,
// so every level gives the same result.
#include "levels.h"
#include "cpu.h"
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/// The exact dot product of unsigned and signed bytes `start..<k`: the generic level, and the tails the vector loops
/// leave. Widening to 16 bits before the multiply lets the compiler use pmaddwd (SSE2) or its NEON counterpart.
static inline int32_t ck_u8s8_dot_tail(const uint8_t *a, const int8_t *b, ptrdiff_t start, ptrdiff_t k) {
    int32_t sum = 0;
    for (ptrdiff_t p = start; p < k; p++) sum += (int32_t)(int16_t)a[p] * (int32_t)(int16_t)b[p];
    return sum;
}

/// Runs BLOCK(MR, NR) over the m × n output in blocks of at most 3 × 4, each edge block with constant sizes.
#define CK_U8S8_TILES(BLOCK)                                                                                 \
    for (ptrdiff_t i = 0; i < m; i += 3) {                                                                  \
        const uint8_t *ai = a + i * lda;                                                                     \
        int32_t *ci = c + i * ldc;                                                                           \
        ptrdiff_t j = 0;                                                                                     \
        if (m - i >= 3) {                                                                                    \
            for (; j + 4 <= n; j += 4) BLOCK(3, 4, k, ai, lda, b + j * ldb, ldb, ci + j, ldc);               \
            for (; j < n; j++) BLOCK(3, 1, k, ai, lda, b + j * ldb, ldb, ci + j, ldc);                       \
        } else if (m - i == 2) {                                                                             \
            for (; j + 4 <= n; j += 4) BLOCK(2, 4, k, ai, lda, b + j * ldb, ldb, ci + j, ldc);               \
            for (; j < n; j++) BLOCK(2, 1, k, ai, lda, b + j * ldb, ldb, ci + j, ldc);                       \
        } else {                                                                                             \
            for (; j + 4 <= n; j += 4) BLOCK(1, 4, k, ai, lda, b + j * ldb, ldb, ci + j, ldc);               \
            for (; j < n; j++) BLOCK(1, 1, k, ai, lda, b + j * ldb, ldb, ci + j, ldc);                       \
        }                                                                                                    \
    }

typedef uint8_t ck_u8s8_u8x8 __attribute__((ext_vector_type(8)));
typedef int8_t ck_u8s8_s8x8 __attribute__((ext_vector_type(8)));
typedef int16_t ck_u8s8_i16x8 __attribute__((ext_vector_type(8)));
typedef int32_t ck_u8s8_i32x4 __attribute__((ext_vector_type(4)));

/// The sums of adjacent pairs of exact products of `x` and `w`: the pattern compilers turn into pmaddwd (SSE2) or
/// NEON's widening multiply-adds.
static inline __attribute__((always_inline)) ck_u8s8_i32x4 ck_u8s8_pair_sums(ck_u8s8_i16x8 x, ck_u8s8_i16x8 w) {
    const ck_u8s8_i32x4 xe = __builtin_convertvector(__builtin_shufflevector(x, x, 0, 2, 4, 6), ck_u8s8_i32x4);
    const ck_u8s8_i32x4 xo = __builtin_convertvector(__builtin_shufflevector(x, x, 1, 3, 5, 7), ck_u8s8_i32x4);
    const ck_u8s8_i32x4 we = __builtin_convertvector(__builtin_shufflevector(w, w, 0, 2, 4, 6), ck_u8s8_i32x4);
    const ck_u8s8_i32x4 wo = __builtin_convertvector(__builtin_shufflevector(w, w, 1, 3, 5, 7), ck_u8s8_i32x4);
    return xe * we + xo * wo;
}

/// ck_u8s8_block_avx2 in portable C (clang's vector extensions, SSE2 or NEON), 8 bytes per step: both widened to 16
/// bits and multiplied by pairs into 32-bit lanes (ck_u8s8_pair_sums).
static inline __attribute__((always_inline)) void ck_u8s8_block_generic(int MR, int NR, ptrdiff_t k, const uint8_t *a,
                                                                        ptrdiff_t lda, const int8_t *b, ptrdiff_t ldb,
                                                                        int32_t *c, ptrdiff_t ldc) {
    ck_u8s8_i32x4 acc[3][4];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) acc[i][j] = (ck_u8s8_i32x4)0;
    ptrdiff_t p = 0;
    for (; p + 8 <= k; p += 8) {
        ck_u8s8_i16x8 x[3];
        for (int i = 0; i < MR; i++) {
            ck_u8s8_u8x8 bytes;
            memcpy(&bytes, a + i * lda + p, sizeof bytes);
            x[i] = __builtin_convertvector(bytes, ck_u8s8_i16x8);
        }
        for (int j = 0; j < NR; j++) {
            ck_u8s8_s8x8 bytes;
            memcpy(&bytes, b + j * ldb + p, sizeof bytes);
            const ck_u8s8_i16x8 w = __builtin_convertvector(bytes, ck_u8s8_i16x8);
            for (int i = 0; i < MR; i++) acc[i][j] += ck_u8s8_pair_sums(x[i], w);
        }
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) {
            const ck_u8s8_i32x4 v = acc[i][j];
            c[i * ldc + j] = (v[0] + v[1]) + (v[2] + v[3]) + ck_u8s8_dot_tail(a + i * lda, b + j * ldb, p, k);
        }
}

void ck_gemm_u8s8s32_generic(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint8_t *a, ptrdiff_t lda, const int8_t *b,
                             ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc) {
    CK_REQUIRE(CK_ISA_GENERIC, "ck_gemm_u8s8s32");
    CK_U8S8_TILES(ck_u8s8_block_generic)
}

void ck_gemm_u7s8s32_generic(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint8_t *a, ptrdiff_t lda, const int8_t *b,
                             ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc) {
    CK_REQUIRE(CK_ISA_GENERIC, "ck_gemm_u7s8s32");
    ck_gemm_u8s8s32_generic(m, n, k, a, lda, b, ldb, c, ldc);
}

#if defined(__x86_64__)

/// The sum of the eight 32-bit lanes.
__attribute__((target("avx2"), always_inline))
static inline int32_t ck_sum_lanes_avx2(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

/// Writes the sums of a block of `MR` rows of A by `NR` rows of B from the AVX2 lanes `acc` (each lane a partial sum
/// over depths `< p`), with depths `p ..< k` added one at a time.
__attribute__((target("avx2"), always_inline))
static inline void ck_u8s8_finish_avx2(int MR, int NR, __m256i acc[3][4], ptrdiff_t p, ptrdiff_t k, const uint8_t *a,
                                       ptrdiff_t lda, const int8_t *b, ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc) {
    for (int i = 0; i < MR; i++) {
        if (NR == 4) {
            // The four outputs of a row reduced together: two rounds of vphaddd leave each output's sum of four
            // lanes in both 128-bit halves, one add joins them (a separate reduction per output costs four times as
            // many instructions, which is most of the work when k is a single step, as in a 3×3 convolution).
            __m256i pairs = _mm256_hadd_epi32(_mm256_hadd_epi32(acc[i][0], acc[i][1]), _mm256_hadd_epi32(acc[i][2], acc[i][3]));
            __m128i sums = _mm_add_epi32(_mm256_castsi256_si128(pairs), _mm256_extracti128_si256(pairs, 1));
            int32_t lanes[4];
            _mm_storeu_si128((__m128i *)lanes, sums);
            for (int j = 0; j < 4; j++) c[i * ldc + j] = lanes[j] + ck_u8s8_dot_tail(a + i * lda, b + j * ldb, p, k);
        } else {
            for (int j = 0; j < NR; j++)
                c[i * ldc + j] = ck_sum_lanes_avx2(acc[i][j]) + ck_u8s8_dot_tail(a + i * lda, b + j * ldb, p, k);
        }
    }
}

/// A block of `MR` rows of A by `NR` rows of B (MR ≤ 3, NR ≤ 4 and `sevenBit` constants after inlining):
/// - any bytes of A: 16 bytes per step, both widened to 16 bits, then vpmaddwd adds pairs of exact products (at most
///   2·255·128) into 32-bit lanes;
/// - `sevenBit` (A below 128): 32 bytes per step and no widening: vpmaddubsw adds pairs of products into 16-bit lanes,
///   exactly, since two products of at most 127·128 sum to at most 32 512 < 2¹⁵, and vpmaddwd by ones adds pairs of
///   those into 32-bit lanes.
/// Each row of B is loaded and used at once, so the 12 sums, 3 rows of A and one of B fill AVX2's 16 registers: the
/// widening shares its ports with vpmaddwd, and a third row of A makes each row of B serve one more product.
__attribute__((target("avx2"), always_inline))
static inline void ck_u8s8_block_avx2(int sevenBit, int MR, int NR, ptrdiff_t k, const uint8_t *a, ptrdiff_t lda,
                                      const int8_t *b, ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc) {
    const __m256i ones = _mm256_set1_epi16(1);
    const ptrdiff_t step = sevenBit ? 32 : 16;
    __m256i acc[3][4];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) acc[i][j] = _mm256_setzero_si256();
    ptrdiff_t p = 0;
    for (; p + step <= k; p += step) {
        __m256i x[3];
        for (int i = 0; i < MR; i++)
            x[i] = sevenBit ? _mm256_loadu_si256((const __m256i *)(a + i * lda + p))
                            : _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(a + i * lda + p)));
        for (int j = 0; j < NR; j++) {
            const __m256i w = sevenBit ? _mm256_loadu_si256((const __m256i *)(b + j * ldb + p))
                                       : _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + j * ldb + p)));
            for (int i = 0; i < MR; i++) {
                const __m256i pairs = sevenBit ? _mm256_madd_epi16(_mm256_maddubs_epi16(x[i], w), ones)
                                               : _mm256_madd_epi16(x[i], w);
                acc[i][j] = _mm256_add_epi32(acc[i][j], pairs);
            }
        }
    }
    ck_u8s8_finish_avx2(MR, NR, acc, p, k, a, lda, b, ldb, c, ldc);
}

/// ck_u8s8_block_avx2 for any bytes of A, and for A below 128, as CK_U8S8_TILES's blocks.
#define CK_U8S8_BLOCK_AVX2(...) ck_u8s8_block_avx2(0, __VA_ARGS__)
#define CK_U7S8_BLOCK_AVX2(...) ck_u8s8_block_avx2(1, __VA_ARGS__)

/// Packs the weights of outputs `j0 ..< j0 + width` (width ≤ block) for a shallow product (k ≤ CK_U8S8_SHALLOW_DEPTH):
/// step `s` of output `j` is the 32-bit lane `packed[s·block + j]`, holding depths `G·s ..< G·s + G` as 16-bit
/// values (G = 2, for vpmaddwd) or as bytes (G = 4, for vpdpbusd); zero past the depth and past the outputs, so the
/// lanes there add nothing.
static inline void ck_u8s8_pack_shallow(int G, ptrdiff_t k, const int8_t *b, ptrdiff_t ldb, ptrdiff_t j0,
                                        ptrdiff_t width, ptrdiff_t block, uint32_t *packed) {
    const ptrdiff_t steps = (k + G - 1) / G;
    for (ptrdiff_t s = 0; s < steps; s++)
        for (ptrdiff_t j = 0; j < block; j++) {
            uint32_t lane = 0;
            for (int e = 0; e < G; e++) {
                const ptrdiff_t p = G * s + e;
                const uint32_t w = j < width && p < k ? (uint32_t)(int32_t)b[(j0 + j) * ldb + p] : 0;
                lane |= G == 2 ? (w & 0xFFFF) << 16 * e : (w & 0xFF) << 8 * e;
            }
            packed[s * block + j] = lane;
        }
}

/// A shallow product (k ≤ CK_U8S8_SHALLOW_DEPTH) by outer products: the weights of 32 outputs are packed depth-major
/// as 16-bit pairs, each row's pair of bytes at depth (2q, 2q + 1) is broadcast, and vpmaddwd adds both exact
/// products into each output's 32-bit lane. A dot-product kernel would end every output with a horizontal sum,
/// which is most of the work when the depth is one vector step (a 3×3 convolution of one channel: k = 9).
__attribute__((target("avx2")))
static void ck_u8s8_shallow_avx2(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint8_t *a, ptrdiff_t lda, const int8_t *b,
                                 ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc) {
    enum { BLOCK = 32 };
    const ptrdiff_t pairs = (k + 1) / 2;
    for (ptrdiff_t j0 = 0; j0 < n; j0 += BLOCK) {
        const ptrdiff_t width = n - j0 < BLOCK ? n - j0 : BLOCK;
        uint32_t packed[CK_U8S8_SHALLOW_DEPTH / 2 * BLOCK] __attribute__((aligned(32)));
        ck_u8s8_pack_shallow(2, k, b, ldb, j0, width, BLOCK, packed);
        for (ptrdiff_t i = 0; i < m; i++) {
            const uint8_t *x = a + i * lda;
            __m256i acc[BLOCK / 8];
            for (int v = 0; v < BLOCK / 8; v++) acc[v] = _mm256_setzero_si256();
            for (ptrdiff_t q = 0; q < pairs; q++) {
                const uint32_t second = 2 * q + 1 < k ? x[2 * q + 1] : 0;
                const __m256i pair = _mm256_set1_epi32((int32_t)((uint32_t)x[2 * q] | second << 16));
                for (int v = 0; v < BLOCK / 8; v++)
                    acc[v] = _mm256_add_epi32(acc[v], _mm256_madd_epi16(pair, _mm256_load_si256((const __m256i *)(packed + q * BLOCK + 8 * v))));
            }
            int32_t *out = c + i * ldc + j0;
            if (width == BLOCK) {
                for (int v = 0; v < BLOCK / 8; v++) _mm256_storeu_si256((__m256i *)(out + 8 * v), acc[v]);
            } else {
                int32_t lanes[BLOCK] __attribute__((aligned(32)));
                for (int v = 0; v < BLOCK / 8; v++) _mm256_store_si256((__m256i *)(lanes + 8 * v), acc[v]);
                for (ptrdiff_t j = 0; j < width; j++) out[j] = lanes[j];
            }
        }
    }
}

__attribute__((target("avx2")))
void ck_gemm_u8s8s32_avx2(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint8_t *a, ptrdiff_t lda, const int8_t *b,
                          ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc) {
    CK_REQUIRE(CK_ISA_AVX2, "ck_gemm_u8s8s32");
    if (k <= CK_U8S8_SHALLOW_DEPTH) {
        ck_u8s8_shallow_avx2(m, n, k, a, lda, b, ldb, c, ldc);
        return;
    }
    CK_U8S8_TILES(CK_U8S8_BLOCK_AVX2)
}

__attribute__((target("avx2")))
void ck_gemm_u7s8s32_avx2(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint8_t *a, ptrdiff_t lda, const int8_t *b,
                          ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc) {
    CK_REQUIRE(CK_ISA_AVX2, "ck_gemm_u7s8s32");
    if (k <= CK_U8S8_SHALLOW_DEPTH) {
        ck_u8s8_shallow_avx2(m, n, k, a, lda, b, ldb, c, ldc);
        return;
    }
    CK_U8S8_TILES(CK_U7S8_BLOCK_AVX2)
}

/// ck_u8s8_finish_avx2 for 512-bit lanes.
__attribute__((target("avx512f,avx512bw"), always_inline))
static inline void ck_u8s8_finish_avx512(int MR, int NR, __m512i acc[3][4], ptrdiff_t p, ptrdiff_t k, const uint8_t *a,
                                         ptrdiff_t lda, const int8_t *b, ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc) {
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++)
            c[i * ldc + j] = _mm512_reduce_add_epi32(acc[i][j]) + ck_u8s8_dot_tail(a + i * lda, b + j * ldb, p, k);
}

/// ck_u8s8_block_avx2 in 512-bit registers (vpmaddwd and vpmaddubsw need AVX-512 BW): 32 bytes per step, or 64 with
/// `sevenBit`.
__attribute__((target("avx512f,avx512bw"), always_inline))
static inline void ck_u8s8_block_avx512(int sevenBit, int MR, int NR, ptrdiff_t k, const uint8_t *a, ptrdiff_t lda,
                                        const int8_t *b, ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc) {
    const __m512i ones = _mm512_set1_epi16(1);
    const ptrdiff_t step = sevenBit ? 64 : 32;
    __m512i acc[3][4];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) acc[i][j] = _mm512_setzero_si512();
    ptrdiff_t p = 0;
    for (; p + step <= k; p += step) {
        __m512i x[3];
        for (int i = 0; i < MR; i++)
            x[i] = sevenBit ? _mm512_loadu_si512((const void *)(a + i * lda + p))
                            : _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(a + i * lda + p)));
        for (int j = 0; j < NR; j++) {
            const __m512i w = sevenBit ? _mm512_loadu_si512((const void *)(b + j * ldb + p))
                                       : _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(b + j * ldb + p)));
            for (int i = 0; i < MR; i++) {
                const __m512i pairs = sevenBit ? _mm512_madd_epi16(_mm512_maddubs_epi16(x[i], w), ones)
                                               : _mm512_madd_epi16(x[i], w);
                acc[i][j] = _mm512_add_epi32(acc[i][j], pairs);
            }
        }
    }
    ck_u8s8_finish_avx512(MR, NR, acc, p, k, a, lda, b, ldb, c, ldc);
}

/// ck_u8s8_block_avx512 for any bytes of A, and for A below 128, as CK_U8S8_TILES's blocks.
#define CK_U8S8_BLOCK_AVX512(...) ck_u8s8_block_avx512(0, __VA_ARGS__)
#define CK_U7S8_BLOCK_AVX512(...) ck_u8s8_block_avx512(1, __VA_ARGS__)

/// vpdpbusd: four exact u8 × s8 products added into each 32-bit lane (VNNI). Not inlined into code without VNNI;
/// ck_u8s8_shallow_avx512 calls it only where the caller has VNNI, and there it inlines.
__attribute__((target("avx512f,avx512bw,avx512vnni")))
static inline __m512i ck_u8s8_dpbusd(__m512i acc, __m512i x, __m512i w) { return _mm512_dpbusd_epi32(acc, x, w); }

/// The rows of one block of the shallow product at AVX-512 in V registers of 16 outputs (V ≤ 4 and `vnni` constants
/// after inlining; `width` > 16·(V − 1) outputs stored): each row's k ≤ 16 bytes are loaded once, masked, and step
/// `s`'s 32-bit lane of them (ck_u8s8_pack_shallow's layout) is broadcast by vpermd.
__attribute__((target("avx512f,avx512bw,avx512vl"), always_inline))
static inline void ck_u8s8_shallow_rows_avx512(int V, int vnni, ptrdiff_t m, ptrdiff_t k, const uint8_t *a,
                                               ptrdiff_t lda, const uint32_t *packed, ptrdiff_t width, int32_t *c,
                                               ptrdiff_t ldc) {
    enum { BLOCK = 64 };
    const int G = vnni ? 4 : 2;
    const ptrdiff_t steps = (k + G - 1) / G;
    const __mmask16 bytes = (__mmask16)((1u << k) - 1), last = (__mmask16)((1u << (width - 16 * (V - 1))) - 1);
    for (ptrdiff_t i = 0; i < m; i++) {
        const __m128i row = _mm_maskz_loadu_epi8(bytes, a + i * lda);
        // As bytes for vpdpbusd; widened to 16 bits for vpmaddwd (with both, bytes past k are zero).
        const __m512i x = vnni ? _mm512_castsi128_si512(row) : _mm512_castsi256_si512(_mm256_cvtepu8_epi16(row));
        __m512i acc[4];
        for (int v = 0; v < V; v++) acc[v] = _mm512_setzero_si512();
        for (ptrdiff_t s = 0; s < steps; s++) {
            const __m512i lane = _mm512_permutexvar_epi32(_mm512_set1_epi32((int)s), x);
            for (int v = 0; v < V; v++) {
                const __m512i w = _mm512_load_si512(packed + s * BLOCK + 16 * v);
                acc[v] = vnni ? ck_u8s8_dpbusd(acc[v], lane, w) : _mm512_add_epi32(acc[v], _mm512_madd_epi16(lane, w));
            }
        }
        int32_t *out = c + i * ldc;
        for (int v = 0; v < V - 1; v++) _mm512_storeu_si512(out + 16 * v, acc[v]);
        _mm512_mask_storeu_epi32(out + 16 * (V - 1), last, acc[V - 1]);
    }
}

/// ck_u8s8_shallow_avx2 in 512-bit registers, 64 outputs per block (the last in as few registers as it needs), with
/// vpdpbusd on groups of four depths where `vnni` (the caller has VNNI), else vpmaddwd on pairs widened to 16 bits.
__attribute__((target("avx512f,avx512bw,avx512vl"), always_inline))
static inline void ck_u8s8_shallow_avx512(int vnni, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint8_t *a,
                                          ptrdiff_t lda, const int8_t *b, ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc) {
    enum { BLOCK = 64 };
    for (ptrdiff_t j0 = 0; j0 < n; j0 += BLOCK) {
        const ptrdiff_t width = n - j0 < BLOCK ? n - j0 : BLOCK;
        uint32_t packed[CK_U8S8_SHALLOW_DEPTH / 2 * BLOCK] __attribute__((aligned(64)));
        ck_u8s8_pack_shallow(vnni ? 4 : 2, k, b, ldb, j0, width, BLOCK, packed);
        switch ((width + 15) / 16) {
        case 1: ck_u8s8_shallow_rows_avx512(1, vnni, m, k, a, lda, packed, width, c + j0, ldc); break;
        case 2: ck_u8s8_shallow_rows_avx512(2, vnni, m, k, a, lda, packed, width, c + j0, ldc); break;
        case 3: ck_u8s8_shallow_rows_avx512(3, vnni, m, k, a, lda, packed, width, c + j0, ldc); break;
        default: ck_u8s8_shallow_rows_avx512(4, vnni, m, k, a, lda, packed, width, c + j0, ldc); break;
        }
    }
}

__attribute__((target("avx512f,avx512bw,avx512vl")))
void ck_gemm_u8s8s32_avx512(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint8_t *a, ptrdiff_t lda, const int8_t *b,
                            ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc) {
    CK_REQUIRE(CK_ISA_AVX512, "ck_gemm_u8s8s32");
    if (k <= CK_U8S8_SHALLOW_DEPTH) {
        ck_u8s8_shallow_avx512(0, m, n, k, a, lda, b, ldb, c, ldc);
        return;
    }
    CK_U8S8_TILES(CK_U8S8_BLOCK_AVX512)
}

__attribute__((target("avx512f,avx512bw,avx512vl")))
void ck_gemm_u7s8s32_avx512(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint8_t *a, ptrdiff_t lda, const int8_t *b,
                            ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc) {
    CK_REQUIRE(CK_ISA_AVX512, "ck_gemm_u7s8s32");
    if (k <= CK_U8S8_SHALLOW_DEPTH) {
        ck_u8s8_shallow_avx512(0, m, n, k, a, lda, b, ldb, c, ldc);
        return;
    }
    CK_U8S8_TILES(CK_U7S8_BLOCK_AVX512)
}

/// ck_u8s8_block_avx512 with VNNI: vpdpbusd adds four exact u8 × s8 products into each 32-bit lane with no
/// intermediate 16-bit sum, so nothing saturates and no widening is needed: 64 bytes per step.
__attribute__((target("avx512f,avx512bw,avx512vnni"), always_inline))
static inline void ck_u8s8_block_vnni(int MR, int NR, ptrdiff_t k, const uint8_t *a, ptrdiff_t lda, const int8_t *b,
                                      ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc) {
    __m512i acc[3][4];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) acc[i][j] = _mm512_setzero_si512();
    ptrdiff_t p = 0;
    for (; p + 64 <= k; p += 64) {
        __m512i x[3], w[4];
        for (int i = 0; i < MR; i++) x[i] = _mm512_loadu_si512((const void *)(a + i * lda + p));
        for (int j = 0; j < NR; j++) w[j] = _mm512_loadu_si512((const void *)(b + j * ldb + p));
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], x[i], w[j]);
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++)
            c[i * ldc + j] = _mm512_reduce_add_epi32(acc[i][j]) + ck_u8s8_dot_tail(a + i * lda, b + j * ldb, p, k);
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
void ck_gemm_u8s8s32_avx512vnni(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint8_t *a, ptrdiff_t lda,
                                const int8_t *b, ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc) {
    CK_REQUIRE(CK_ISA_AVX512, "ck_gemm_u8s8s32");
    if (k <= CK_U8S8_SHALLOW_DEPTH) {
        ck_u8s8_shallow_avx512(1, m, n, k, a, lda, b, ldb, c, ldc);
        return;
    }
    CK_U8S8_TILES(ck_u8s8_block_vnni)
}

#endif
