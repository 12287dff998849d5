// Single-precision matrix product with AVX-512 (see ckernels.h; gemm_portable.h is the other levels' version).
//
// A micro-kernel keeps a 12 × 32 tile of C in 24 registers; per step of the inner dimension it loads one
// 32-wide row of B (two registers) and broadcasts twelve values of A: 24 fused multiply-adds against 14
// loads. Four ways feed it:
// - in place (products up to 2²⁷ multiply-adds with B untransposed): A and B are read where they are,
//   edges with masked loads and stores; packing a small product cost more than the product;
// - packed (the rest; Goto and van de Geijn's blocked scheme): op(B) is packed a block of KC rows by NC
//   columns at a time into panels NR = 32 columns wide (B transposed through 16 × 16 register
//   transposes), op(A) a block of MC rows by KC into panels MR = 12 rows tall, both padded with zeros to
//   whole panels; the B panel (KC·NR floats = 32 KiB) stays in L1 while the A panels stream from L2;
// - as dot products (A·Bᵀ with few outputs and a long inner dimension, a weight gradient's shape): a
//   different kernel, 24 accumulators vectorised along the inner dimension.
// - gathered (`ck_sgemm_gathered`): A's element (i, p) read at a row pointer plus a step offset, which is
//   how a padded or strided convolution's windows sit in its input (Convolution/GatheredWindows.swift);
//   in place otherwise, in slices of the inner dimension; long slices run a 6 × 64 tile instead, which
//   gathers half as often.
#include "levels.h"
#include "cpu.h"
#include "avx512.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stdlib.h>
#include <pthread.h>

enum { CK_MR = 12, CK_NR = 32, CK_KC = 256, CK_MC = 16 * CK_MR, CK_NC = 1024 };

/// Packing buffers (A block, then B block), one per thread, made at its first product and kept until
/// the thread ends: products run on the pool's threads over and over.
static pthread_key_t ck_packing_key;
static pthread_once_t ck_packing_once = PTHREAD_ONCE_INIT;

static void ck_make_packing_key(void) {
    if (pthread_key_create(&ck_packing_key, free) != 0) abort();
}

static float *ck_packing_buffer(void) {
    pthread_once(&ck_packing_once, ck_make_packing_key);
    float *buffer = pthread_getspecific(ck_packing_key);
    if (buffer == NULL) {
        buffer = aligned_alloc(64, (size_t)(CK_MC + CK_NC) * CK_KC * sizeof(float));
        if (buffer == NULL || pthread_setspecific(ck_packing_key, buffer) != 0) abort();
    }
    return buffer;
}

/// Packs rows `0..<rows` (≤ MR) and inner indices `0..<depth` of op(A) into one panel: `panel[p·MR + i]`
/// = op(A)[i, p], zero for i ≥ rows.
static void ck_pack_a(const float *a, ptrdiff_t lda, int transposed, ptrdiff_t rows, ptrdiff_t depth,
                      float *panel) {
    if (transposed) {
        // op(A)[i, p] = a[p·lda + i]: each step is a contiguous run of rows.
        for (ptrdiff_t p = 0; p < depth; p++) {
            const float *from = a + p * lda;
            float *to = panel + p * CK_MR;
            ptrdiff_t i = 0;
            for (; i < rows; i++) to[i] = from[i];
            for (; i < CK_MR; i++) to[i] = 0;
        }
    } else {
        // op(A)[i, p] = a[i·lda + p]: read each row once, scatter across the panel's steps.
        for (ptrdiff_t i = 0; i < CK_MR; i++) {
            if (i < rows) {
                const float *from = a + i * lda;
                for (ptrdiff_t p = 0; p < depth; p++) panel[p * CK_MR + i] = from[p];
            } else {
                for (ptrdiff_t p = 0; p < depth; p++) panel[p * CK_MR + i] = 0;
            }
        }
    }
}


