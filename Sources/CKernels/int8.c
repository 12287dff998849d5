// The 8-bit integer product (see ckernels.h) at every level. Each level is written here rather than as a portable
// source: the exact u8 × s8 product needs vpmaddwd on values widened to 16 bits (AVX2, AVX-512) or vpdpbusd (VNNI),
// which clang's vector extensions do not express, and vpmaddubsw, which they might reach, saturates its 16-bit
// pair sums (255·127 + 255·127 > 32767). Every level sums exactly in 32-bit integers, so every level gives the
// same result.
#include "levels.h"
#include "cpu.h"
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

void ck_gemm_u8s8s32_generic(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint8_t *a, ptrdiff_t lda, const int8_t *b,
                             ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc) {
    CK_REQUIRE(CK_ISA_GENERIC, "ck_gemm_u8s8s32");
    for (ptrdiff_t i = 0; i < m; i++)
        for (ptrdiff_t j = 0; j < n; j++) c[i * ldc + j] = ck_u8s8_dot_tail(a + i * lda, b + j * ldb, 0, k);
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

/// A block of `MR` rows of A by `NR` rows of B (MR ≤ 2, NR ≤ 4, constants after inlining), 16 bytes per step:
/// both widened to 16 bits, then vpmaddwd adds pairs of exact products (at most 2·255·128) into 32-bit lanes.
__attribute__((target("avx2"), always_inline))
static inline void ck_u8s8_block_avx2(int MR, int NR, ptrdiff_t k, const uint8_t *a, ptrdiff_t lda, const int8_t *b,
                                      ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc) {
    __m256i acc[2][4];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) acc[i][j] = _mm256_setzero_si256();
    ptrdiff_t p = 0;
    for (; p + 16 <= k; p += 16) {
        __m256i x[2], w[4];
        for (int i = 0; i < MR; i++) x[i] = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(a + i * lda + p)));
        for (int j = 0; j < NR; j++) w[j] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + j * ldb + p)));
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++) acc[i][j] = _mm256_add_epi32(acc[i][j], _mm256_madd_epi16(x[i], w[j]));
    }
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

/// Runs BLOCK(MR, NR) over the m × n output in blocks of at most 2 × 4, each edge block with constant sizes.
#define CK_U8S8_TILES(BLOCK)                                                                                 \
    for (ptrdiff_t i = 0; i < m; i += 2) {                                                                  \
        const uint8_t *ai = a + i * lda;                                                                     \
        int32_t *ci = c + i * ldc;                                                                           \
        ptrdiff_t j = 0;                                                                                     \
        if (m - i >= 2) {                                                                                    \
            for (; j + 4 <= n; j += 4) BLOCK(2, 4, k, ai, lda, b + j * ldb, ldb, ci + j, ldc);               \
            for (; j < n; j++) BLOCK(2, 1, k, ai, lda, b + j * ldb, ldb, ci + j, ldc);                       \
        } else {                                                                                             \
            for (; j + 4 <= n; j += 4) BLOCK(1, 4, k, ai, lda, b + j * ldb, ldb, ci + j, ldc);               \
            for (; j < n; j++) BLOCK(1, 1, k, ai, lda, b + j * ldb, ldb, ci + j, ldc);                       \
        }                                                                                                    \
    }

/// The depth up to which the AVX2 level multiplies by outer products (ck_u8s8_shallow_avx2) instead of dot products.
#define CK_U8S8_SHALLOW_DEPTH 16

