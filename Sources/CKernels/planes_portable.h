// im2col and col2im in portable C (clang's vector extensions; see ckernels.h), the AVX2 and generic levels of
// planes.c. Not a header to include anywhere else: portable_avx2.c and portable_generic.c each build it once,
// having defined CK_LEVEL(name) (the level's suffix) and CK_LEVEL_ISA (the level it needs), the AVX2 one under
// a `#pragma clang attribute` that gives every function here the target "avx2,fma".
//
// Without AVX-512's two-register permutes, the shift of a kernel column (b·dw, known only at run time) is
// taken by the loads: a vector is read from memory at the shifted position, and only the strides (1 and 2,
// the ones convolutions use) are picked by constant shuffles. Lanes that fall outside what they stand for
// (padding, or another output row) are zeroed by a mask made once per call, so loads may read past a row
// into its neighbours; near the ends of the memory the kernel may read, where such a load could leave it,
// the row is first copied into a zero-padded buffer on the stack. Stores likewise write whole vectors and
// run on into the next output row, which is written after it; only a row that ends where memory ends is
// stored lane by lane. Other strides go element by element through a padded row on the stack.
//
// im2col: for each input row read by kernel row a at output row i, kernel column b's `Wo` entries are the
// padded row's elements b·dw, b·dw + sw, b·dw + 2·sw, …: loaded at b·dw from the input row shifted back by
// padLeft, as they are (stride 1) or 16 floats per 8 entries, of which the even ones are kept (stride 2).
//
// col2im: an output row is summed in registers, in the order of the caller's loops (kernel rows a
// increasing, then kernel columns b, each adding its one entry per position), starting from zero; lanes
// with no entry add a zero, which changes no sum (a sum that starts at +0 is never −0), so the sums round as
// those of Im2Col.swift and planes.c. With stride 1, column b's entries for output columns w ..< w + 8 are the
// column row at w + padLeft − b·dw; with stride 2 the row is summed as its even and odd output columns (two
// accumulators of at most 16), column b's entries falling on one of them, shifted by ⌊(b·dw − padLeft) / 2⌋,
// and the two are interleaved at the end.

// Built for baseline x86-64, a function that takes or returns an eight-lane vector warns that AVX would pass
// it differently, even when the function is static and always inlined (clang 21 checks every call): no call
// here crosses a translation unit, so the ABI is never in question.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpsabi"

#include "levels.h"
#include "cpu.h"
#include "vector.h"

#if !defined(CK_LEVEL) || !defined(CK_LEVEL_ISA)
#error "planes_portable.h is built by portable_avx2.c and portable_generic.c, which define CK_LEVEL and CK_LEVEL_ISA"
#endif


typedef float ck_planes_f4 __attribute__((ext_vector_type(4)));
typedef float ck_planes_f2 __attribute__((ext_vector_type(2)));

/// `v` with the lanes off in `keep` zeroed.
static inline __attribute__((always_inline)) ck_f8 ck_planes_keep(ck_f8 v, ck_i8 keep) {
    return (ck_f8)((ck_i8)v & keep);
}

/// Stores the first `count` lanes (0 ≤ count ≤ 8) of `v` at `to`, the others not touched.
static inline __attribute__((always_inline)) void ck_planes_store_first(float *to, ck_f8 v, ptrdiff_t count) {
    if (count >= 8) {
        ck_f8_store(to, v);
        return;
    }
    if (count & 4) {
        ck_planes_f4 low = v.lo;
        memcpy(to, &low, sizeof low);
        to += 4;
        v = __builtin_shufflevector(v, v, 4, 5, 6, 7, 4, 5, 6, 7);
    }
    if (count & 2) {
        ck_planes_f2 low = v.lo.lo;
        memcpy(to, &low, sizeof low);
        to += 2;
        v = __builtin_shufflevector(v, v, 2, 3, 2, 3, 2, 3, 2, 3);
    }
    if (count & 1) to[0] = v.x;
}