/// Packs columns `0..<columns` (≤ NR) and inner indices `0..<depth` of op(B) into one panel:
/// `panel[p·NR + j]` = op(B)[p, j], zero for j ≥ columns.
__attribute__((target("avx512f")))
static void ck_pack_b(const float *b, ptrdiff_t ldb, int transposed, ptrdiff_t columns, ptrdiff_t depth,
                      float *panel) {
    if (!transposed) {
        // op(B)[p, j] = b[p·ldb + j]: each step is a contiguous (masked) row.
        __mmask16 low = ck_first_lanes(columns), high = ck_first_lanes(columns - 16);
        for (ptrdiff_t p = 0; p < depth; p++) {
            const float *from = b + p * ldb;
            _mm512_store_ps(panel + p * CK_NR, _mm512_maskz_loadu_ps(low, from));
            _mm512_store_ps(panel + p * CK_NR + 16, _mm512_maskz_loadu_ps(high, from + 16));
        }
    } else {
        // op(B)[p, j] = b[j·ldb + p]: 16 × 16 blocks of b (16 columns of op(B), 16 steps) transposed in
        // registers; element by element the strided stores cost several times the product itself.
        for (ptrdiff_t half = 0; half < CK_NR; half += 16) {
            for (ptrdiff_t p = 0; p < depth; p += 16) {
                const __mmask16 steps = ck_first_lanes(depth - p);
                __m512 block[16];
                for (ptrdiff_t j = 0; j < 16; j++)
                    block[j] = half + j < columns ? _mm512_maskz_loadu_ps(steps, b + (half + j) * ldb + p)
                                                  : _mm512_setzero_ps();
                ck_transpose_16x16(block);
                const ptrdiff_t count = depth - p < 16 ? depth - p : 16;
                for (ptrdiff_t q = 0; q < count; q++) _mm512_store_ps(panel + (p + q) * CK_NR + half, block[q]);
            }
        }
    }
}

#define CK_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

