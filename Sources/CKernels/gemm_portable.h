// Single-precision matrix product in portable C (clang's vector extensions; see ckernels.h), the same routes
// as the AVX-512 one (gemm.c). Not a header to include anywhere else: portable_avx2.c and portable_generic.c each
// build it once, having defined CK_LEVEL(name) (the level's suffix) and CK_LEVEL_ISA (the level it needs), the
// AVX2 one under a `#pragma clang attribute` that gives every function here the target "avx2,fma".
//
// A micro-kernel keeps an MR × NR tile of C in registers (NR = 8·NV, NV eight-lane vectors per row); per
// step of the inner dimension it loads one NR-wide row of B and broadcasts MR values of A. Products are
// written `a * b + c` in one expression, which clang contracts to fused multiply-adds where the target has
// them (AVX2 + FMA, aarch64) and leaves as a multiply and an add where it has not (baseline x86-64).
// Four ways feed it, as in gemm.c:
// - in place (products up to 2²⁷ multiply-adds with B untransposed): A is read where it is, and B too for
//   products of few rows; with more, each column panel of B is first copied into contiguous rows (see
//   CK_COPY_ROWS), and the last columns (n not a multiple of NR) always are, zero-padded, so the tile only
//   ever loads whole vectors of B;
// - packed (the rest; Goto and van de Geijn's blocked scheme): op(B) is packed a block of KC rows by NC
//   columns at a time into panels NR columns wide (B transposed through 8 × 8 register transposes), op(A)
//   a block of MC rows by KC into panels MR rows tall, both padded with zeros to whole panels; the B panel
//   stays in L1 while the A panels stream from L2;
// - as dot products (A·Bᵀ with few outputs and a long inner dimension, a weight gradient's shape): a
//   different kernel, R × C accumulators vectorised along the inner dimension;
// - gathered (`ck_sgemm_gathered`): A's element (i, p) read at a row pointer plus a step offset (a padded or
//   strided convolution's windows in its input), B in blocks of the inner dimension, copied into panels
//   like the in-place route's.
//
// Registers decide the tiles. AVX2 has sixteen of eight lanes: 6 × 16 keeps 12 accumulators, two vectors of
// B and a broadcast. aarch64 has thirty-two of four lanes (a vector here takes two): 6 × 16 again. Baseline
// x86-64 (SSE2) has sixteen of four lanes and no fused multiply-add, so a tile holds fewer accumulators.

// Built for baseline x86-64, a function that takes or returns an eight-lane vector warns that AVX would pass
// it differently, even when the function is static and always inlined (clang 21 checks every call): no call
// here crosses a translation unit, so the ABI is never in question.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpsabi"

#include "levels.h"
#include "cpu.h"
#include "vector.h"
#include <pthread.h>
#include <stdlib.h>

#if !defined(CK_LEVEL) || !defined(CK_LEVEL_ISA)
#error "gemm_portable.h is built by portable_avx2.c and portable_generic.c, which define CK_LEVEL and CK_LEVEL_ISA"
#endif

#if defined(__aarch64__)
// Every level is generic here (32 NEON registers): the 6 × 16 tile (24 registers of sums); dot products
// 3 × 3 (18 of sums, 6 of one side's rows; 3 × 4 spilled a sum).
enum { CK_MR = 6, CK_NV = 2, CK_DOT_R = 3, CK_DOT_C = 3 };
#else
// AVX2: 6 × 16 (12 of 16 ymm registers); dot products 3 × 4 (12 sums, 3 rows of one side, 1 of the other).
// Baseline x86-64, where a vector is two xmm registers: 4 × 8 and 2 × 2 (8 registers of sums each; 6 × 8 and
// 2 × 3 spilled).
enum {
    CK_MR = CK_LEVEL_ISA == CK_ISA_AVX2 ? 6 : 4,
    CK_NV = CK_LEVEL_ISA == CK_ISA_AVX2 ? 2 : 1,
    CK_DOT_R = CK_LEVEL_ISA == CK_ISA_AVX2 ? 3 : 2,
    CK_DOT_C = CK_LEVEL_ISA == CK_ISA_AVX2 ? 4 : 2,
};
#endif

// The largest tile any level uses, for the functions written once per row count.
enum { CK_MAX_MR = 6, CK_MAX_NV = 2, CK_MAX_DOT = 4 };

