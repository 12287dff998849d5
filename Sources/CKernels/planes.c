// im2col and col2im with AVX-512 permutes (see ckernels.h).
//
// A strided convolution's window reads every s-th element of a padded row: element by element that is a
// gather, about a cycle per element, and the DCGAN's largest cost outside the products. A padded row of
// up to 32 floats fits in two registers, loaded straight from the input row with a mask (the padding
// lanes read nothing and stay zero, so no padded copy is made); one two-source permute then picks the
// `Wo` elements of each kernel column, and a masked store writes them. col2im runs in reverse, one
// padded row at a time: the inverse permute spreads a row of column entries to their positions, a masked
// add accumulates them, and the row's interior is stored to the output.
#include "levels.h"
#include "cpu.h"

#if defined(__x86_64__)
#include <immintrin.h>


/// Lanes first..<end of a 16-lane register that starts at row position `base`.
static __mmask16 ck_lanes(ptrdiff_t base, ptrdiff_t first, ptrdiff_t end) {
    unsigned mask = 0;
    for (ptrdiff_t p = first; p < end; p++)
        if (p >= base && p < base + 16) mask |= 1u << (p - base);
    return (__mmask16)mask;
}

/// The lanes of a padded row (two registers) that hold input elements, and the lanes of an output row.
///
/// Padded row position p holds input column p − padLeft: a row is loaded from (or stored to) the input
/// row's start shifted back by padLeft with only these lanes enabled (masked-off lanes are not touched,
/// wherever they would point).
typedef struct { __mmask16 first, second, out; } ck_row_lanes;

static ck_row_lanes ck_row_lanes_of(const ck_columns_shape *s) {
    ptrdiff_t interiorEnd = s->padLeft + s->width;
    ck_row_lanes lanes = { ck_lanes(0, s->padLeft, interiorEnd), ck_lanes(16, s->padLeft, interiorEnd),
                           ck_lanes(0, 0, s->outWidth) };
    return lanes;
}

__attribute__((target("avx512f")))
void ck_im2col_f32_avx512(const float *input, const ck_columns_shape *s, float *columns) {
    CK_REQUIRE(CK_ISA_AVX512, "ck_im2col_f32");
    const ptrdiff_t kh = s->kernelHeight, kw = s->kernelWidth, oh = s->outHeight, ow = s->outWidth;
    const ck_row_lanes lanes = ck_row_lanes_of(s);
    __m512i pick[CK_COLUMNS_MAX_OUT];
    for (ptrdiff_t b = 0; b < kw; b++) {
        int index[16];
        for (int j = 0; j < 16; j++) index[j] = j < ow ? (int)(j * s->strideWidth + b * s->dilationWidth) : 0;
        pick[b] = _mm512_loadu_si512(index);
    }
    // Channel by channel, image by image: a row of the column matrix is then read (or written) from start
    // to end, a stream the prefetcher follows (col2im of the DCGAN's 64→128 layer 737 → 632 µs).
    for (ptrdiff_t c = 0; c < s->channels; c++) {
        for (ptrdiff_t t = 0; t < s->images; t++) {
            const float *plane = input + (t * s->imageChannels + c) * s->height * s->width;
            float *planeColumns = columns + t * oh * ow + c * kh * kw * s->rowStride;
            for (ptrdiff_t a = 0; a < kh; a++) {
                for (ptrdiff_t i = 0; i < oh; i++) {
                    ptrdiff_t h = i * s->strideHeight + a * s->dilationHeight - s->padTop;
                    __m512 low = _mm512_setzero_ps(), high = _mm512_setzero_ps();
                    if (h >= 0 && h < s->height) {
                        const float *row = plane + h * s->width - s->padLeft;
                        low = _mm512_maskz_loadu_ps(lanes.first, row);
                        high = _mm512_maskz_loadu_ps(lanes.second, row + 16);
                    }
                    float *to = planeColumns + a * kw * s->rowStride + i * ow;
                    for (ptrdiff_t b = 0; b < kw; b++)
                        _mm512_mask_storeu_ps(to + b * s->rowStride, lanes.out, _mm512_permutex2var_ps(low, pick[b], high));
                }
            }
        }
    }
}

__attribute__((target("avx512f")))
void ck_col2im_f32_avx512(const float *columns, const ck_columns_shape *s, float *output) {
    CK_REQUIRE(CK_ISA_AVX512, "ck_col2im_f32");
    const ptrdiff_t kh = s->kernelHeight, kw = s->kernelWidth, oh = s->outHeight, ow = s->outWidth;
    const ck_row_lanes lanes = ck_row_lanes_of(s);
    // For kernel column b: which entry j lands on padded position p = j·sw + b·dw, and which positions get one.
    __m512i spreadLow[CK_COLUMNS_MAX_OUT], spreadHigh[CK_COLUMNS_MAX_OUT];
    __mmask16 hitLow[CK_COLUMNS_MAX_OUT], hitHigh[CK_COLUMNS_MAX_OUT];
    for (ptrdiff_t b = 0; b < kw; b++) {
        int source[CK_COLUMNS_MAX_ROW] = {0};
        unsigned hits = 0;
        for (ptrdiff_t j = 0; j < ow; j++) {
            ptrdiff_t p = j * s->strideWidth + b * s->dilationWidth;
            source[p] = (int)j;
            hits |= 1u << p;
        }
        spreadLow[b] = _mm512_loadu_si512(source);
        spreadHigh[b] = _mm512_loadu_si512(source + 16);
        hitLow[b] = (__mmask16)(hits & 0xFFFF);
        hitHigh[b] = (__mmask16)(hits >> 16);
    }
    // A padded row of at most 16 lies in the first register: the second would only add zeros.
    const int wide = s->paddedWidth > 16;
    // Channel by channel, image by image: a row of the column matrix is then read (or written) from start
    // to end, a stream the prefetcher follows (col2im of the DCGAN's 64→128 layer 737 → 632 µs).
    for (ptrdiff_t c = 0; c < s->channels; c++) {
        for (ptrdiff_t t = 0; t < s->images; t++) {
            float *plane = output + (t * s->imageChannels + c) * s->height * s->width;
            const float *planeColumns = columns + t * oh * ow + c * kh * kw * s->rowStride;
            for (ptrdiff_t h = 0; h < s->height; h++) {
                // Padded row r = h + padTop collects output row i of kernel row a where i·sh + a·dh = r,
                // kernel rows in increasing order, as the caller's loops would add them.
                ptrdiff_t r = h + s->padTop;
                __m512 low = _mm512_setzero_ps(), high = _mm512_setzero_ps();
                for (ptrdiff_t a = 0; a < kh; a++) {
                    ptrdiff_t offset = r - a * s->dilationHeight;
                    if (offset < 0 || offset % s->strideHeight != 0 || offset / s->strideHeight >= oh) continue;
                    const float *from = planeColumns + a * kw * s->rowStride + (offset / s->strideHeight) * ow;
                    for (ptrdiff_t b = 0; b < kw; b++) {
                        __m512 row = _mm512_maskz_loadu_ps(lanes.out, from + b * s->rowStride);
                        low = _mm512_mask_add_ps(low, hitLow[b], low, _mm512_permutexvar_ps(spreadLow[b], row));
                        if (wide)
                            high = _mm512_mask_add_ps(high, hitHigh[b], high, _mm512_permutexvar_ps(spreadHigh[b], row));
                    }
                }
                float *to = plane + h * s->width - s->padLeft;
                _mm512_mask_storeu_ps(to, lanes.first, low);
                _mm512_mask_storeu_ps(to + 16, lanes.second, high);
            }
        }
    }
}

#endif
