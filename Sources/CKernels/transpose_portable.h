// Matrix transpose in portable C (clang's vector extensions; see ckernels.h), the AVX2 and generic levels of
// transpose.c. Not a header to include anywhere else: portable_avx2.c and portable_generic.c each build it
// once, having defined CK_LEVEL(name) (the level's suffix) and CK_LEVEL_ISA (the level it needs), the AVX2
// one under a `#pragma clang attribute` that gives every function here the target "avx2,fma".
//
// Whole 8 × 8 blocks are transposed in registers: each vector is loaded as two halves, columns 0–3 (or 4–7)
// of rows r and r + 4 (with AVX2 the upper half is an insert from memory, not a shuffle), so that a 4 × 4
// transpose within each half finishes the block: 16 shuffles for 64 elements. The edges (the last
// rows % 8 rows and columns % 8 columns) are copied element by element. Values are only moved, so the
// result is the same at every level.

// Built for baseline x86-64, a function that takes or returns an eight-lane vector warns that AVX would pass
// it differently, even when the function is static and always inlined (clang 21 checks every call): no call
// here crosses a translation unit, so the ABI is never in question.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpsabi"

#include "levels.h"
#include "cpu.h"
#include "vector.h"

#if !defined(CK_LEVEL) || !defined(CK_LEVEL_ISA)
#error "transpose_portable.h is built by portable_avx2.c and portable_generic.c, which define the level"
#endif

typedef float ck_transpose_f4 __attribute__((ext_vector_type(4)));

/// Eight floats: four at `low`, then four at `high`.
static inline __attribute__((always_inline)) ck_f8 ck_transpose_halves(const float *low, const float *high) {
    ck_transpose_f4 first, second;
    memcpy(&first, low, sizeof first);
    memcpy(&second, high, sizeof second);
    return __builtin_shufflevector(first, second, 0, 1, 2, 3, 4, 5, 6, 7);
}

/// Writes the transpose of the 8 × 8 block at `source` (rows `sourceStride` apart) to `destination`.
static inline __attribute__((always_inline)) void ck_transpose_block(const float *source, ptrdiff_t sourceStride,
                                                                     float *destination, ptrdiff_t destinationStride) {
    // v[4g + r]: columns 4g ..< 4g + 4 of row r in the lower half, of row r + 4 in the upper one.
    ck_f8 v[8];
    for (int g = 0; g < 2; g++)
        for (int r = 0; r < 4; r++)
            v[4 * g + r] =
                ck_transpose_halves(source + r * sourceStride + 4 * g, source + (r + 4) * sourceStride + 4 * g);
    // A 4 × 4 transpose in each half: destination row 4g + e is column 4g + e, rows 0–3 then rows 4–7.
    for (int g = 0; g < 2; g++) {
        ck_f8 t0 = __builtin_shufflevector(v[4 * g], v[4 * g + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        ck_f8 t1 = __builtin_shufflevector(v[4 * g], v[4 * g + 1], 2, 10, 3, 11, 6, 14, 7, 15);
        ck_f8 t2 = __builtin_shufflevector(v[4 * g + 2], v[4 * g + 3], 0, 8, 1, 9, 4, 12, 5, 13);
        ck_f8 t3 = __builtin_shufflevector(v[4 * g + 2], v[4 * g + 3], 2, 10, 3, 11, 6, 14, 7, 15);
        float *to = destination + 4 * g * destinationStride;
        ck_f8_store(to, __builtin_shufflevector(t0, t2, 0, 1, 8, 9, 4, 5, 12, 13));
        ck_f8_store(to + destinationStride, __builtin_shufflevector(t0, t2, 2, 3, 10, 11, 6, 7, 14, 15));
        ck_f8_store(to + 2 * destinationStride, __builtin_shufflevector(t1, t3, 0, 1, 8, 9, 4, 5, 12, 13));
        ck_f8_store(to + 3 * destinationStride, __builtin_shufflevector(t1, t3, 2, 3, 10, 11, 6, 7, 14, 15));
    }
}

void CK_LEVEL(ck_transpose_f32)(ptrdiff_t rows, ptrdiff_t columns, const float *source, ptrdiff_t sourceStride,
                                float *destination, ptrdiff_t destinationStride) {
    CK_REQUIRE(CK_LEVEL_ISA, "ck_transpose_f32");
    const ptrdiff_t wholeRows = rows & ~(ptrdiff_t)7, wholeColumns = columns & ~(ptrdiff_t)7;
    // A column of blocks at a time: destination rows are written from start to end (of 128 × 49, 64 × 196 and
    // 64 × 64 blocks, 15–30% faster than a row of blocks at a time, or two rows).
    for (ptrdiff_t j = 0; j < wholeColumns; j += 8)
        for (ptrdiff_t i = 0; i < wholeRows; i += 8)
            ck_transpose_block(source + i * sourceStride + j, sourceStride, destination + j * destinationStride + i,
                               destinationStride);
    // The edges element by element, the long side innermost: the last columns of every row (destination rows
    // written in order), then the last rows of the whole columns (source rows read in order).
    for (ptrdiff_t j = wholeColumns; j < columns; j++)
        for (ptrdiff_t i = 0; i < rows; i++) destination[j * destinationStride + i] = source[i * sourceStride + j];
    for (ptrdiff_t i = wholeRows; i < rows; i++)
        for (ptrdiff_t j = 0; j < wholeColumns; j++)
            destination[j * destinationStride + i] = source[i * sourceStride + j];
}

#pragma clang diagnostic pop