/// C tile (`storeRows` × the columns in `storeLow`/`storeHigh`, rows `ldc` apart) = α·(A·B) + β·C tile over
/// `depth` steps, for the first `computeRows` rows (a constant where inlined). A's row i at step p is
/// `a[i·aRow + p·aStep]`; B's step p is the two registers at `b + p·bStep`, or, when `indirect` (a constant
/// where inlined), at `bRows[p] + b` (b then an offset from NULL); lanes outside `loadLow`/`loadHigh` read
/// as zero. When `gathered` (a constant where inlined), A's row i at step p is `aRows[i][aOffsets[p]]` instead.
/// C's row i is at `c + i·ldc`, or at `cRows[i] + cColumn` when `cRows` is not NULL. β = 0 does not read C.
__attribute__((target("avx512f,fma"), always_inline))
static inline void ck_tile(const int computeRows, ptrdiff_t storeRows, ptrdiff_t depth, const float *a, ptrdiff_t aRow,
                           ptrdiff_t aStep, const int gathered, const float *const *aRows, const int32_t *aOffsets,
                           const int indirect, const float *const *bRows, ptrdiff_t bColumn,
                           const float *b, ptrdiff_t bStep, __mmask16 loadLow, __mmask16 loadHigh,
                           float *c, ptrdiff_t ldc, float *const *cRows, ptrdiff_t cColumn, __mmask16 storeLow,
                           __mmask16 storeHigh, float alpha, float beta) {
#define CK_DECLARE(i) __m512 low##i = _mm512_setzero_ps(), high##i = _mm512_setzero_ps();
    CK_ROWS(CK_DECLARE)
    // Rows of C a power-of-two apart share cache sets; fetching the tile while the product runs hides
    // the misses that otherwise stall the stores (n = 2048: 180 → 205 GFLOP/s).
#define CK_PREFETCH(i)                                                                                      \
    if (i < storeRows) {                                                                                    \
        const float *row = cRows ? cRows[i] + cColumn : c + i * ldc;                                        \
        _mm_prefetch((const char *)row, _MM_HINT_T0);                                                       \
        _mm_prefetch((const char *)(row + 16), _MM_HINT_T0);                                                \
    }
    CK_ROWS(CK_PREFETCH)
    for (ptrdiff_t p = 0; p < depth; p++) {
        const float *step = indirect ? bRows[p] + bColumn : b;
        __m512 bLow = _mm512_maskz_loadu_ps(loadLow, step), bHigh = _mm512_maskz_loadu_ps(loadHigh, step + 16);
        const ptrdiff_t offset = gathered ? aOffsets[p] : 0;
#define CK_STEP(i)                                                                                          \
        if (i < computeRows) {                                                                              \
            __m512 ai = _mm512_set1_ps(gathered ? aRows[i][offset] : a[i * aRow]);                          \
            low##i = _mm512_fmadd_ps(ai, bLow, low##i);                                                     \
            high##i = _mm512_fmadd_ps(ai, bHigh, high##i);                                                  \
            /* Gathered, clang hoists all twelve loads above the multiply-adds and spills accumulators  */ \
            /* (80 against 210 GFLOP/s): the empty barrier keeps each row's load next to its use.      */ \
            if (gathered) __asm__ volatile("" : "+v"(low##i), "+v"(high##i) : : "memory");                   \
        }
        CK_ROWS(CK_STEP)
        a += aStep;
        b += bStep;
    }
    const __m512 alphas = _mm512_set1_ps(alpha), betas = _mm512_set1_ps(beta);
#define CK_STORE(i)                                                                                         \
    if (i < storeRows) {                                                                                    \
        float *row = cRows ? cRows[i] + cColumn : c + i * ldc;                                              \
        __m512 outLow = _mm512_mul_ps(alphas, low##i), outHigh = _mm512_mul_ps(alphas, high##i);          \
        if (beta != 0) {                                                                                    \
            outLow = _mm512_fmadd_ps(betas, _mm512_maskz_loadu_ps(storeLow, row), outLow);                  \
            outHigh = _mm512_fmadd_ps(betas, _mm512_maskz_loadu_ps(storeHigh, row + 16), outHigh);          \
        }                                                                                                   \
        _mm512_mask_storeu_ps(row, storeLow, outLow);                                                       \
        _mm512_mask_storeu_ps(row + 16, storeHigh, outHigh);                                                \
    }
    CK_ROWS(CK_STORE)
#undef CK_DECLARE
#undef CK_PREFETCH
#undef CK_STEP
#undef CK_STORE
}

/// A tile from packed panels (zero-padded to MR × NR, so every row computes and loads are whole).
__attribute__((target("avx512f,fma")))
static void ck_packed_tile(ptrdiff_t depth, const float *a, const float *b, float *c, ptrdiff_t ldc, ptrdiff_t rows,
                           ptrdiff_t columns, float alpha, float beta) {
    ck_tile(CK_MR, rows, depth, a, 1, CK_MR, 0, NULL, NULL, 0, NULL, 0, b, CK_NR, 0xFFFF, 0xFFFF, c, ldc, NULL, 0, ck_first_lanes(columns),
            ck_first_lanes(columns - 16), alpha, beta);
}

// The tile of i + 1 rows with load and store masks LOW and HIGH, B by row pointers or by stride.
#define CK_DIRECT_TILE(i, LOW, HIGH)                                                                        \
    do {                                                                                                    \
        if (bRows)                                                                                          \
            ck_tile(i + 1, i + 1, depth, a, aRow, aStep, 0, NULL, NULL, 1, bRows, bColumn, NULL, 0, LOW, HIGH, \
                    c, ldc, NULL, 0, LOW, HIGH, alpha, beta);                                               \
        else                                                                                                \
            ck_tile(i + 1, i + 1, depth, a, aRow, aStep, 0, NULL, NULL, 0, NULL, 0, b, ldb, LOW, HIGH, c, ldc, \
                    NULL, 0, LOW, HIGH, alpha, beta);                                                       \
    } while (0)

// One function per row count (i + 1 rows), so that each inlines the tile only four times: built without
// optimisation (debug builds), twenty-four inlined tiles made a 1.3 MB stack frame, past a pool thread's stack.
// Whole columns pass constant masks, so B is read by plain loads (see ck_gathered_tile).
#define CK_DIRECT_ROWS(i)                                                                                   \
    __attribute__((target("avx512f,fma")))                                                                  \
    static void ck_direct_tile_##i(ptrdiff_t depth, const float *a, ptrdiff_t aRow, ptrdiff_t aStep,         \
                                   const float *b, ptrdiff_t ldb, const float *const *bRows, ptrdiff_t bColumn, \
                                   float *c, ptrdiff_t ldc, __mmask16 low, __mmask16 high, float alpha,       \
                                   float beta) {                                                            \
        if (low == 0xFFFF && high == 0xFFFF)                                                                \
            CK_DIRECT_TILE(i, 0xFFFF, 0xFFFF);                                                              \
        else                                                                                                \
            CK_DIRECT_TILE(i, low, high);                                                                   \
    }
CK_ROWS(CK_DIRECT_ROWS)
#undef CK_DIRECT_ROWS
#undef CK_DIRECT_TILE

/// A tile read straight from A and an untransposed B (row stride `ldb`, or, when `bRows` is not NULL,
/// step p's row at `bRows[p] + bColumn`): rows past `rows` and columns past `columns` are never touched.
static void ck_direct_tile(ptrdiff_t depth, const float *a, ptrdiff_t aRow, ptrdiff_t aStep, const float *b,
                           ptrdiff_t ldb, const float *const *bRows, ptrdiff_t bColumn, float *c, ptrdiff_t ldc,
                           ptrdiff_t rows, ptrdiff_t columns, float alpha, float beta) {
    const __mmask16 low = ck_first_lanes(columns), high = ck_first_lanes(columns - 16);
#define CK_CASE(i)                                                                                          \
    case i + 1:                                                                                             \
        ck_direct_tile_##i(depth, a, aRow, aStep, b, ldb, bRows, bColumn, c, ldc, low, high, alpha, beta);  \
        break;
    switch (rows) { CK_ROWS(CK_CASE) }
#undef CK_CASE
}

__attribute__((target("avx512f")))
static void ck_scale(ptrdiff_t m, ptrdiff_t n, float beta, float *c, ptrdiff_t ldc) {
    for (ptrdiff_t i = 0; i < m; i++)
        for (ptrdiff_t j = 0; j < n; j++) c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j];
}

// A slice of the inner dimension keeps the rows a tile reads in L2 (W2's 64 × 128 × 5408: 650 µs with
// slices of 2048, 519 with 1024).
enum { CK_DOT_DEPTH = 1024 };

/// `c[i, j] = α·Σₚ a[i·lda + p]·bRows[j][bOffset + p] + β·c[i, j]` for `rows` ≤ R rows of A and `columns` ≤ C rows of B
/// (R·C = 24 accumulators; R and C are constants where inlined): A·Bᵀ as dot products, vectorised along the
/// inner dimension (both operands are contiguous in it). A weight gradient's product is this shape: few rows
/// and columns, an inner dimension of thousands, where packing would cost more than the product. Missing
/// rows repeat the last one and are not stored.
__attribute__((target("avx512f,fma"), always_inline))
static inline void ck_dot_tile(const int R, const int C, ptrdiff_t depth, const float *a, ptrdiff_t lda,
                               ptrdiff_t rows, const float *const *bRows, ptrdiff_t bOffset, ptrdiff_t columns,
                               float *c, ptrdiff_t ldc, float alpha, float beta) {
    const float *aRow[6], *bRow[6];
    for (int i = 0; i < R; i++) aRow[i] = a + (i < rows ? i : rows - 1) * lda;
    for (int j = 0; j < C; j++) bRow[j] = bRows[j < columns ? j : columns - 1] + bOffset;
    __m512 sum[6][6];
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++) sum[i][j] = _mm512_setzero_ps();
    for (ptrdiff_t p = 0; p < depth; p += 16) {
        const __mmask16 lanes = ck_first_lanes(depth - p);
        __m512 x[6];
        for (int i = 0; i < R; i++) x[i] = _mm512_maskz_loadu_ps(lanes, aRow[i] + p);
        for (int j = 0; j < C; j++) {
            const __m512 y = _mm512_maskz_loadu_ps(lanes, bRow[j] + p);
            for (int i = 0; i < R; i++) sum[i][j] = _mm512_fmadd_ps(x[i], y, sum[i][j]);
        }
    }
    for (ptrdiff_t i = 0; i < rows; i++)
        for (ptrdiff_t j = 0; j < columns; j++) {
            const float value = alpha * _mm512_reduce_add_ps(sum[i][j]);
            c[i * ldc + j] = beta == 0 ? value : value + beta * c[i * ldc + j];
        }
}

