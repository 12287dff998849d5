// 2×2 max pooling at stride 2 in portable C (clang's vector extensions; see ckernels.h), the AVX2 and generic
// levels of pooling.c. Not a header to include anywhere else: portable_avx2.c and portable_generic.c each build
// it once, having defined CK_LEVEL(name) (the level's suffix) and CK_LEVEL_ISA (the level it needs), the AVX2
// one under a `#pragma clang attribute` that gives every function here the target "avx2,fma".
//
// Eight windows of a row at a time: 16 floats of each input row are split into even and odd columns by one
// shuffle each (in the order AVX2's in-lane shuffle leaves them: windows 0, 1, 4, 5, 2, 3, 6, 7, put back in
// order once at the end), compared in row-major order with the rule of pooling.c (a candidate replaces the
// maximum when larger or NaN), and the winners' offsets turned into 64-bit in-plane indices. The last
// windows of a row (fewer than eight) go the same way with whole loads and stores that run on into the
// next output row, which is written after it; only where that would leave the input or the output are they
// done one by one. Values are only moved, so the result is the same at every level.

// Built for baseline x86-64, a function that takes or returns an eight-lane vector warns that AVX would pass
// it differently, even when the function is static and always inlined (clang 21 checks every call): no call
// here crosses a translation unit, so the ABI is never in question.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpsabi"

#include "levels.h"
#include "cpu.h"
#include "vector.h"

#if !defined(CK_LEVEL) || !defined(CK_LEVEL_ISA)
#error "pooling_portable.h is built by portable_avx2.c and portable_generic.c, which define CK_LEVEL and CK_LEVEL_ISA"
#endif

typedef unsigned ck_pooling_u32x8 __attribute__((ext_vector_type(8)));
typedef unsigned long long ck_pooling_u64x8 __attribute__((ext_vector_type(8)));

/// `best`, `offset` updated by candidate `v` at in-window offset `at`: taken when larger or NaN.
#define CK_POOLING_CONSIDER(v, at)                                                                          \
    do {                                                                                                    \
        const ck_i8 take = ((v) > best) | ((v) != (v));                                                     \
        best = take ? (v) : best;                                                                           \
        offset = take ? (at) : offset;                                                                      \
    } while (0)

/// Windows `first ..< end` of one output row, one at a time (the same rule). Not inlined: it runs at most once
/// per call, and inlined it crowded the vector loop's registers.
__attribute__((noinline)) static void ck_pooling_windows(const float *top, ptrdiff_t width, ptrdiff_t first,
                                                         ptrdiff_t end, ptrdiff_t rowIndex, float *values,
                                                         long long *indices) {
    const float *bottom = top + width;
    for (ptrdiff_t j = first; j < end; j++) {
        const float candidates[4] = { top[2 * j], top[2 * j + 1], bottom[2 * j], bottom[2 * j + 1] };
        const ptrdiff_t offsets[4] = { 0, 1, width, width + 1 };
        float best = candidates[0];
        ptrdiff_t at = 0;
        for (int e = 1; e < 4; e++)
            if (candidates[e] > best || candidates[e] != candidates[e]) {
                best = candidates[e];
                at = offsets[e];
            }
        values[j] = best;
        if (indices) indices[j] = rowIndex + 2 * j + at;
    }
}