/// Stores a row of `count` floats held in `v[0 ..< NV]`: whole vectors when `whole` (the lanes past `count`
/// land where later stores write), else lane by lane past the last whole vector.
static inline __attribute__((always_inline)) void ck_planes_store_row(float *to, const ck_f8 *v, const int NV,
                                                                      int whole, ptrdiff_t count) {
    for (int k = 0; k < NV; k++) {
        if (whole) ck_f8_store(to + 8 * k, v[k]);
        else ck_planes_store_first(to + 8 * k, v[k], count - 8 * k);
    }
}

/// ⌊offset / sh⌋: the output row i from which kernel row a reads padded row r when offset = r − a·dh = i·sh
/// (the caller checks that sh divides it); −1 for a negative offset. No division for strides 1 and 2.
static inline ptrdiff_t ck_planes_output_row(ptrdiff_t offset, ptrdiff_t sh) {
    if (offset < 0) return -1;
    return sh == 1 ? offset : sh == 2 ? offset >> 1 : offset / sh;
}

/// Copies `count` floats (0 ≤ count < 64) in pieces of fixed size: no call to memcpy in the loops, whose vector
/// registers a call would clobber.
static inline __attribute__((always_inline)) void ck_planes_copy(float *to, const float *from, ptrdiff_t count) {
    for (ptrdiff_t piece = 32; piece >= 1; piece /= 2) {
        if (count & piece) {
            switch (piece) {
            case 32: memcpy(to, from, 32 * sizeof(float)); break;
            case 16: memcpy(to, from, 16 * sizeof(float)); break;
            case 8: memcpy(to, from, 8 * sizeof(float)); break;
            case 4: memcpy(to, from, 4 * sizeof(float)); break;
            case 2: memcpy(to, from, 2 * sizeof(float)); break;
            default: to[0] = from[0]; break;
            }
            to += piece;
            from += piece;
        }
    }
}

/// The floor of n / 2, for n of either sign.
static inline ptrdiff_t ck_planes_half_down(ptrdiff_t n) { return n >= 0 ? n / 2 : -((1 - n) / 2); }

// MARK: - Element by element (strides of 3 and more)

static void ck_planes_im2col_any(const float *input, const ck_columns_shape *s, float *columns) {
    const ptrdiff_t kh = s->kernelHeight, kw = s->kernelWidth, oh = s->outHeight, ow = s->outWidth;
    const ptrdiff_t plane = s->height * s->width, segment = oh * ow;
    float padded[CK_COLUMNS_MAX_ROW] = {0};   // the padding stays zero: only the interior is rewritten
    for (ptrdiff_t c = 0; c < s->channels; c++) {
        for (ptrdiff_t t = 0; t < s->images; t++) {
            const float *image = input + (t * s->imageChannels + c) * plane;
            float *planeColumns = columns + t * segment + c * kh * kw * s->rowStride;
            for (ptrdiff_t a = 0; a < kh; a++) {
                for (ptrdiff_t i = 0; i < oh; i++) {
                    const ptrdiff_t h = i * s->strideHeight + a * s->dilationHeight - s->padTop;
                    float *to = planeColumns + a * kw * s->rowStride + i * ow;
                    if (h < 0 || h >= s->height) {
                        for (ptrdiff_t b = 0; b < kw; b++) memset(to + b * s->rowStride, 0, (size_t)ow * sizeof(float));
                        continue;
                    }
                    memcpy(padded + s->padLeft, image + h * s->width, (size_t)s->width * sizeof(float));
                    for (ptrdiff_t b = 0; b < kw; b++)
                        for (ptrdiff_t j = 0; j < ow; j++)
                            to[b * s->rowStride + j] = padded[j * s->strideWidth + b * s->dilationWidth];
                }
            }
        }
    }
}