/// The dot-product product over tiles of R × C (see ``ck_dot_tile``), in slices of the inner dimension; B's
/// rows are `b + j·ldb`, or `bRows[j]` when `bRows` is not NULL.
__attribute__((target("avx512f,fma"), always_inline))
static inline void ck_dot_product(const int R, const int C, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                                  const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                                  const float *const *bRows, float beta, float *c, ptrdiff_t ldc) {
    for (ptrdiff_t pc = 0; pc < k; pc += CK_DOT_DEPTH) {
        const ptrdiff_t kc = k - pc < CK_DOT_DEPTH ? k - pc : CK_DOT_DEPTH;
        for (ptrdiff_t ir = 0; ir < m; ir += R)
            for (ptrdiff_t jr = 0; jr < n; jr += C) {
                const ptrdiff_t columns = n - jr < C ? n - jr : C;
                const float *rowsOfB[6];
                for (ptrdiff_t j = 0; j < columns; j++) rowsOfB[j] = bRows ? bRows[jr + j] : b + (jr + j) * ldb;
                ck_dot_tile(R, C, kc, a + ir * lda + pc, lda, m - ir < R ? m - ir : R, rowsOfB, pc, columns,
                            c + ir * ldc + jr, ldc, alpha, pc == 0 ? beta : 1);
            }
    }
}