/// Eight windows from the input rows at `top` and `bottom` (16 floats each): their maxima at `values`, and
/// when `indices` is not NULL their in-plane indices, `base` + 2j + the offset in window j.
static inline __attribute__((always_inline)) void ck_pooling_eight(const float *top, const float *bottom,
                                                                   ptrdiff_t width, int base, float *values,
                                                                   long long *indices) {
    const ck_f8 t0 = ck_f8_load(top), t1 = ck_f8_load(top + 8), b0 = ck_f8_load(bottom), b1 = ck_f8_load(bottom + 8);
    // Windows in lane order 0, 1, 4, 5, 2, 3, 6, 7.
    ck_f8 best = __builtin_shufflevector(t0, t1, 0, 2, 8, 10, 4, 6, 12, 14);
    ck_i8 offset = (ck_i8)0;
    ck_f8 v = __builtin_shufflevector(t0, t1, 1, 3, 9, 11, 5, 7, 13, 15);
    CK_POOLING_CONSIDER(v, (ck_i8)1);
    v = __builtin_shufflevector(b0, b1, 0, 2, 8, 10, 4, 6, 12, 14);
    CK_POOLING_CONSIDER(v, (ck_i8)(int)width);
    v = __builtin_shufflevector(b0, b1, 1, 3, 9, 11, 5, 7, 13, 15);
    CK_POOLING_CONSIDER(v, (ck_i8)(int)(width + 1));
    ck_f8_store(values, __builtin_shufflevector(best, best, 0, 1, 4, 5, 2, 3, 6, 7));
    if (indices) {
        const ck_i8 columns = { 0, 2, 4, 6, 8, 10, 12, 14 };
        const ck_i8 index = __builtin_shufflevector(offset, offset, 0, 1, 4, 5, 2, 3, 6, 7) + columns + (ck_i8)base;
        // Below 2³¹ (dispatch.c sends larger planes elsewhere): widened as unsigned, the cheaper widening.
        const ck_pooling_u64x8 wide = __builtin_convertvector((ck_pooling_u32x8)index, ck_pooling_u64x8);
        memcpy(indices, &wide, sizeof wide);
    }
}

void CK_LEVEL(ck_max_pool_2x2_f32)(const float *x, ptrdiff_t planes, ptrdiff_t height, ptrdiff_t width,
                                   ptrdiff_t outHeight, ptrdiff_t outWidth, float *values, long long *indices) {
    CK_REQUIRE(CK_LEVEL_ISA, "ck_max_pool_2x2_f32");
    const ptrdiff_t whole = outWidth & ~(ptrdiff_t)7, rows = planes * outHeight;
    // The last windows of a row load 16 floats from each input row and store 8 windows, running on into the
    // next rows; in the rows after `lastSafe` they would leave x (its last input row) or the output (its last row).
    ptrdiff_t lastSafe = rows - 1;
    if (whole < outWidth) {
        while (lastSafe >= 0) {
            const ptrdiff_t p = lastSafe / outHeight, i = lastSafe % outHeight;
            if ((p * height + 2 * i + 1) * width + 2 * whole + 16 <= planes * height * width
                && lastSafe * outWidth + whole + 8 <= rows * outWidth)
                break;
            lastSafe--;
        }
    }
    ptrdiff_t row = 0;   // output row p·outHeight + i
    for (ptrdiff_t p = 0; p < planes; p++) {
        const float *plane = x + p * height * width;
        for (ptrdiff_t i = 0; i < outHeight; i++, row++) {
            const float *top = plane + 2 * i * width, *bottom = top + width;
            float *rowValues = values + row * outWidth;
            long long *rowIndices = indices ? indices + row * outWidth : NULL;
            const int rowIndex = (int)(2 * i * width);
            for (ptrdiff_t j = 0; j < whole; j += 8)
                ck_pooling_eight(top + 2 * j, bottom + 2 * j, width, rowIndex + 2 * (int)j, rowValues + j,
                                 rowIndices ? rowIndices + j : NULL);
            if (whole == outWidth) continue;
            if (row <= lastSafe)
                ck_pooling_eight(top + 2 * whole, bottom + 2 * whole, width, rowIndex + 2 * (int)whole,
                                 rowValues + whole, rowIndices ? rowIndices + whole : NULL);
            else
                ck_pooling_windows(top, width, whole, outWidth, rowIndex, rowValues, rowIndices);
        }
    }
}

#undef CK_POOLING_CONSIDER

#pragma clang diagnostic pop