static void ck_planes_col2im_any(const float *columns, const ck_columns_shape *s, float *output) {
    const ptrdiff_t kh = s->kernelHeight, kw = s->kernelWidth, oh = s->outHeight, ow = s->outWidth;
    const ptrdiff_t plane = s->height * s->width, segment = oh * ow;
    for (ptrdiff_t c = 0; c < s->channels; c++) {
        for (ptrdiff_t t = 0; t < s->images; t++) {
            float *image = output + (t * s->imageChannels + c) * plane;
            const float *planeColumns = columns + t * segment + c * kh * kw * s->rowStride;
            for (ptrdiff_t h = 0; h < s->height; h++) {
                const ptrdiff_t r = h + s->padTop;
                float sums[CK_COLUMNS_MAX_ROW] = {0};
                for (ptrdiff_t a = 0; a < kh; a++) {
                    const ptrdiff_t offset = r - a * s->dilationHeight;
                    if (offset < 0 || offset % s->strideHeight != 0 || offset / s->strideHeight >= oh) continue;
                    const float *from = planeColumns + a * kw * s->rowStride + (offset / s->strideHeight) * ow;
                    for (ptrdiff_t b = 0; b < kw; b++)
                        for (ptrdiff_t j = 0; j < ow; j++)
                            sums[j * s->strideWidth + b * s->dilationWidth] += from[b * s->rowStride + j];
                }
                memcpy(image + h * s->width, sums + s->padLeft, (size_t)s->width * sizeof(float));
            }
        }
    }
}

// MARK: - im2col, strides 1 and 2

/// im2col with horizontal stride `SW` (1 or 2) and `NV` vectors (1 or 2) per output row; constants where
/// it is called, so each pair is its own loop.
static inline __attribute__((always_inline)) void ck_planes_im2col_by(const float *input,
                                                                      const ck_columns_shape *shape, float *columns,
                                                                      const int SW, const int NV) {
    // A copy the stores cannot alias (they go through memcpy, which may alias anything).
    const ck_columns_shape local = *shape, *s = &local;
    const ptrdiff_t kh = s->kernelHeight, kw = s->kernelWidth, oh = s->outHeight, ow = s->outWidth;
    const ptrdiff_t width = s->width, padLeft = s->padLeft, dw = s->dilationWidth, rowStride = s->rowStride;
    const ptrdiff_t plane = s->height * width, segment = oh * ow;
    // Kernel column b loads SPAN floats from padded position b·dw; the input holds `inputs` floats from
    // `input` on (the planes of the last image past the range's channels are not the kernel's to read).
    const ptrdiff_t span = 8 * NV * SW, reach = (kw - 1) * dw + span;
    const ptrdiff_t inputs = ((s->images - 1) * s->imageChannels + s->channels) * plane;
    // keep[b][k] lane l: whether output column j = 8k + l of kernel column b reads the interior.
    ck_i8 keep[CK_COLUMNS_MAX_OUT][2];
    for (ptrdiff_t b = 0; b < kw; b++)
        for (int k = 0; k < NV; k++)
            for (int l = 0; l < 8; l++) {
                const ptrdiff_t j = 8 * k + l, position = j * SW + b * dw;
                keep[b][k][l] = j < ow && position >= padLeft && position < padLeft + width ? -1 : 0;
            }
    // A padded row for the rows whose loads could leave the input: zero but for the interior.
    float buffer[2 * CK_COLUMNS_MAX_ROW] = {0};
    const ck_f8 zeros[2] = { (ck_f8)0, (ck_f8)0 };
    // Channel by channel, image by image, as planes.c: a row of the column matrix is written from start to end.
    for (ptrdiff_t c = 0; c < s->channels; c++) {
        for (ptrdiff_t t = 0; t < s->images; t++) {
            const ptrdiff_t image = (t * s->imageChannels + c) * plane;
            float *planeColumns = columns + t * segment + c * kh * kw * rowStride;
            for (ptrdiff_t a = 0; a < kh; a++) {
                for (ptrdiff_t i = 0; i < oh; i++) {
                    const ptrdiff_t h = i * s->strideHeight + a * s->dilationHeight - s->padTop;
                    float *to = planeColumns + a * kw * rowStride + i * ow;
                    // Whole vectors run on into output rows i + 1, … of the same kernel offset and image.
                    const int whole = i * ow + 8 * NV <= segment;
                    if (h < 0 || h >= s->height) {
                        for (ptrdiff_t b = 0; b < kw; b++)
                            ck_planes_store_row(to + b * rowStride, zeros, NV, whole, ow);
                        continue;
                    }
                    const ptrdiff_t row = image + h * width;   // the row's first element, from `input`
                    const float *padded;
                    if (row - padLeft >= 0 && row - padLeft + reach <= inputs) {
                        padded = input + (row - padLeft);
                    } else {
                        ck_planes_copy(buffer + padLeft, input + row, width);
                        padded = buffer;
                    }
                    for (ptrdiff_t b = 0; b < kw; b++) {
                        const float *from = padded + b * dw;
                        ck_f8 v[2];
                        for (int k = 0; k < NV; k++) {
                            if (SW == 1) {
                                v[k] = ck_f8_load(from + 8 * k);
                            } else {
                                const ck_f8 first = ck_f8_load(from + 16 * k), second = ck_f8_load(from + 16 * k + 8);
                                v[k] = __builtin_shufflevector(first, second, 0, 2, 4, 6, 8, 10, 12, 14);
                            }
                            v[k] = ck_planes_keep(v[k], keep[b][k]);
                        }
                        ck_planes_store_row(to + b * rowStride, v, NV, whole, ow);
                    }
                }
            }
        }
    }
}