/// A shallow product (k ≤ CK_U8S8_SHALLOW_DEPTH) by outer products: the weights of 32 outputs are packed depth-major
/// as 16-bit pairs, each row's pair of bytes at depth (2q, 2q + 1) is broadcast, and vpmaddwd adds both exact
/// products into each output's 32-bit lane. A dot-product kernel would end every output with a horizontal sum,
/// which is most of the work when the depth is one vector step (a 3×3 convolution of one channel: k = 9).
__attribute__((target("avx2")))
static void ck_u8s8_shallow_avx2(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint8_t *a, ptrdiff_t lda, const int8_t *b,
                                 ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc) {
    enum { BLOCK = 32, PAIRS = CK_U8S8_SHALLOW_DEPTH / 2 };
    const ptrdiff_t pairs = (k + 1) / 2;
    for (ptrdiff_t j0 = 0; j0 < n; j0 += BLOCK) {
        const ptrdiff_t width = n - j0 < BLOCK ? n - j0 : BLOCK;
        // packed[q][j] = (b[j, 2q], b[j, 2q + 1]), zero past the depth and past the outputs.
        int16_t packed[PAIRS][BLOCK][2] __attribute__((aligned(32)));
        for (ptrdiff_t q = 0; q < pairs; q++)
            for (ptrdiff_t j = 0; j < BLOCK; j++) {
                const int8_t *row = b + (j0 + j) * ldb;
                packed[q][j][0] = j < width ? row[2 * q] : 0;
                packed[q][j][1] = j < width && 2 * q + 1 < k ? row[2 * q + 1] : 0;
            }
        for (ptrdiff_t i = 0; i < m; i++) {
            const uint8_t *x = a + i * lda;
            __m256i acc[BLOCK / 8];
            for (int v = 0; v < BLOCK / 8; v++) acc[v] = _mm256_setzero_si256();
            for (ptrdiff_t q = 0; q < pairs; q++) {
                const uint32_t second = 2 * q + 1 < k ? x[2 * q + 1] : 0;
                const __m256i pair = _mm256_set1_epi32((int32_t)((uint32_t)x[2 * q] | second << 16));
                for (int v = 0; v < BLOCK / 8; v++)
                    acc[v] = _mm256_add_epi32(acc[v], _mm256_madd_epi16(pair, _mm256_load_si256((const __m256i *)packed[q][8 * v])));
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
    CK_U8S8_TILES(ck_u8s8_block_avx2)
}

/// ck_u8s8_block_avx2 with 32 bytes per step in 512-bit registers (vpmaddwd needs AVX-512 BW).
__attribute__((target("avx512f,avx512bw"), always_inline))
static inline void ck_u8s8_block_avx512(int MR, int NR, ptrdiff_t k, const uint8_t *a, ptrdiff_t lda, const int8_t *b,
                                        ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc) {
    __m512i acc[2][4];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) acc[i][j] = _mm512_setzero_si512();
    ptrdiff_t p = 0;
    for (; p + 32 <= k; p += 32) {
        __m512i x[2], w[4];
        for (int i = 0; i < MR; i++) x[i] = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(a + i * lda + p)));
        for (int j = 0; j < NR; j++) w[j] = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(b + j * ldb + p)));
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++) acc[i][j] = _mm512_add_epi32(acc[i][j], _mm512_madd_epi16(x[i], w[j]));
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++)
            c[i * ldc + j] = _mm512_reduce_add_epi32(acc[i][j]) + ck_u8s8_dot_tail(a + i * lda, b + j * ldb, p, k);
}

__attribute__((target("avx512f,avx512bw")))
void ck_gemm_u8s8s32_avx512(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint8_t *a, ptrdiff_t lda, const int8_t *b,
                            ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc) {
    CK_REQUIRE(CK_ISA_AVX512, "ck_gemm_u8s8s32");
    CK_U8S8_TILES(ck_u8s8_block_avx512)
}

/// ck_u8s8_block_avx512 with VNNI: vpdpbusd adds four exact u8 × s8 products into each 32-bit lane with no
/// intermediate 16-bit sum, so nothing saturates and no widening is needed: 64 bytes per step.
__attribute__((target("avx512f,avx512bw,avx512vnni"), always_inline))
static inline void ck_u8s8_block_vnni(int MR, int NR, ptrdiff_t k, const uint8_t *a, ptrdiff_t lda, const int8_t *b,
                                      ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc) {
    __m512i acc[2][4];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) acc[i][j] = _mm512_setzero_si512();
    ptrdiff_t p = 0;
    for (; p + 64 <= k; p += 64) {
        __m512i x[2], w[4];
        for (int i = 0; i < MR; i++) x[i] = _mm512_loadu_si512((const void *)(a + i * lda + p));
        for (int j = 0; j < NR; j++) w[j] = _mm512_loadu_si512((const void *)(b + j * ldb + p));
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], x[i], w[j]);
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++)
            c[i * ldc + j] = _mm512_reduce_add_epi32(acc[i][j]) + ck_u8s8_dot_tail(a + i * lda, b + j * ldb, p, k);
}

__attribute__((target("avx512f,avx512bw,avx512vnni")))
void ck_gemm_u8s8s32_avx512vnni(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint8_t *a, ptrdiff_t lda,
                                const int8_t *b, ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc) {
    CK_REQUIRE(CK_ISA_AVX512, "ck_gemm_u8s8s32");
    CK_U8S8_TILES(ck_u8s8_block_vnni)
}

#endif