// KC·NR floats of B panel (16 KiB with NR = 16) stay in L1 beside an A panel; MC·KC of A (144 KiB) in L2.
enum { CK_NR = 8 * CK_NV, CK_KC = 256, CK_MC = 24 * CK_MR, CK_NC = 1024 };

_Static_assert(CK_MR <= CK_MAX_MR && CK_NV <= CK_MAX_NV && CK_DOT_R <= CK_MAX_DOT && CK_DOT_C <= CK_MAX_DOT,
               "a tile larger than the functions written for it");

/// Packing buffers (A block, then B block), one per thread, made at its first product and kept until the
/// thread ends: products run on the pool's threads over and over. This level's own (gemm.c has another).
static pthread_key_t ck_portable_packing_key;
static pthread_once_t ck_portable_packing_once = PTHREAD_ONCE_INIT;

static void ck_make_portable_packing_key(void) {
    if (pthread_key_create(&ck_portable_packing_key, free) != 0) abort();
}

static float *ck_packing_buffer(void) {
    pthread_once(&ck_portable_packing_once, ck_make_portable_packing_key);
    float *buffer = pthread_getspecific(ck_portable_packing_key);
    if (buffer == NULL) {
        buffer = aligned_alloc(64, (size_t)(CK_MC + CK_NC) * CK_KC * sizeof(float));
        if (buffer == NULL || pthread_setspecific(ck_portable_packing_key, buffer) != 0) abort();
    }
    return buffer;
}