void CK_LEVEL(ck_im2col_f32)(const float *input, const ck_columns_shape *shape, float *columns) {
    CK_REQUIRE(CK_LEVEL_ISA, "ck_im2col_f32");
    const int wide = shape->outWidth > 8;
    switch (shape->strideWidth) {
    case 1:
        if (wide) ck_planes_im2col_by(input, shape, columns, 1, 2);
        else ck_planes_im2col_by(input, shape, columns, 1, 1);
        break;
    case 2:
        if (wide) ck_planes_im2col_by(input, shape, columns, 2, 2);
        else ck_planes_im2col_by(input, shape, columns, 2, 1);
        break;
    default: ck_planes_im2col_any(input, shape, columns); break;
    }
}

// MARK: - col2im, strides 1 and 2

/// col2im with horizontal stride `SW` (1 or 2); `NV` (1 to 4) vectors per output row, `NC` (1 or 2) per
/// parity with stride 2. Constants where it is called.
static inline __attribute__((always_inline)) void ck_planes_col2im_by(const float *columns,
                                                                      const ck_columns_shape *shape, float *output,
                                                                      const int SW, const int NV, const int NC) {
    // A copy the stores cannot alias (they go through memcpy, which may alias anything).
    const ck_columns_shape local = *shape, *s = &local;
    const ptrdiff_t kh = s->kernelHeight, kw = s->kernelWidth, oh = s->outHeight, ow = s->outWidth;
    const ptrdiff_t width = s->width, padLeft = s->padLeft, dw = s->dilationWidth, rowStride = s->rowStride;
    const ptrdiff_t plane = s->height * width, segment = oh * ow;
    // Kernel column b's loads: stride 1, vector k at its column row + start[b] + 8k; stride 2, vector k of
    // parity part[b] at start[b] + 8k. keep[b][k] lane l: whether that lane is one of the row's `ow` entries.
    ptrdiff_t start[CK_COLUMNS_MAX_OUT];
    int part[CK_COLUMNS_MAX_OUT];
    ck_i8 keep[CK_COLUMNS_MAX_OUT][4];
    const int loads = SW == 1 ? NV : NC;
    ptrdiff_t lowest = 0, highest = 0;
    for (ptrdiff_t b = 0; b < kw; b++) {
        const ptrdiff_t shift = b * dw - padLeft;   // output column w gets entry j = (w − shift) / SW
        start[b] = SW == 1 ? -shift : -ck_planes_half_down(shift);
        part[b] = (int)(shift & 1);
        for (int k = 0; k < loads; k++)
            for (int l = 0; l < 8; l++) {
                const ptrdiff_t j = start[b] + 8 * k + l;
                keep[b][k][l] = j >= 0 && j < ow ? -1 : 0;
            }
        if (b == 0 || start[b] < lowest) lowest = start[b];
        if (b == 0 || start[b] + 8 * loads > highest) highest = start[b] + 8 * loads;
    }
    // The column matrix holds `entries` floats from `columns` on; a row whose loads could leave it copies each
    // kernel column's row into `buffer` at 2·CK_COLUMNS_MAX_OUT, zeros around it.
    const ptrdiff_t entries = (s->channels * kh * kw - 1) * rowStride + s->images * segment;
    float buffer[6 * CK_COLUMNS_MAX_OUT] = {0};
    for (ptrdiff_t c = 0; c < s->channels; c++) {
        for (ptrdiff_t t = 0; t < s->images; t++) {
            float *image = output + (t * s->imageChannels + c) * plane;
            const ptrdiff_t planeColumns = t * segment + c * kh * kw * rowStride;
            for (ptrdiff_t h = 0; h < s->height; h++) {
                // Padded row r = h + padTop collects output row i of kernel row a where i·sh + a·dh = r, kernel
                // rows in increasing order, as the caller's loops add them.
                const ptrdiff_t r = h + s->padTop;
                ck_f8 sums[4] = { (ck_f8)0, (ck_f8)0, (ck_f8)0, (ck_f8)0 };   // stride 2: even, then odd
                for (ptrdiff_t a = 0; a < kh; a++) {
                    const ptrdiff_t i = ck_planes_output_row(r - a * s->dilationHeight, s->strideHeight);
                    if (i < 0) break;   // and every later kernel row
                    if (i >= oh || i * s->strideHeight != r - a * s->dilationHeight) continue;
                    const ptrdiff_t row = planeColumns + a * kw * rowStride + i * ow;
                    const int inside = row + lowest >= 0 && row + (kw - 1) * rowStride + highest <= entries;
                    for (ptrdiff_t b = 0; b < kw; b++) {
                        const float *from = columns + row + b * rowStride;
                        if (!inside) {
                            ck_planes_copy(buffer + 2 * CK_COLUMNS_MAX_OUT, from, ow);
                            from = buffer + 2 * CK_COLUMNS_MAX_OUT;
                        }
                        from += start[b];
                        for (int k = 0; k < loads; k++) {
                            const ck_f8 v = ck_planes_keep(ck_f8_load(from + 8 * k), keep[b][k]);
                            if (SW == 2 && part[b]) sums[2 + k] += v;   // the odd output columns' sums
                            else sums[k] += v;
                        }
                    }
                }
                ck_f8 out[4];
                if (SW == 1) {
                    for (int k = 0; k < NV; k++) out[k] = sums[k];
                } else {
                    // Output column 2m + e is lane m of sums[2e + ...]: even and odd interleaved.
                    for (int k = 0; k < NV; k++) {
                        const ck_f8 even = sums[k / 2], odd = sums[2 + k / 2];
                        out[k] = k % 2 == 0 ? __builtin_shufflevector(even, odd, 0, 8, 1, 9, 2, 10, 3, 11)
                                            : __builtin_shufflevector(even, odd, 4, 12, 5, 13, 6, 14, 7, 15);
                    }
                }
                // Whole vectors run on into rows h + 1, … of the plane, written after this one.
                ck_planes_store_row(image + h * width, out, NV, h * width + 8 * NV <= plane, width);
            }
        }
    }
}