__attribute__((target("avx512f,fma")))
static void ck_dot_product_4x6(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a, ptrdiff_t lda,
                               const float *b, ptrdiff_t ldb, const float *const *bRows, float beta, float *c,
                               ptrdiff_t ldc) {
    ck_dot_product(4, 6, m, n, k, alpha, a, lda, b, ldb, bRows, beta, c, ldc);
}

__attribute__((target("avx512f,fma")))
static void ck_dot_product_6x4(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a, ptrdiff_t lda,
                               const float *b, ptrdiff_t ldb, const float *const *bRows, float beta, float *c,
                               ptrdiff_t ldc) {
    ck_dot_product(6, 4, m, n, k, alpha, a, lda, b, ldb, bRows, beta, c, ldc);
}

/// Dot products with the tile shape that wastes less on the edges (W3's 6-row weight gradient: 6 × 4).
static void ck_dot_products(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a, ptrdiff_t lda,
                            const float *b, ptrdiff_t ldb, const float *const *bRows, float beta, float *c,
                            ptrdiff_t ldc);

/// Tiles computed for an `m × n` output with R × C tiles (rounded up at the edges).
static ptrdiff_t ck_tiles(ptrdiff_t m, ptrdiff_t n, ptrdiff_t rows, ptrdiff_t columns) {
    return ((m + rows - 1) / rows) * ((n + columns - 1) / columns);
}

static void ck_dot_products(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a, ptrdiff_t lda,
                            const float *b, ptrdiff_t ldb, const float *const *bRows, float beta, float *c,
                            ptrdiff_t ldc) {
    if (ck_tiles(m, n, 6, 4) < ck_tiles(m, n, 4, 6))
        ck_dot_product_6x4(m, n, k, alpha, a, lda, b, ldb, bRows, beta, c, ldc);
    else
        ck_dot_product_4x6(m, n, k, alpha, a, lda, b, ldb, bRows, beta, c, ldc);
}

/// Handles the products with nothing to multiply: an empty C, or `k = 0` or `α = 0` (C = β·C). Returns
/// whether it did.
static int ck_product_is_trivial(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, float beta, float *c,
                                 ptrdiff_t ldc) {
    if (m <= 0 || n <= 0) return 1;
    if (k > 0 && alpha != 0) return 0;
    ck_scale(m, n, beta, c, ldc);
    return 1;
}

/// The product in place, tile by tile (see ``ck_direct_tile``): A's row i at step p is `a[i·aRow + p·aStep]`,
/// B's rows are `ldb` apart from `b`, or at `bRows[p]` when `bRows` is not NULL.
static void ck_direct_product(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a, ptrdiff_t aRow,
                              ptrdiff_t aStep, const float *b, ptrdiff_t ldb, const float *const *bRows, float beta,
                              float *c, ptrdiff_t ldc) {
    for (ptrdiff_t jr = 0; jr < n; jr += CK_NR) {
        const ptrdiff_t columns = n - jr < CK_NR ? n - jr : CK_NR;
        for (ptrdiff_t ir = 0; ir < m; ir += CK_MR) {
            const ptrdiff_t rows = m - ir < CK_MR ? m - ir : CK_MR;
            ck_direct_tile(k, a + ir * aRow, aRow, aStep, bRows ? NULL : b + jr, ldb, bRows, jr, c + ir * ldc + jr,
                           ldc, rows, columns, alpha, beta);
        }
    }
}

