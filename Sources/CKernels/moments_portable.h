// Per-channel moments for batch normalisation in portable C (clang's vector extensions; see ckernels.h), the
// AVX2 and generic levels of moments.c. Not a header to include anywhere else: portable_avx2.c and
// portable_generic.c each build it once, having defined CK_LEVEL(name) (the level's suffix) and CK_LEVEL_ISA (the
// level it needs), the AVX2 one under a `#pragma clang attribute` that gives every function here the target
// "avx2,fma".
//
// The same routes as moments.c, four Double lanes at a time (one ymm register with AVX2, two SSE2 or NEON
// ones otherwise): [N, C] row by row, the sums of a tile of channels kept in memory; [N, C, inner] sample
// by sample, each run of a channel widened four floats at a time into two chains of Double sums, the last
// elements of a run (fewer than four) added one by one. The sums are in Double in this order, so they
// differ from the other levels' in the last bits only.

// Built for baseline x86-64, a function that takes or returns a four-lane Double vector warns that AVX would pass
// it differently, even when the function is static and always inlined (clang 21 checks every call): no call
// here crosses a translation unit, so the ABI is never in question.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpsabi"

#include "levels.h"
#include "cpu.h"
#include "vector.h"

#if !defined(CK_LEVEL) || !defined(CK_LEVEL_ISA)
#error "moments_portable.h is built by portable_avx2.c and portable_generic.c, which define CK_LEVEL and CK_LEVEL_ISA"
#endif

typedef float ck_moments_f4 __attribute__((ext_vector_type(4)));

/// Four floats widened to Double.
static inline __attribute__((always_inline)) ck_d4 ck_moments_widened(const float *x) {
    ck_moments_f4 v;
    memcpy(&v, x, sizeof v);
    return __builtin_convertvector(v, ck_d4);
}

static inline __attribute__((always_inline)) ck_d4 ck_moments_load(const double *x) {
    ck_d4 v;
    memcpy(&v, x, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) void ck_moments_store(double *x, ck_d4 v) { memcpy(x, &v, sizeof v); }

static inline __attribute__((always_inline)) double ck_moments_sum(ck_d4 v) { return (v.x + v.z) + (v.y + v.w); }

/// Adds four elements' terms to the sums: p − ps, and (p − ps)·(q − qs).
#define CK_MOMENTS_STEP(P, Q, FIRST, SECOND)                                                                \
    do {                                                                                                    \
        ck_d4 dp = ck_moments_widened(P) - ps, dq = ck_moments_widened(Q) - qs;                             \
        FIRST += dp;                                                                                        \
        SECOND = dp * dq + SECOND;                                                                          \
    } while (0)

void CK_LEVEL(ck_channel_moments_f32)(const float *p, const float *q, ptrdiff_t batch, ptrdiff_t channels,
                                      ptrdiff_t inner, ptrdiff_t start, ptrdiff_t count, const double *pShift,
                                      const double *qShift, double *firstSums, double *secondSums) {
    CK_REQUIRE(CK_LEVEL_ISA, "ck_channel_moments_f32");
    const ptrdiff_t end = start + count;
    if (inner == 1) {
        // [N, C]: row by row in memory order, four channels at a time, the sums kept in memory (a tile of 256
        // channels stays in L1).
        for (ptrdiff_t tile = start; tile < end; tile += 256) {
            const ptrdiff_t tileEnd = tile + 256 < end ? tile + 256 : end;
            for (ptrdiff_t n = 0; n < batch; n++) {
                const float *pRow = p + n * channels, *qRow = q + n * channels;
                ptrdiff_t c = tile;
                for (; c + 4 <= tileEnd; c += 4) {
                    const ck_d4 ps = pShift ? ck_moments_load(pShift + c) : (ck_d4)0, qs = ck_moments_load(qShift + c);
                    ck_d4 first = ck_moments_load(firstSums + c), second = ck_moments_load(secondSums + c);
                    CK_MOMENTS_STEP(pRow + c, qRow + c, first, second);
                    ck_moments_store(firstSums + c, first);
                    ck_moments_store(secondSums + c, second);
                }
                for (; c < tileEnd; c++) {
                    const double dp = (double)pRow[c] - (pShift ? pShift[c] : 0), dq = (double)qRow[c] - qShift[c];
                    firstSums[c] += dp;
                    secondSums[c] += dp * dq;
                }
            }
        }
        return;
    }
    // Sample by sample, a tile of channels' runs at a time, in memory order. Each channel's four-lane sums stay
    // in `sums` (a tile's fit in L1) and are added up across lanes at the end.
    enum { TILE = 128 };
    ck_d4 sums[2 * TILE];
    for (ptrdiff_t tile = start; tile < end; tile += TILE) {
        const ptrdiff_t channelsInTile = tile + TILE < end ? TILE : end - tile;
        for (ptrdiff_t k = 0; k < 2 * channelsInTile; k++) sums[k] = (ck_d4)0;
        for (ptrdiff_t n = 0; n < batch; n++) {
            for (ptrdiff_t k = 0; k < channelsInTile; k++) {
                const ptrdiff_t c = tile + k, run = (n * channels + c) * inner;
                const float *pRun = p + run, *qRun = q + run;
                const double pScalar = pShift ? pShift[c] : 0, qScalar = qShift[c];
                const ck_d4 ps = (ck_d4)pScalar, qs = (ck_d4)qScalar;
                // Two chains, so an addition does not wait on the one before it.
                ck_d4 first = sums[2 * k], second = sums[2 * k + 1], first2 = (ck_d4)0, second2 = (ck_d4)0;
                ptrdiff_t i = 0;
                for (; i + 8 <= inner; i += 8) {
                    CK_MOMENTS_STEP(pRun + i, qRun + i, first, second);
                    CK_MOMENTS_STEP(pRun + i + 4, qRun + i + 4, first2, second2);
                }
                if (i + 4 <= inner) {
                    CK_MOMENTS_STEP(pRun + i, qRun + i, first2, second2);
                    i += 4;
                }
                for (; i < inner; i++) {
                    const double dp = (double)pRun[i] - pScalar, dq = (double)qRun[i] - qScalar;
                    first2.x += dp;
                    second2.x += dp * dq;
                }
                sums[2 * k] = first + first2;
                sums[2 * k + 1] = second + second2;
            }
        }
        for (ptrdiff_t k = 0; k < channelsInTile; k++) {
            firstSums[tile + k] += ck_moments_sum(sums[2 * k]);
            secondSums[tile + k] += ck_moments_sum(sums[2 * k + 1]);
        }
    }
}

#undef CK_MOMENTS_STEP

#pragma clang diagnostic pop