void CK_LEVEL(ck_col2im_f32)(const float *columns, const ck_columns_shape *shape, float *output) {
    CK_REQUIRE(CK_LEVEL_ISA, "ck_col2im_f32");
    const ptrdiff_t width = shape->width;
    switch (shape->strideWidth) {
    case 1:
        switch ((width + 7) / 8) {
        case 1: ck_planes_col2im_by(columns, shape, output, 1, 1, 1); break;
        case 2: ck_planes_col2im_by(columns, shape, output, 1, 2, 1); break;
        case 3: ck_planes_col2im_by(columns, shape, output, 1, 3, 1); break;
        default: ck_planes_col2im_by(columns, shape, output, 1, 4, 1); break;
        }
        break;
    case 2:
        // Output columns w < width: ⌈width / 2⌉ of each parity at most.
        switch ((width + 7) / 8) {
        case 1: ck_planes_col2im_by(columns, shape, output, 2, 1, 1); break;
        case 2: ck_planes_col2im_by(columns, shape, output, 2, 2, 1); break;
        case 3: ck_planes_col2im_by(columns, shape, output, 2, 3, 2); break;
        default: ck_planes_col2im_by(columns, shape, output, 2, 4, 2); break;
        }
        break;
    default: ck_planes_col2im_any(columns, shape, output); break;
    }
}

#pragma clang diagnostic pop
