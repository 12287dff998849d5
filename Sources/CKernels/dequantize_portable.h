// The dequantisation of an 8-bit product's 32-bit sums into Float output planes, in portable C (clang's vector
// extensions; see ckernels.h): the AVX2 and generic levels, built by portable_avx2.c and portable_generic.c, and the
// AVX-512 one, built by dequantize.c. Not a header to include anywhere else; each includer defines CK_LEVEL(name)
// (the level's suffix) and CK_LEVEL_ISA (the level it needs).
//
// A quantised convolution's product leaves one row of sums per output position (the channels contiguous), while its
// output is one plane per channel. Eight positions by eight channels at a time are dequantised with the channels in
// the lanes, where the per-channel factors are one load each, then transposed in registers so each channel's eight
// positions leave in one store. With the 2 × 2 pooling fused, each lane first takes the maximum of its window's four
// sums: the map from sum to output is non-decreasing (positive scales, rounding is monotonic), so the maximum of the
// outputs is the output of the maximum, exactly, and only a quarter of the outputs are dequantised. Contraction is
// off, so every level rounds `scale·(sum − offset)` and then adds the shift, as Swift's dequantisation does, and
// gives the same result.

// Built for baseline x86-64, a function that takes or returns an eight-lane vector warns that AVX would pass it
// differently, even when the function is static and always inlined (clang 21 checks every call): no call here
// crosses a translation unit, so the ABI is never in question.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpsabi"

#include "levels.h"
#include "cpu.h"
#include "vector.h"

#if !defined(CK_LEVEL) || !defined(CK_LEVEL_ISA)
#error "dequantize_portable.h is built by portable_avx2.c, portable_generic.c and dequantize.c, which define the level"
#endif

/// The first `count` 32-bit integers at `p` (0 < count ≤ 8), the rest zero.
static inline __attribute__((always_inline)) ck_i8 ck_dequantize_load(const int32_t *p, ptrdiff_t count) {
    ck_i8 v = (ck_i8)0;
    // The whole vector as one constant-size copy (a plain load); only a partial one copies a variable size.
    if (count >= 8)
        memcpy(&v, p, sizeof v);
    else
        memcpy(&v, p, (size_t)count * sizeof(int32_t));
    return v;
}

/// The larger of `a` and `b` in each lane.
static inline __attribute__((always_inline)) ck_i8 ck_dequantize_max(ck_i8 a, ck_i8 b) { return a > b ? a : b; }

/// ck_dequantize_planes_s32 with `maxPool2x2` a constant after inlining, so the lanes' loop unrolls without a branch.
static inline __attribute__((always_inline)) void ck_dequantize_planes(int maxPool2x2, const int32_t *sums,
                                                                       ptrdiff_t sumStride, ptrdiff_t height,
                                                                       ptrdiff_t width, ptrdiff_t n, const float *scales,
                                                                       const int32_t *offsets, const float *shifts,
                                                                       float floor, float *planes) {
#pragma clang fp contract(off)
    const ptrdiff_t outWidth = maxPool2x2 ? width / 2 : width;
    const ptrdiff_t positions = (maxPool2x2 ? height / 2 : height) * outWidth;
    for (ptrdiff_t p0 = 0; p0 < positions; p0 += 8) {
        const ptrdiff_t lanes = positions - p0 < 8 ? positions - p0 : 8;
        // Each lane's row of sums (the first of its window's four when pooling); lanes past the end repeat the last.
        const int32_t *rows[8];
        for (ptrdiff_t l = 0; l < 8; l++) {
            const ptrdiff_t q = p0 + (l < lanes ? l : lanes - 1);
            const ptrdiff_t row = maxPool2x2 ? 2 * (q / outWidth) * width + 2 * (q % outWidth) : q;
            rows[l] = sums + row * sumStride;
        }
        for (ptrdiff_t j0 = 0; j0 < n; j0 += 8) {
            const ptrdiff_t channels = n - j0 < 8 ? n - j0 : 8;
            const ck_f8 scale = ck_f8_load_first(scales + j0, channels), shift = ck_f8_load_first(shifts + j0, channels);
            const ck_i8 offset = ck_dequantize_load(offsets + j0, channels);
            ck_f8 v[8];
#pragma clang loop unroll(full)
            for (int l = 0; l < 8; l++) {
                const int32_t *row = rows[l] + j0;
                ck_i8 s = ck_dequantize_load(row, channels);
                if (maxPool2x2) {
                    s = ck_dequantize_max(s, ck_dequantize_load(row + sumStride, channels));
                    s = ck_dequantize_max(s, ck_dequantize_load(row + width * sumStride, channels));
                    s = ck_dequantize_max(s, ck_dequantize_load(row + (width + 1) * sumStride, channels));
                }
                const ck_f8 y = __builtin_convertvector(s - offset, ck_f8) * scale + shift;
                v[l] = y < (ck_f8)floor ? (ck_f8)floor : y;
            }
            ck_f8_transpose(v);
            float *target = planes + j0 * positions + p0;
            if (channels == 8 && lanes == 8) {
#pragma clang loop unroll(full)
                for (int c = 0; c < 8; c++) ck_f8_store(target + c * positions, v[c]);
            } else {
                for (ptrdiff_t c = 0; c < channels; c++) ck_f8_store_first(target + c * positions, v[c], lanes);
            }
        }
    }
}

void CK_LEVEL(ck_dequantize_planes_s32)(const int32_t *sums, ptrdiff_t sumStride, ptrdiff_t height, ptrdiff_t width,
                                        ptrdiff_t n, const float *scales, const int32_t *offsets, const float *shifts,
                                        float floor, int maxPool2x2, float *planes) {
    CK_REQUIRE(CK_LEVEL_ISA, "ck_dequantize_planes_s32");
    if (maxPool2x2)
        ck_dequantize_planes(1, sums, sumStride, height, width, n, scales, offsets, shifts, floor, planes);
    else
        ck_dequantize_planes(0, sums, sumStride, height, width, n, scales, offsets, shifts, floor, planes);
}

#pragma clang diagnostic pop
