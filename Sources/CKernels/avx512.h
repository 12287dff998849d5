#ifndef CKERNELS_AVX512_H
#define CKERNELS_AVX512_H
// AVX-512 helpers shared by the product (gemm.c) and the transpose (transpose.c); not part of the
// module's API.
#if defined(__x86_64__)
#include <immintrin.h>
#include <stddef.h>

/// The first `count` lanes of a 16-lane register (none for count ≤ 0, all for count ≥ 16).
static inline __mmask16 ck_first_lanes(ptrdiff_t count) {
    return count >= 16 ? (__mmask16)0xFFFF : count <= 0 ? (__mmask16)0 : (__mmask16)((1u << count) - 1);
}

/// Transposes a 16 × 16 block held as 16 rows: afterwards `rows[j]` lane `i` is what `rows[i]` lane `j` was.
///
/// Three rounds: interleave pairs of rows, then pairs of pairs within each 128-bit lane, then exchange
/// 128-bit lanes between groups of four rows.
__attribute__((target("avx512f"), always_inline))
static inline void ck_transpose_16x16(__m512 rows[16]) {
    __m512 t[16], u[16];
    for (int k = 0; k < 8; k++) {
        t[2 * k] = _mm512_unpacklo_ps(rows[2 * k], rows[2 * k + 1]);
        t[2 * k + 1] = _mm512_unpackhi_ps(rows[2 * k], rows[2 * k + 1]);
    }
    // u[4k + e], lane L: element 4L + e of rows 4k ..< 4k + 4.
    for (int k = 0; k < 4; k++) {
        u[4 * k] = _mm512_shuffle_ps(t[4 * k], t[4 * k + 2], 0x44);
        u[4 * k + 1] = _mm512_shuffle_ps(t[4 * k], t[4 * k + 2], 0xEE);
        u[4 * k + 2] = _mm512_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0x44);
        u[4 * k + 3] = _mm512_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0xEE);
    }
    for (int e = 0; e < 4; e++) {
        __m512 w0 = _mm512_shuffle_f32x4(u[e], u[4 + e], 0x88), w1 = _mm512_shuffle_f32x4(u[e], u[4 + e], 0xDD);
        __m512 w2 = _mm512_shuffle_f32x4(u[8 + e], u[12 + e], 0x88), w3 = _mm512_shuffle_f32x4(u[8 + e], u[12 + e], 0xDD);
        rows[e] = _mm512_shuffle_f32x4(w0, w2, 0x88);
        rows[8 + e] = _mm512_shuffle_f32x4(w0, w2, 0xDD);
        rows[4 + e] = _mm512_shuffle_f32x4(w1, w3, 0x88);
        rows[12 + e] = _mm512_shuffle_f32x4(w1, w3, 0xDD);
    }
}

#endif
#endif
