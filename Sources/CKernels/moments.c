// Per-channel moments for batch normalisation, with AVX-512 (see ckernels.h).
//
// Swift's baseline code (SSE2) kept the eight Double lanes of its sums in four registers each and spilled
// them: about a cycle per element, BatchNorm's sums 4.5% of the DCGAN step. Here a run of a channel's
// elements (49 of them in the discriminator) is widened eight at a time into two chains of Double sums,
// runs in memory order: 3.2% of the step, waiting on memory.
#include "levels.h"
#include "cpu.h"

#if defined(__x86_64__)
#include <immintrin.h>

/// The first `n` (≤ 8) lanes.
static __mmask8 ck_lanes8(ptrdiff_t n) { return n >= 8 ? 0xFF : (__mmask8)((1u << n) - 1); }

// Masked loads and stores only where lanes are missing: with data not in cache, masked loads of eight whole
// lanes ran these sums at 5.5 GB/s, plain loads at 26 (the DCGAN's [64, 128, 7, 7]: 289 → 61 µs).

/// Eight floats (the first `lanes`, the rest 0) widened to Double.
__attribute__((target("avx512f"), always_inline))
static inline __m512d ck_widened(const float *x, __mmask8 lanes) {
    if (lanes == 0xFF) return _mm512_cvtps_pd(_mm256_loadu_ps(x));
    return _mm512_cvtps_pd(_mm512_castps512_ps256(_mm512_maskz_loadu_ps((__mmask16)lanes, x)));
}

/// Eight doubles (the first `lanes`, the rest 0).
__attribute__((target("avx512f"), always_inline))
static inline __m512d ck_load8(const double *x, __mmask8 lanes) {
    return lanes == 0xFF ? _mm512_loadu_pd(x) : _mm512_maskz_loadu_pd(lanes, x);
}

/// Stores the first `lanes` of `v`.
__attribute__((target("avx512f"), always_inline))
static inline void ck_store8(double *x, __mmask8 lanes, __m512d v) {
    if (lanes == 0xFF) _mm512_storeu_pd(x, v);
    else _mm512_mask_storeu_pd(x, lanes, v);
}

/// Adds eight (or the first `LANES`) elements' terms to the sums: p − ps, and (p − ps)·(q − qs).
#define CK_MOMENT_STEP(P, Q, LANES, FIRST, SECOND)                                                          \
    do {                                                                                                    \
        __m512d dp = _mm512_maskz_sub_pd((LANES), ck_widened((P), (LANES)), ps);                            \
        __m512d dq = _mm512_sub_pd(ck_widened((Q), (LANES)), qs);                                           \
        FIRST = _mm512_add_pd(FIRST, dp);                                                                   \
        SECOND = _mm512_fmadd_pd(dp, dq, SECOND);                                                           \
    } while (0)

__attribute__((target("avx512f,fma")))
void ck_channel_moments_f32_avx512(const float *p, const float *q, ptrdiff_t batch, ptrdiff_t channels, ptrdiff_t inner,
                                   ptrdiff_t start, ptrdiff_t count, const double *pShift, const double *qShift,
                                   double *firstSums, double *secondSums) {
    CK_REQUIRE(CK_ISA_AVX512, "ck_channel_moments_f32");
    if (inner == 1) {
        // [N, C]: row by row in memory order, eight channels at a time, the sums kept in memory (a tile of
        // 256 channels stays in L1).
        for (ptrdiff_t tile = start; tile < start + count; tile += 256) {
            const ptrdiff_t tileEnd = tile + 256 < start + count ? tile + 256 : start + count;
            for (ptrdiff_t n = 0; n < batch; n++) {
                const float *pRow = p + n * channels, *qRow = q + n * channels;
                for (ptrdiff_t c = tile; c < tileEnd; c += 8) {
                    const __mmask8 lanes = ck_lanes8(tileEnd - c);
                    const __m512d ps = pShift ? ck_load8(pShift + c, lanes) : _mm512_setzero_pd();
                    const __m512d qs = ck_load8(qShift + c, lanes);
                    __m512d first = ck_load8(firstSums + c, lanes), second = ck_load8(secondSums + c, lanes);
                    CK_MOMENT_STEP(pRow + c, qRow + c, lanes, first, second);
                    ck_store8(firstSums + c, lanes, first);
                    ck_store8(secondSums + c, lanes, second);
                }
            }
        }
        return;
    }
    // Sample by sample, a tile of channels' runs at a time, in memory order (channel by channel, every
    // sample's run of a channel was a jump of C runs: 11 GB/s). Each channel's eight-lane sums stay in
    // `sums` (a tile's fit in L1) and are added up across lanes at the end.
    enum { TILE = 128 };
    __m512d sums[2 * TILE];
    for (ptrdiff_t tile = start; tile < start + count; tile += TILE) {
        const ptrdiff_t channelsInTile = tile + TILE < start + count ? TILE : start + count - tile;
        for (ptrdiff_t k = 0; k < 2 * channelsInTile; k++) sums[k] = _mm512_setzero_pd();
        for (ptrdiff_t n = 0; n < batch; n++) {
            for (ptrdiff_t k = 0; k < channelsInTile; k++) {
                const ptrdiff_t c = tile + k, run = (n * channels + c) * inner;
                const float *pRun = p + run, *qRun = q + run;
                const __m512d ps = _mm512_set1_pd(pShift ? pShift[c] : 0), qs = _mm512_set1_pd(qShift[c]);
                // Two chains, so an addition does not wait on the one before it.
                __m512d first = sums[2 * k], second = sums[2 * k + 1];
                __m512d first2 = _mm512_setzero_pd(), second2 = _mm512_setzero_pd();
                ptrdiff_t i = 0;
                for (; i + 16 <= inner; i += 16) {
                    CK_MOMENT_STEP(pRun + i, qRun + i, 0xFF, first, second);
                    CK_MOMENT_STEP(pRun + i + 8, qRun + i + 8, 0xFF, first2, second2);
                }
                for (; i < inner; i += 8) CK_MOMENT_STEP(pRun + i, qRun + i, ck_lanes8(inner - i), first2, second2);
                sums[2 * k] = _mm512_add_pd(first, first2);
                sums[2 * k + 1] = _mm512_add_pd(second, second2);
            }
        }
        for (ptrdiff_t k = 0; k < channelsInTile; k++) {
            firstSums[tile + k] += _mm512_reduce_add_pd(sums[2 * k]);
            secondSums[tile + k] += _mm512_reduce_add_pd(sums[2 * k + 1]);
        }
    }
}

#endif
