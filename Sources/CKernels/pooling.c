// 2×2 max pooling at stride 2 with AVX-512 (see ckernels.h).
//
// Swift's loop compares the four elements of a window one window at a time (its column stride of 2 and
// 64-bit indices keep it from vectorising): about 8 cycles a window. Here 16 windows of a row go at once:
// two input rows of 32 floats are split into even and odd columns by permutes, compared in row-major
// order with the same rule, and the winners' offsets turned into 64-bit in-plane indices.
#include "levels.h"
#include "cpu.h"

#if defined(__x86_64__)
#include <immintrin.h>

/// `best`, `offset` updated by candidate `v` at in-window offset `at`: taken when larger or NaN.
#define CK_CONSIDER(v, at)                                                                                  \
    do {                                                                                                    \
        __mmask16 take = _mm512_cmp_ps_mask((v), best, _CMP_GT_OQ) | _mm512_cmp_ps_mask((v), (v), _CMP_UNORD_Q); \
        best = _mm512_mask_mov_ps(best, take, (v));                                                         \
        offset = _mm512_mask_mov_epi32(offset, take, (at));                                                 \
    } while (0)

__attribute__((target("avx512f")))
void ck_max_pool_2x2_f32_avx512(const float *x, ptrdiff_t planes, ptrdiff_t height, ptrdiff_t width,
                                ptrdiff_t outHeight, ptrdiff_t outWidth, float *values, long long *indices) {
    CK_REQUIRE(CK_ISA_AVX512, "ck_max_pool_2x2_f32");
    const __m512i evens = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odds = _mm512_add_epi32(evens, _mm512_set1_epi32(1));
    const __m512i right = _mm512_set1_epi32(1), below = _mm512_set1_epi32((int)width),
                  belowRight = _mm512_set1_epi32((int)width + 1);
    for (ptrdiff_t p = 0; p < planes; p++) {
        const float *plane = x + p * height * width;
        for (ptrdiff_t i = 0; i < outHeight; i++) {
            const float *top = plane + 2 * i * width, *bottom = top + width;
            ptrdiff_t k = (p * outHeight + i) * outWidth;
            for (ptrdiff_t j0 = 0; j0 < outWidth; j0 += 16) {
                ptrdiff_t count = outWidth - j0 < 16 ? outWidth - j0 : 16;
                // The 2·count input columns of these windows, in two registers (the rest masked off).
                ptrdiff_t inputs = 2 * count;
                __mmask16 low = (__mmask16)(inputs >= 16 ? 0xFFFF : (1u << inputs) - 1);
                __mmask16 high = (__mmask16)(inputs <= 16 ? 0 : (inputs >= 32 ? 0xFFFF : (1u << (inputs - 16)) - 1));
                __mmask16 out = (__mmask16)(count >= 16 ? 0xFFFF : (1u << count) - 1);
                const float *t = top + 2 * j0, *b = bottom + 2 * j0;
                __m512 t0 = _mm512_maskz_loadu_ps(low, t), t1 = _mm512_maskz_loadu_ps(high, t + 16);
                __m512 b0 = _mm512_maskz_loadu_ps(low, b), b1 = _mm512_maskz_loadu_ps(high, b + 16);
                __m512 best = _mm512_permutex2var_ps(t0, evens, t1);
                __m512i offset = _mm512_setzero_si512();
                __m512 v = _mm512_permutex2var_ps(t0, odds, t1);
                CK_CONSIDER(v, right);
                v = _mm512_permutex2var_ps(b0, evens, b1);
                CK_CONSIDER(v, below);
                v = _mm512_permutex2var_ps(b0, odds, b1);
                CK_CONSIDER(v, belowRight);
                _mm512_mask_storeu_ps(values + k + j0, out, best);
                if (indices) {
                    // In-plane index 2i·W + 2j + offset, widened to 64 bits eight lanes at a time.
                    __m512i index = _mm512_add_epi32(_mm512_add_epi32(evens, offset),   // evens: 2j in lane j
                                                     _mm512_set1_epi32((int)(2 * i * width + 2 * j0)));
                    _mm512_mask_storeu_epi64(indices + k + j0, (__mmask8)(out & 0xFF),
                                             _mm512_cvtepi32_epi64(_mm512_castsi512_si256(index)));
                    _mm512_mask_storeu_epi64(indices + k + j0 + 8, (__mmask8)(out >> 8),
                                             _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(index, 1)));
                }
            }
        }
    }
}

#endif