__attribute__((target("avx512f,fma")))
void ck_sgemm_avx512(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a,
                     ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc) {
    CK_REQUIRE(CK_ISA_AVX512, "ck_sgemm");
    if (ck_product_is_trivial(m, n, k, alpha, beta, c, ldc)) return;
    if (ck_dot_pays(transA, transB, m, n, k)) {
        ck_dot_products(m, n, k, alpha, a, lda, b, ldb, NULL, beta, c, ldc);
        return;
    }
    if (!transB && ck_direct_pays(m, n, k)) {
        ck_direct_product(m, n, k, alpha, a, transA ? 1 : lda, transA ? lda : 1, b, ldb, NULL, beta, c, ldc);
        return;
    }
    float *packedA = ck_packing_buffer(), *packedB = packedA + CK_MC * CK_KC;
    for (ptrdiff_t jc = 0; jc < n; jc += CK_NC) {
        const ptrdiff_t nc = n - jc < CK_NC ? n - jc : CK_NC;
        for (ptrdiff_t pc = 0; pc < k; pc += CK_KC) {
            const ptrdiff_t kc = k - pc < CK_KC ? k - pc : CK_KC;
            // Later slices of the inner dimension add to what the first one stored.
            const float blockBeta = pc == 0 ? beta : 1;
            for (ptrdiff_t jr = 0; jr < nc; jr += CK_NR) {
                const ptrdiff_t columns = nc - jr < CK_NR ? nc - jr : CK_NR;
                const float *from = transB ? b + (jc + jr) * ldb + pc : b + pc * ldb + jc + jr;
                ck_pack_b(from, ldb, transB, columns, kc, packedB + jr * kc);
            }
            for (ptrdiff_t ic = 0; ic < m; ic += CK_MC) {
                const ptrdiff_t mc = m - ic < CK_MC ? m - ic : CK_MC;
                for (ptrdiff_t ir = 0; ir < mc; ir += CK_MR) {
                    const ptrdiff_t rows = mc - ir < CK_MR ? mc - ir : CK_MR;
                    const float *from = transA ? a + pc * lda + ic + ir : a + (ic + ir) * lda + pc;
                    ck_pack_a(from, lda, transA, rows, kc, packedA + ir * kc);
                }
                for (ptrdiff_t jr = 0; jr < nc; jr += CK_NR) {
                    const ptrdiff_t columns = nc - jr < CK_NR ? nc - jr : CK_NR;
                    for (ptrdiff_t ir = 0; ir < mc; ir += CK_MR) {
                        const ptrdiff_t rows = mc - ir < CK_MR ? mc - ir : CK_MR;
                        ck_packed_tile(kc, packedA + ir * kc, packedB + jr * kc, c + (ic + ir) * ldc + jc + jr, ldc,
                                       rows, columns, alpha, blockBeta);
                    }
                }
            }
        }
    }
}

__attribute__((target("avx512f,fma")))
void ck_sgemm_rows_avx512(int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a, ptrdiff_t lda,
                          const float *const *bRows, float beta, float *c, ptrdiff_t ldc) {
    CK_REQUIRE(CK_ISA_AVX512, "ck_sgemm_rows");
    if (ck_product_is_trivial(m, n, k, alpha, beta, c, ldc)) return;
    if (transB) ck_dot_products(m, n, k, alpha, a, lda, NULL, 0, bRows, beta, c, ldc);
    else ck_direct_product(m, n, k, alpha, a, lda, 1, NULL, 0, bRows, beta, c, ldc);
}

/// A tile with A gathered (see ``ck_tile``): rows past `rows` repeat the last row's pointer (computed, not
/// stored), so one function serves every edge. C's rows are at `c + i·ldc`, or at `cRows[i] + cColumn`.
__attribute__((target("avx512f,fma")))
static void ck_gathered_tile(ptrdiff_t depth, const float *const *aRows, const int32_t *aOffsets, const float *b,
                             ptrdiff_t ldb, float *c, ptrdiff_t ldc, float *const *cRows, ptrdiff_t cColumn,
                             ptrdiff_t rows, ptrdiff_t columns, float alpha, float beta) {
    const float *rowsOfA[CK_MR];
    for (ptrdiff_t i = 0; i < CK_MR; i++) rowsOfA[i] = aRows[i < rows ? i : rows - 1];
    if (columns >= CK_NR) {
        // Constant masks: plain loads of B (masked ones, even with every lane on, cost 7% from memory).
        ck_tile(CK_MR, rows, depth, NULL, 0, 0, 1, rowsOfA, aOffsets, 0, NULL, 0, b, ldb, 0xFFFF, 0xFFFF, c, ldc, cRows,
                cColumn, 0xFFFF, 0xFFFF, alpha, beta);
        return;
    }
    const __mmask16 low = ck_first_lanes(columns), high = ck_first_lanes(columns - 16);
    ck_tile(CK_MR, rows, depth, NULL, 0, 0, 1, rowsOfA, aOffsets, 0, NULL, 0, b, ldb, low, high, c, ldc, cRows, cColumn,
            low, high, alpha, beta);
}