/// Transposes an 8 × 8 block held as 8 rows: afterwards `rows[j]` lane `i` is what `rows[i]` lane `j` was.
/// Three rounds of shuffles (pairs of rows, pairs of pairs, halves), which AVX2 does in unpacks, shuffles
/// and lane permutes.
static inline __attribute__((always_inline)) void ck_transpose_8x8(ck_f8 rows[8]) {
    ck_f8 t[8], u[8];
    for (int k = 0; k < 4; k++) {
        t[2 * k] = __builtin_shufflevector(rows[2 * k], rows[2 * k + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[2 * k + 1] = __builtin_shufflevector(rows[2 * k], rows[2 * k + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    // u[4h + e]: element e of rows 4h ..< 4h + 4 in the low half, element e + 4 in the high one.
    for (int h = 0; h < 2; h++) {
        u[4 * h] = __builtin_shufflevector(t[4 * h], t[4 * h + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        u[4 * h + 1] = __builtin_shufflevector(t[4 * h], t[4 * h + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        u[4 * h + 2] = __builtin_shufflevector(t[4 * h + 1], t[4 * h + 3], 0, 1, 8, 9, 4, 5, 12, 13);
        u[4 * h + 3] = __builtin_shufflevector(t[4 * h + 1], t[4 * h + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (int e = 0; e < 4; e++) {
        rows[e] = __builtin_shufflevector(u[e], u[4 + e], 0, 1, 2, 3, 8, 9, 10, 11);
        rows[4 + e] = __builtin_shufflevector(u[e], u[4 + e], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

/// Packs rows `0..<rows` (≤ MR) and inner indices `0..<depth` of op(A) into one panel: `panel[p·MR + i]`
/// = op(A)[i, p], zero for i ≥ rows.
static void ck_pack_a(const float *a, ptrdiff_t lda, int transposed, ptrdiff_t rows, ptrdiff_t depth, float *panel) {
    if (transposed) {
        // op(A)[i, p] = a[p·lda + i]: each step is a contiguous run of rows.
        for (ptrdiff_t p = 0; p < depth; p++) {
            const float *from = a + p * lda;
            float *to = panel + p * CK_MR;
            ptrdiff_t i = 0;
            for (; i < rows; i++) to[i] = from[i];
            for (; i < CK_MR; i++) to[i] = 0;
        }
        return;
    }
    // op(A)[i, p] = a[i·lda + p]: 8 steps of each row (rows past `rows` zero) transposed in registers, so that
    // vector q holds step p + q's column (element by element, the strided stores cost more than the packing's
    // share of a product). Each step's MR lanes are stored as a whole vector whose last 8 − MR lanes the
    // next step's store overwrites (MR ≥ 4 keeps that inside the panel); the last step stores only its own.
    _Static_assert(CK_MR >= 4, "whole-vector stores would pass the panel's end");
    for (ptrdiff_t p = 0; p < depth; p += 8) {
        const ptrdiff_t count = depth - p < 8 ? depth - p : 8;
        ck_f8 block[8];
        for (ptrdiff_t i = 0; i < 8; i++) {
            const float *from = a + i * lda + p;
            block[i] = i >= rows ? ck_f8_splat(0) : count == 8 ? ck_f8_load(from) : ck_f8_load_first(from, count);
        }
        ck_transpose_8x8(block);
        for (ptrdiff_t q = 0; q < count; q++) {
            if (p + q + 1 < depth) ck_f8_store(panel + (p + q) * CK_MR, block[q]);
            else ck_f8_store_first(panel + (p + q) * CK_MR, block[q], CK_MR);
        }
    }
}

/// Copies columns `0..<columns` (≤ NR) of `depth` steps of an untransposed B (step p's row at `b + p·ldb`, or
/// at `bRows[p] + bColumn` when `bRows` is not NULL) into `panel` (rows NR apart), zero past `columns`.
static void ck_copy_panel(const float *b, ptrdiff_t ldb, const float *const *bRows, ptrdiff_t bColumn,
                          ptrdiff_t columns, ptrdiff_t depth, float *panel) {
    for (ptrdiff_t p = 0; p < depth; p++) {
        const float *from = bRows ? bRows[p] + bColumn : b + p * ldb;
        float *to = panel + p * CK_NR;
        if (columns == CK_NR) {
            for (int v = 0; v < CK_NV; v++) ck_f8_store(to + 8 * v, ck_f8_load(from + 8 * v));
            continue;
        }
        ptrdiff_t j = 0;
        for (; j < columns; j++) to[j] = from[j];
        for (; j < CK_NR; j++) to[j] = 0;
    }
}

/// Packs columns `0..<columns` (≤ NR) and inner indices `0..<depth` of op(B) into one panel:
/// `panel[p·NR + j]` = op(B)[p, j], zero for j ≥ columns.
static void ck_pack_b(const float *b, ptrdiff_t ldb, int transposed, ptrdiff_t columns, ptrdiff_t depth,
                      float *panel) {
    if (!transposed) {
        // op(B)[p, j] = b[p·ldb + j]: each step is a contiguous row.
        ck_copy_panel(b, ldb, NULL, 0, columns, depth, panel);
        return;
    }
    // op(B)[p, j] = b[j·ldb + p]: 8 × 8 blocks of b (8 columns of op(B), 8 steps) transposed in registers;
    // element by element the strided stores cost more than the product of a few rows.
    for (ptrdiff_t group = 0; group < CK_NR; group += 8) {
        for (ptrdiff_t p = 0; p < depth; p += 8) {
            const ptrdiff_t count = depth - p < 8 ? depth - p : 8;
            ck_f8 block[8];
            for (ptrdiff_t j = 0; j < 8; j++) {
                const float *from = b + (group + j) * ldb + p;
                block[j] = group + j >= columns ? ck_f8_splat(0) : count == 8 ? ck_f8_load(from)
                                                                               : ck_f8_load_first(from, count);
            }
            ck_transpose_8x8(block);
            for (ptrdiff_t q = 0; q < count; q++) ck_f8_store(panel + (p + q) * CK_NR + group, block[q]);
        }
    }
}

/// C tile (`storeRows` × `storeColumns`, rows `ldc` apart) = α·(A·B) + β·C tile over `depth` steps, for the
/// first `computeRows` rows (a constant where inlined). A's row i at step p is `a[i·aRow + p·aStep]`, or, when
/// `gathered` (a constant where inlined), `aRows[i][aOffsets[p]]`. B's step p is NR floats at `b + p·bStep`,
/// or, when `indirect` (a constant where inlined), at `bRows[p] + bColumn`; all NR are read (edges come
/// zero-padded). C's row i is at `c + i·ldc`, or at `cRows[i] + cColumn` when `cRows` is not NULL; columns
/// past `storeColumns` are never touched. β = 0 does not read C.
static inline __attribute__((always_inline)) void
ck_tile(const int computeRows, ptrdiff_t storeRows, ptrdiff_t storeColumns, ptrdiff_t depth, const float *a,
        ptrdiff_t aRow, ptrdiff_t aStep, const int gathered, const float *const *aRows, const int32_t *aOffsets,
        const int indirect, const float *const *bRows, ptrdiff_t bColumn, const float *b, ptrdiff_t bStep, float *c,
        ptrdiff_t ldc, float *const *cRows, ptrdiff_t cColumn, float alpha, float beta) {
    ck_f8 sum[CK_MR][CK_NV];
    for (int i = 0; i < CK_MR; i++)
        for (int v = 0; v < CK_NV; v++) sum[i][v] = ck_f8_splat(0);
    // Rows of C a power-of-two apart share cache sets; fetching the tile while the product runs hides the
    // misses that otherwise stall the stores.
    for (int i = 0; i < CK_MR; i++)
        if (i < storeRows) {
            const float *row = cRows ? cRows[i] + cColumn : c + i * ldc;
            __builtin_prefetch(row);
            __builtin_prefetch(row + CK_NR - 1);
        }
    for (ptrdiff_t p = 0; p < depth; p++) {
        const float *step = indirect ? bRows[p] + bColumn : b;
        ck_f8 x[CK_NV];
        for (int v = 0; v < CK_NV; v++) x[v] = ck_f8_load(step + 8 * v);
        const ptrdiff_t offset = gathered ? aOffsets[p] : 0;
        for (int i = 0; i < CK_MR; i++)
            if (i < computeRows) {
                const ck_f8 ai = ck_f8_splat(gathered ? aRows[i][offset] : a[i * aRow]);
                for (int v = 0; v < CK_NV; v++) sum[i][v] = ai * x[v] + sum[i][v];
            }
        a += aStep;
        b += bStep;
    }
    for (int i = 0; i < CK_MR; i++)
        if (i < storeRows) {
            float *row = cRows ? cRows[i] + cColumn : c + i * ldc;
            for (int v = 0; v < CK_NV; v++) {
                const ptrdiff_t count = storeColumns - 8 * v;
                if (count >= 8) {
                    const ck_f8 out = alpha * sum[i][v];
                    ck_f8_store(row + 8 * v, beta == 0 ? out : beta * ck_f8_load(row + 8 * v) + out);
                } else if (count > 0) {
                    const ck_f8 out = alpha * sum[i][v];
                    ck_f8_store_first(row + 8 * v, beta == 0 ? out : beta * ck_f8_load_first(row + 8 * v, count) + out,
                                      count);
                }
            }
        }
}

/// A tile from packed panels (zero-padded to MR × NR, so every row computes).
static void ck_packed_tile(ptrdiff_t depth, const float *a, const float *b, float *c, ptrdiff_t ldc, ptrdiff_t rows,
                           ptrdiff_t columns, float alpha, float beta) {
    ck_tile(CK_MR, rows, columns, depth, a, 1, CK_MR, 0, NULL, NULL, 0, NULL, 0, b, CK_NR, c, ldc, NULL, 0, alpha, beta);
}

// One function per row count (R rows), so that each inlines the tile only twice: built without optimisation
// (debug builds), every row count's tiles in one function made a frame too large for a pool thread's stack.
#define CK_DIRECT_ROWS(R)                                                                                   \
    static void ck_direct_tile_##R(ptrdiff_t depth, const float *a, ptrdiff_t aRow, ptrdiff_t aStep,         \
                                   const float *b, ptrdiff_t ldb, const float *const *bRows, ptrdiff_t bColumn, \
                                   float *c, ptrdiff_t ldc, ptrdiff_t columns, float alpha, float beta) {     \
        if (bRows)                                                                                          \
            ck_tile(R, R, columns, depth, a, aRow, aStep, 0, NULL, NULL, 1, bRows, bColumn, NULL, 0, c, ldc, NULL, \
                    0, alpha, beta);                                                                        \
        else                                                                                                \
            ck_tile(R, R, columns, depth, a, aRow, aStep, 0, NULL, NULL, 0, NULL, 0, b, ldb, c, ldc, NULL, 0,    \
                    alpha, beta);                                                                           \
    }
#define CK_MAX_ROWS(X) X(1) X(2) X(3) X(4) X(5) X(6)
CK_MAX_ROWS(CK_DIRECT_ROWS)
#undef CK_DIRECT_ROWS

/// A tile read straight from A and an untransposed B (row stride `ldb`, or, when `bRows` is not NULL, step
/// p's row at `bRows[p] + bColumn`; NR columns read): rows past `rows` and columns past `columns` of C are
/// never touched.
static void ck_direct_tile(ptrdiff_t depth, const float *a, ptrdiff_t aRow, ptrdiff_t aStep, const float *b,
                           ptrdiff_t ldb, const float *const *bRows, ptrdiff_t bColumn, float *c, ptrdiff_t ldc,
                           ptrdiff_t rows, ptrdiff_t columns, float alpha, float beta) {
    // Row counts past this level's MR never come (the functions exist at every level).
#define CK_CASE(R)                                                                                          \
    case R:                                                                                                 \
        ck_direct_tile_##R(depth, a, aRow, aStep, b, ldb, bRows, bColumn, c, ldc, columns, alpha, beta);    \
        break;
    switch (rows) { CK_MAX_ROWS(CK_CASE) }
#undef CK_CASE
}

/// C = β·C (0 where β = 0, whatever C held).
static void ck_scale(ptrdiff_t m, ptrdiff_t n, float beta, float *c, ptrdiff_t ldc) {
    for (ptrdiff_t i = 0; i < m; i++)
        for (ptrdiff_t j = 0; j < n; j++) c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j];
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

// In place, B's column panel (depth × NR) is read once per row tile; its rows, ldb apart, often a power of
// two apart (256³: 1 KiB), fall into a few cache sets and evict one another, so with more than two row tiles
// the panel is first copied, CK_DIRECT_DEPTH steps at a time (32 KiB with NR = 16), into contiguous rows
// (with fewer rows the copy costs more than the misses; see Docs/Performance.md). The last columns
// (n not a multiple of NR) are always copied, zero-padded, so the tile only ever loads whole vectors of B.
enum { CK_COPY_ROWS = 2 * CK_MR, CK_DIRECT_DEPTH = 512 };

/// Rows for the next in-place row tile with `remaining` rows left. A tile of few rows waits on its sums'
/// latency (on AVX2, 1 to 4 rows take as long per step as 4), so the last MR + 1 to MR + 3 rows go as two
/// tiles of about half each (8 rows: 4 + 4 rather than 6 + 2).
static ptrdiff_t ck_tile_rows(ptrdiff_t remaining) {
    return remaining > CK_MR && remaining < CK_MR + 4 ? (remaining + 1) / 2 : remaining < CK_MR ? remaining : CK_MR;
}

/// The product in place, tile by tile (see ``ck_direct_tile``): A's row i at step p is `a[i·aRow + p·aStep]`,
/// B's rows are `ldb` apart from `b`, or at `bRows[p]` when `bRows` is not NULL.
static void ck_direct_product(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a, ptrdiff_t aRow,
                              ptrdiff_t aStep, const float *b, ptrdiff_t ldb, const float *const *bRows, float beta,
                              float *c, ptrdiff_t ldc) {
    const int copy = m > CK_COPY_ROWS;
    float *panel = NULL;
    for (ptrdiff_t jr = 0; jr < n; jr += CK_NR) {
        const ptrdiff_t columns = n - jr < CK_NR ? n - jr : CK_NR;
        if (!copy && columns == CK_NR) {
            for (ptrdiff_t ir = 0, rows; ir < m; ir += rows) {
                rows = ck_tile_rows(m - ir);
                ck_direct_tile(k, a + ir * aRow, aRow, aStep, bRows ? NULL : b + jr, ldb, bRows, jr, c + ir * ldc + jr,
                               ldc, rows, CK_NR, alpha, beta);
            }
            continue;
        }
        if (panel == NULL) panel = ck_packing_buffer();
        for (ptrdiff_t pc = 0; pc < k; pc += CK_DIRECT_DEPTH) {
            const ptrdiff_t kc = k - pc < CK_DIRECT_DEPTH ? k - pc : CK_DIRECT_DEPTH;
            ck_copy_panel(bRows ? NULL : b + pc * ldb + jr, ldb, bRows ? bRows + pc : NULL, jr, columns, kc, panel);
            for (ptrdiff_t ir = 0, rows; ir < m; ir += rows) {
                rows = ck_tile_rows(m - ir);
                ck_direct_tile(kc, a + ir * aRow + pc * aStep, aRow, aStep, panel, CK_NR, NULL, 0, c + ir * ldc + jr,
                               ldc, rows, columns, alpha, pc == 0 ? beta : 1);
            }
        }
    }
}

// A slice of the inner dimension keeps the rows a tile reads in L2.
enum { CK_DOT_DEPTH = 1024 };

/// Adds the products of eight steps (the first `lanes`, when fewer) from p on to the sums: the smaller side's
/// vectors stay in registers while the other side's are loaded one at a time (3 + 1 registers beside 12
/// sums; holding the larger side spilled a sum on AVX2).
static inline __attribute__((always_inline)) void ck_dot_step(const int R, const int C, const float *const *rowOfA,
                                                              const float *const *rowOfB, ptrdiff_t p,
                                                              ptrdiff_t lanes, ck_f8 sum[CK_MAX_DOT][CK_MAX_DOT]) {
    ck_f8 held[CK_MAX_DOT];
    if (R <= C) {
        for (int i = 0; i < R; i++) held[i] = ck_f8_load_first(rowOfA[i] + p, lanes);
        for (int j = 0; j < C; j++) {
            const ck_f8 y = ck_f8_load_first(rowOfB[j] + p, lanes);
            for (int i = 0; i < R; i++) sum[i][j] = held[i] * y + sum[i][j];
        }
    } else {
        for (int j = 0; j < C; j++) held[j] = ck_f8_load_first(rowOfB[j] + p, lanes);
        for (int i = 0; i < R; i++) {
            const ck_f8 x = ck_f8_load_first(rowOfA[i] + p, lanes);
            for (int j = 0; j < C; j++) sum[i][j] = x * held[j] + sum[i][j];
        }
    }
}

/// `c[i, j] = α·Σₚ a[i·lda + p]·bRows[j][p] + β·c[i, j]` for `rows` ≤ R rows of A and `columns` ≤ C rows of B
/// (R and C constants where inlined): A·Bᵀ as dot products, vectorised along the inner dimension (both
/// operands are contiguous in it). A weight gradient's product is this shape: few rows and columns, an inner
/// dimension of thousands, where packing would cost more than the product. Missing rows and columns repeat
/// the last ones and are not stored.
static inline __attribute__((always_inline)) void
ck_dot_tile(const int R, const int C, ptrdiff_t depth, const float *a, ptrdiff_t lda, ptrdiff_t rows,
            const float *const *bRows, ptrdiff_t columns, float *c, ptrdiff_t ldc, float alpha, float beta) {
    const float *rowOfA[CK_MAX_DOT], *rowOfB[CK_MAX_DOT];
    for (int i = 0; i < R; i++) rowOfA[i] = a + (i < rows ? i : rows - 1) * lda;
    for (int j = 0; j < C; j++) rowOfB[j] = bRows[j < columns ? j : columns - 1];
    ck_f8 sum[CK_MAX_DOT][CK_MAX_DOT];
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++) sum[i][j] = ck_f8_splat(0);
    ptrdiff_t p = 0;
    for (; p + 8 <= depth; p += 8) ck_dot_step(R, C, rowOfA, rowOfB, p, 8, sum);
    if (p < depth) ck_dot_step(R, C, rowOfA, rowOfB, p, depth - p, sum);
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++)
            if (i < rows && j < columns) {
                const float value = alpha * ck_f8_sum(sum[i][j]);
                c[i * ldc + j] = beta == 0 ? value : value + beta * c[i * ldc + j];
            }
}

/// The dot-product product over tiles of R × C (see ``ck_dot_tile``), in slices of the inner dimension; B's
/// rows are `b + j·ldb`, or `bRows[j]` when `bRows` is not NULL.
static inline __attribute__((always_inline)) void
ck_dot_product(const int R, const int C, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a,
               ptrdiff_t lda, const float *b, ptrdiff_t ldb, const float *const *bRows, float beta, float *c,
               ptrdiff_t ldc) {
    for (ptrdiff_t pc = 0; pc < k; pc += CK_DOT_DEPTH) {
        const ptrdiff_t kc = k - pc < CK_DOT_DEPTH ? k - pc : CK_DOT_DEPTH;
        for (ptrdiff_t ir = 0; ir < m; ir += R)
            for (ptrdiff_t jr = 0; jr < n; jr += C) {
                const ptrdiff_t columns = n - jr < C ? n - jr : C;
                const float *rowsOfB[CK_MAX_DOT];
                for (ptrdiff_t j = 0; j < columns; j++) rowsOfB[j] = (bRows ? bRows[jr + j] : b + (jr + j) * ldb) + pc;
                ck_dot_tile(R, C, kc, a + ir * lda + pc, lda, m - ir < R ? m - ir : R, rowsOfB, columns,
                            c + ir * ldc + jr, ldc, alpha, pc == 0 ? beta : 1);
            }
    }
}

static void ck_dot_product_wide(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a, ptrdiff_t lda,
                                const float *b, ptrdiff_t ldb, const float *const *bRows, float beta, float *c,
                                ptrdiff_t ldc) {
    ck_dot_product(CK_DOT_R, CK_DOT_C, m, n, k, alpha, a, lda, b, ldb, bRows, beta, c, ldc);
}

static void ck_dot_product_tall(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a, ptrdiff_t lda,
                                const float *b, ptrdiff_t ldb, const float *const *bRows, float beta, float *c,
                                ptrdiff_t ldc) {
    ck_dot_product(CK_DOT_C, CK_DOT_R, m, n, k, alpha, a, lda, b, ldb, bRows, beta, c, ldc);
}

/// Tiles computed for an `m × n` output with R × C tiles (rounded up at the edges).
static ptrdiff_t ck_tiles(ptrdiff_t m, ptrdiff_t n, ptrdiff_t rows, ptrdiff_t columns) {
    return ((m + rows - 1) / rows) * ((n + columns - 1) / columns);
}

/// Dot products with the tile shape that wastes less on the edges.
static void ck_dot_products(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a, ptrdiff_t lda,
                            const float *b, ptrdiff_t ldb, const float *const *bRows, float beta, float *c,
                            ptrdiff_t ldc) {
    if (ck_tiles(m, n, CK_DOT_C, CK_DOT_R) < ck_tiles(m, n, CK_DOT_R, CK_DOT_C))
        ck_dot_product_tall(m, n, k, alpha, a, lda, b, ldb, bRows, beta, c, ldc);
    else
        ck_dot_product_wide(m, n, k, alpha, a, lda, b, ldb, bRows, beta, c, ldc);
}

/// The packed product (see the top of the file).
static void ck_packed_product(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                              const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta, float *c,
                              ptrdiff_t ldc) {
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

void CK_LEVEL(ck_sgemm)(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a,
                        ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc) {
    CK_REQUIRE(CK_LEVEL_ISA, "ck_sgemm");
    if (ck_product_is_trivial(m, n, k, alpha, beta, c, ldc)) return;
    if (ck_dot_pays(transA, transB, m, n, k)) {
        ck_dot_products(m, n, k, alpha, a, lda, b, ldb, NULL, beta, c, ldc);
        return;
    }
    if (!transB && ck_direct_pays(m, n, k)) {
        ck_direct_product(m, n, k, alpha, a, transA ? 1 : lda, transA ? lda : 1, b, ldb, NULL, beta, c, ldc);
        return;
    }
    ck_packed_product(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void CK_LEVEL(ck_sgemm_rows)(int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a,
                             ptrdiff_t lda, const float *const *bRows, float beta, float *c, ptrdiff_t ldc) {
    CK_REQUIRE(CK_LEVEL_ISA, "ck_sgemm_rows");
    if (ck_product_is_trivial(m, n, k, alpha, beta, c, ldc)) return;
    if (transB) ck_dot_products(m, n, k, alpha, a, lda, NULL, 0, bRows, beta, c, ldc);
    else ck_direct_product(m, n, k, alpha, a, lda, 1, NULL, 0, bRows, beta, c, ldc);
}

/// A tile with A gathered (see ``ck_tile``): rows past `rows` repeat the last row's pointer (computed, not
/// stored), so one function serves every edge. B's step p is NR floats at `b + p·bStep`.
static void ck_gathered_tile(ptrdiff_t depth, const float *const *aRows, const int32_t *aOffsets, const float *b,
                             ptrdiff_t bStep, float *c, ptrdiff_t ldc, float *const *cRows, ptrdiff_t cColumn,
                             ptrdiff_t rows, ptrdiff_t columns, float alpha, float beta) {
    const float *rowsOfA[CK_MR];
    for (ptrdiff_t i = 0; i < CK_MR; i++) rowsOfA[i] = aRows[i < rows ? i : rows - 1];
    ck_tile(CK_MR, rows, columns, depth, NULL, 0, 0, 1, rowsOfA, aOffsets, 0, NULL, 0, b, bStep, c, ldc, cRows, cColumn,
            alpha, beta);
}

// Blocks of B (CK_GATHER_DEPTH steps × CK_GATHER_COLUMNS) stay in L2, and a column panel of one (16 KiB with
// NR = 16) in L1, while a row tile's gathered elements, read for every column panel, stay in L1 too.
enum { CK_GATHER_DEPTH = 256, CK_GATHER_COLUMNS = 512 };
_Static_assert(CK_GATHER_DEPTH * CK_GATHER_COLUMNS <= (CK_MC + CK_NC) * CK_KC, "a gathered block past the buffer");

void CK_LEVEL(ck_sgemm_gathered)(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *const *aRows,
                                 const int32_t *aOffsets, const float *b, ptrdiff_t ldb, float beta, float *c,
                                 ptrdiff_t ldc, float *const *cRows) {
    CK_REQUIRE(CK_LEVEL_ISA, "ck_sgemm_gathered");
    if (cRows && (m <= 0 || n <= 0)) return;
    if (cRows && (k <= 0 || alpha == 0)) {
        // C = β·C row by row (ck_product_is_trivial scales a strided C).
        for (ptrdiff_t i = 0; i < m; i++) ck_scale(1, n, beta, cRows[i], n);
        return;
    }
    if (!cRows && ck_product_is_trivial(m, n, k, alpha, beta, c, ldc)) return;
    // B's block is copied into contiguous panels when more than four row tiles read it: its rows, often a
    // power of two apart (a layer's output channels), otherwise evict one another. With fewer, B is read in place, but for the last
    // columns (n not a multiple of NR), which are always copied, zero-padded.
    const int copy = m > 4 * CK_MR;
    float *packed = copy || n % CK_NR ? ck_packing_buffer() : NULL;
    for (ptrdiff_t jc = 0; jc < n; jc += CK_GATHER_COLUMNS) {
        const ptrdiff_t nc = n - jc < CK_GATHER_COLUMNS ? n - jc : CK_GATHER_COLUMNS;
        for (ptrdiff_t pc = 0; pc < k; pc += CK_GATHER_DEPTH) {
            const ptrdiff_t kc = k - pc < CK_GATHER_DEPTH ? k - pc : CK_GATHER_DEPTH;
            const float blockBeta = pc == 0 ? beta : 1;
            for (ptrdiff_t jr = 0; jr < nc; jr += CK_NR) {
                const ptrdiff_t columns = nc - jr < CK_NR ? nc - jr : CK_NR;
                if (copy || columns < CK_NR)
                    ck_copy_panel(b + pc * ldb + jc + jr, ldb, NULL, 0, columns, kc, packed + jr * kc);
            }
            for (ptrdiff_t ir = 0; ir < m; ir += CK_MR) {
                const ptrdiff_t rows = m - ir < CK_MR ? m - ir : CK_MR;
                for (ptrdiff_t jr = 0; jr < nc; jr += CK_NR) {
                    const ptrdiff_t columns = nc - jr < CK_NR ? nc - jr : CK_NR;
                    const int inPlace = !copy && columns == CK_NR;
                    ck_gathered_tile(kc, aRows + ir, aOffsets + pc, inPlace ? b + pc * ldb + jc + jr : packed + jr * kc,
                                     inPlace ? ldb : CK_NR, cRows ? NULL : c + ir * ldc + jc + jr, ldc,
                                     cRows ? cRows + ir : NULL, jc + jr, rows, columns, alpha, blockBeta);
                }
            }
        }
    }
}

#undef CK_MAX_ROWS

#pragma clang diagnostic pop