// Slices of the inner dimension keep B's block (CK_GATHER_DEPTH × n) in L2 while a row tile's gathered
// elements, read for every column tile, stay in L1. Slices longer than CK_TALL_DEPTH run the 6 × 64 tile.
enum { CK_GATHER_DEPTH = 1024, CK_TALL_DEPTH = 512, CK_WIDE_MR = 6, CK_WIDE_NR = 64 };

#define CK_ROWS6(X) X(0) X(1) X(2) X(3) X(4) X(5)

/// A 6 × 64 tile with A gathered, for long inner dimensions: per step it loads four registers of B and
/// broadcasts six gathered values of A, half the gathered loads per multiply-add of the 12 × 32 tile, and
/// its six row pointers stay in registers (of twelve, five were reloaded from the stack every step). With
/// a filter of 1024 elements B's column panel cannot stay in L1 whichever the tile, while the gathered
/// loads, spread over a chunk's channel planes, are the ones that miss: the DCGAN's 64→128 forward chunk
/// (343 × 128 × 1024) from cold caches 546 → 432 µs. A few hundred steps (a weight gradient's positions),
/// the 12 × 32 tile's B panel stays in L1 and it is the faster one (385 against 430 µs).
__attribute__((target("avx512f,fma"), always_inline))
static inline void ck_gathered_tile_wide_masked(ptrdiff_t depth, const float *const *aRows, const int32_t *aOffsets,
                                                const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc,
                                                float *const *cRows, ptrdiff_t cColumn, ptrdiff_t rows, __mmask16 m0,
                                                __mmask16 m1, __mmask16 m2, __mmask16 m3, float alpha, float beta) {
#define CK_W_DECLARE(i)                                                                                     \
    const float *row##i = aRows[i < rows ? i : rows - 1];                                                   \
    __m512 c##i##0 = _mm512_setzero_ps(), c##i##1 = _mm512_setzero_ps(), c##i##2 = _mm512_setzero_ps(),    \
           c##i##3 = _mm512_setzero_ps();
    CK_ROWS6(CK_W_DECLARE)
    for (ptrdiff_t p = 0; p < depth; p++) {
        const __m512 b0 = _mm512_maskz_loadu_ps(m0, b), b1 = _mm512_maskz_loadu_ps(m1, b + 16),
                     b2 = _mm512_maskz_loadu_ps(m2, b + 32), b3 = _mm512_maskz_loadu_ps(m3, b + 48);
        const ptrdiff_t offset = aOffsets[p];
#define CK_W_STEP(i)                                                                                        \
        {                                                                                                   \
            const __m512 ai = _mm512_set1_ps(row##i[offset]);                                               \
            c##i##0 = _mm512_fmadd_ps(ai, b0, c##i##0);                                                     \
            c##i##1 = _mm512_fmadd_ps(ai, b1, c##i##1);                                                     \
            c##i##2 = _mm512_fmadd_ps(ai, b2, c##i##2);                                                     \
            c##i##3 = _mm512_fmadd_ps(ai, b3, c##i##3);                                                     \
            __asm__ volatile("" : "+v"(c##i##0), "+v"(c##i##1), "+v"(c##i##2), "+v"(c##i##3) : : "memory"); \
        }
        CK_ROWS6(CK_W_STEP)
        b += ldb;
    }
    const __m512 alphas = _mm512_set1_ps(alpha), betas = _mm512_set1_ps(beta);
#define CK_W_STORE_ONE(i, j, mask)                                                                          \
    {                                                                                                       \
        __m512 out = _mm512_mul_ps(alphas, c##i##j);                                                        \
        if (beta != 0) out = _mm512_fmadd_ps(betas, _mm512_maskz_loadu_ps(mask, row + 16 * j), out);        \
        _mm512_mask_storeu_ps(row + 16 * j, mask, out);                                                     \
    }
#define CK_W_STORE(i)                                                                                       \
    if (i < rows) {                                                                                         \
        float *row = cRows ? cRows[i] + cColumn : c + i * ldc;                                              \
        CK_W_STORE_ONE(i, 0, m0) CK_W_STORE_ONE(i, 1, m1) CK_W_STORE_ONE(i, 2, m2) CK_W_STORE_ONE(i, 3, m3) \
    }
    CK_ROWS6(CK_W_STORE)
#undef CK_W_DECLARE
#undef CK_W_STEP
#undef CK_W_STORE_ONE
#undef CK_W_STORE
}

__attribute__((target("avx512f,fma")))
static void ck_gathered_tile_wide(ptrdiff_t depth, const float *const *aRows, const int32_t *aOffsets,
                                  const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc, float *const *cRows,
                                  ptrdiff_t cColumn, ptrdiff_t rows, ptrdiff_t columns, float alpha, float beta) {
    if (columns >= CK_WIDE_NR) {
        // Constant masks: plain loads of B (see ck_gathered_tile).
        ck_gathered_tile_wide_masked(depth, aRows, aOffsets, b, ldb, c, ldc, cRows, cColumn, rows, 0xFFFF, 0xFFFF,
                                     0xFFFF, 0xFFFF, alpha, beta);
        return;
    }
    ck_gathered_tile_wide_masked(depth, aRows, aOffsets, b, ldb, c, ldc, cRows, cColumn, rows, ck_first_lanes(columns),
                                 ck_first_lanes(columns - 16), ck_first_lanes(columns - 32),
                                 ck_first_lanes(columns - 48), alpha, beta);
}

__attribute__((target("avx512f,fma")))
void ck_sgemm_gathered_avx512(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *const *aRows,
                              const int32_t *aOffsets, const float *b, ptrdiff_t ldb, float beta, float *c,
                              ptrdiff_t ldc, float *const *cRows) {
    CK_REQUIRE(CK_ISA_AVX512, "ck_sgemm_gathered");
    if (cRows && (m <= 0 || n <= 0)) return;
    if (cRows && (k <= 0 || alpha == 0)) {
        // C = β·C row by row (ck_product_is_trivial scales a strided C).
        for (ptrdiff_t i = 0; i < m; i++) ck_scale(1, n, beta, cRows[i], n);
        return;
    }
    if (!cRows && ck_product_is_trivial(m, n, k, alpha, beta, c, ldc)) return;
    for (ptrdiff_t pc = 0; pc < k; pc += CK_GATHER_DEPTH) {
        const ptrdiff_t kc = k - pc < CK_GATHER_DEPTH ? k - pc : CK_GATHER_DEPTH;
        const float blockBeta = pc == 0 ? beta : 1;
        if (kc > CK_TALL_DEPTH) {
            for (ptrdiff_t ir = 0; ir < m; ir += CK_WIDE_MR) {
                const ptrdiff_t rows = m - ir < CK_WIDE_MR ? m - ir : CK_WIDE_MR;
                for (ptrdiff_t jr = 0; jr < n; jr += CK_WIDE_NR) {
                    const ptrdiff_t columns = n - jr < CK_WIDE_NR ? n - jr : CK_WIDE_NR;
                    ck_gathered_tile_wide(kc, aRows + ir, aOffsets + pc, b + pc * ldb + jr, ldb,
                                          cRows ? NULL : c + ir * ldc + jr, ldc, cRows ? cRows + ir : NULL, jr, rows,
                                          columns, alpha, blockBeta);
                }
            }
            continue;
        }
        for (ptrdiff_t ir = 0; ir < m; ir += CK_MR) {
            const ptrdiff_t rows = m - ir < CK_MR ? m - ir : CK_MR;
            for (ptrdiff_t jr = 0; jr < n; jr += CK_NR) {
                const ptrdiff_t columns = n - jr < CK_NR ? n - jr : CK_NR;
                ck_gathered_tile(kc, aRows + ir, aOffsets + pc, b + pc * ldb + jr, ldb, cRows ? NULL : c + ir * ldc + jr,
                                 ldc, cRows ? cRows + ir : NULL, jr, rows, columns, alpha, blockBeta);
            }
        }
    }
}

#endif
