#ifndef CKERNELS_H
#define CKERNELS_H
// Loops that Swift's baseline x86-64 code (SSE2, four Float lanes) runs slowly: the optimisers' elementwise
// loops, a Float matrix product with in-place, gathered and by-row operands, a transpose, im2col/col2im,
// BatchNorm's moments, 2×2 max pooling, attention's softmax rows, layer/RMS normalisation of rows, GELU, the LSTM
// step's gates (forward and backward) and the exact int8 product. Every kernel exists at three instruction-set levels — AVX-512,
// AVX2 + FMA, and generic C that the compiler vectorises for any target (aarch64 included) — and every entry
// point below runs at this thread's active level (``ck_isa_active``), chosen in one place (cpu.c) from the
// CPU's features, the `AUTOGRAD_ISA` cap and a thread's own cap. The AVX-512 code is written with
// intrinsics (gemm.c, planes.c, transpose.c, moments.c, pooling.c); the other two levels are one portable
// source per family (*_portable.h, clang's vector extensions), all built twice (portable_avx2.c,
// portable_generic.c). The attention rows, row norms and activations have no intrinsics: their portable source is
// built a third time with the AVX-512 target (attention.c, rownorm.c, activation.c); the activations take their vector
// width from the level (CK_ACT_LANES). The int8 product (int8.c) is written with intrinsics at AVX2 and AVX-512 and in
// plain C for generic.
//
// Swift has no way to build one function for several instruction sets. The optimiser loops divide and
// take square roots per element, and the divider and square-root unit are four times as wide with
// AVX-512; each is written once per element type by a macro in kernels.c and built at each level, with
// floating-point contraction off, so every level rounds like the others (and like the Swift code they
// replaced). im2col/col2im move and add the same values in the same order as Im2Col.swift's loops, and the
// transpose and pooling only move values: their results do not depend on the level. The product and the
// moments sum in their own order at each level, like any BLAS.
#include <stddef.h>
#include <stdint.h>

/// Instruction-set levels, lowest first.
enum { CK_ISA_GENERIC = 0, CK_ISA_AVX2 = 1, CK_ISA_AVX512 = 2 };

/// The highest level this CPU runs: AVX-512 (F, BW, DQ, VL), AVX2 with FMA, or generic; generic off x86-64.
int ck_isa_supported(void);

/// The highest level this process uses: ``ck_isa_supported`` capped by the environment variable
/// `AUTOGRAD_ISA` (`avx512`, `avx2` or `generic`, read once; any other value stops the process with a
/// message).
int ck_isa_available(void);

/// The level the kernels use on the calling thread: ``ck_isa_available`` capped by the thread's cap
/// (``ck_isa_set_thread_cap``).
int ck_isa_active(void);

/// Sets the calling thread's cap (−1: none) and returns the previous one. Caps above the CPU's level change
/// nothing. Swift's thread pool hands the submitting thread's cap to the threads that run its parts.
int ck_isa_set_thread_cap(int level);

/// The calling thread's cap, −1 when none.
int ck_isa_thread_cap(void);

/// Turns the 8-bit product's VNNI kernel off (nonzero) or back on (0) on the calling thread and returns the previous
/// setting, so the AVX-512 level's vpmaddwd route can be tested on a CPU with VNNI. Swift's thread pool hands it on
/// with the cap.
int ck_vnni_set_thread_disabled(int disabled);

/// Whether the calling thread has VNNI turned off (``ck_vnni_set_thread_disabled``).
int ck_vnni_thread_disabled(void);

/// Marks the calling thread as running a part of one of Swift's thread-pool jobs (nonzero) or not (0) and returns
/// the previous mark. Swift keeps it here because it has no thread-local storage of its own: a matrix product asks
/// whether it runs inside a split loop (it then runs whole on its thread) without asking whether the pool is free,
/// which depends on what other threads do.
int ck_thread_set_in_pool_part(int inPart);

/// Whether the calling thread runs a part of a thread-pool job (``ck_thread_set_in_pool_part``).
int ck_thread_in_pool_part(void);

/// The level's name: `"avx512"`, `"avx2"` or `"generic"`.
const char *ck_isa_name(int level);

/// The level a name (any case) stands for, −1 for none.
int ck_isa_parse(const char *name);

/// One Adam/AdamW step over `n` elements, in place (see Optim's AdamKernel for the rule):
///
///     g' = g + coupledDecay·θ
///     m ← flush(m + (1 − β₁)(g' − m));   v ← flush(β₂v + (1 − β₂)g'²)
///     v̂ ← max(v̂, v)   (when maxSecond is not NULL; the denominator then uses v̂)
///     θ ← θ − stepSize · m / (√v + scaledEps)
///
/// flush(x) is 0 for subnormal x. The buffers must not overlap.
void ck_adam_f32(float *parameter, const float *gradient, float *first, float *second, float *maxSecond,
                 ptrdiff_t n, float beta1, float beta2, float stepSize, float scaledEps, float coupledDecay);
void ck_adam_f64(double *parameter, const double *gradient, double *first, double *second, double *maxSecond,
                 ptrdiff_t n, double beta1, double beta2, double stepSize, double scaledEps, double coupledDecay);

/// Per-channel moments of a contiguous `[batch, channels, inner]` Float tensor, for batch normalisation: for
/// each channel c in `start..<start + count`, `firstSums[c] += Σ (p − ps_c)` and `secondSums[c] += Σ (p − ps_c)·
/// (q − qs_c)` over the channel's `batch·inner` elements of `p` and `q` (the same positions), in Double, with
/// `ps = pShift` (0 when NULL) and `qs = qShift`.
void ck_channel_moments_f32(const float *p, const float *q, ptrdiff_t batch, ptrdiff_t channels, ptrdiff_t inner,
                           ptrdiff_t start, ptrdiff_t count, const double *pShift, const double *qShift,
                           double *firstSums, double *secondSums);

/// The shape of an im2col/col2im over a range of images, for the kernels below. The column matrix has one
/// row per (channel c, kernel row a, kernel column b), `rowStride` apart, and in each row `outHeight·outWidth`
/// entries per image; `paddedWidth = padLeft + width + padRight`. The images have `imageChannels` planes each,
/// of which the kernels cover the first `channels` (the caller points at a block's first plane).
typedef struct {
    ptrdiff_t images, channels, imageChannels, height, width;
    ptrdiff_t padTop, padLeft, paddedWidth;
    ptrdiff_t kernelHeight, kernelWidth, outHeight, outWidth;
    ptrdiff_t strideHeight, strideWidth, dilationHeight, dilationWidth;
    ptrdiff_t rowStride;
} ck_columns_shape;

/// Whether ``ck_im2col_f32`` and ``ck_col2im_f32`` take this shape: a padded row of at most 32, an output row
/// of at most 16 and a kernel at most 16 wide (at every level).
int ck_columns_vectorized(const ck_columns_shape *shape);

/// im2col (AVX-512: permutes of whole padded rows): entry (c·kH·kW + a·kW + b, image t, i·Wo + j) of `columns` gets
/// `input[t, c, i·sh − padTop + a·dh, j·sw − padLeft + b·dw]`, or 0 in the padding. `input` and `columns`
/// point at the range's first image. Only for shapes that ``ck_columns_vectorized`` accepts. Float only.
void ck_im2col_f32(const float *input, const ck_columns_shape *shape, float *columns);

/// The adjoint of ``ck_im2col_f32``: every element of `output` (the range's images) gets the sum of the
/// column entries copied from it, added in kernel-offset order (the order of the caller's own loops, so the
/// sums round the same); entries from padding are dropped. Only for shapes that ``ck_columns_vectorized``
/// accepts.
void ck_col2im_f32(const float *columns, const ck_columns_shape *shape, float *output);

/// 2×2 max pooling at stride 2 without padding: for planes `0..<planes` of `x` (`height × width`
/// each), `values[p, i, j]` = the maximum of `x[p, 2i + r, 2j + q]` over r, q ∈ {0, 1}, and (when `indices` is not
/// NULL) `indices[p, i, j]` its in-plane index. Elements are compared in row-major order and one replaces the
/// maximum when it is larger or NaN: the first of tied maxima wins and NaN propagates (the rule of the Swift
/// kernel, and PyTorch's). Returns 0 without writing when a plane has 2³¹ elements or more (indices are
/// computed in 32 bits). Float only.
int ck_max_pool_2x2_f32(const float *x, ptrdiff_t planes, ptrdiff_t height, ptrdiff_t width, ptrdiff_t outHeight,
                        ptrdiff_t outWidth, float *values, long long *indices);

/// Whether ``ck_sgemm`` packs its operands for this product (large products), rather than reading them in
/// place (small ones with `b` untransposed) or as dot products (A·Bᵀ with few outputs and a long inner
/// dimension). Where it does not pack it outruns OpenBLAS, which packs every product. The same rule at
/// every level.
int ck_sgemm_packs(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k);

/// `c = α·op(a)·op(b) + β·c` for row-major Float matrices, on the calling thread: `op(a)` is
/// `[m, k]` (`a` is `[k, m]` when `transA` is nonzero), `op(b)` is `[k, n]` (`b` is `[n, k]` when `transB`
/// is nonzero), `c` is `[m, n]`; `lda`, `ldb`, `ldc` are the row strides. β = 0 does not read `c`.
void ck_sgemm(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a,
              ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc);

/// `c[i·ldc + j] = Σₚ a[i·lda + p]·b[j·ldb + p]` (p < k) for unsigned bytes `a` (`[m, k]`) and signed bytes `b`
/// (`[n, k]`, one row per output), exactly in 32-bit integers for every byte value while `k·255·128 < 2³¹`
/// (k ≤ 65 793): the product of dynamically quantised activations (u8 with a zero point) and symmetric int8
/// weights. AVX2 and AVX-512 widen to 16 bits and use vpmaddwd (vpmaddubsw would saturate its pair sums);
/// where the CPU has AVX-512 VNNI the AVX-512 level uses vpdpbusd; AVX2 and AVX-512 run depths up to 16 (shallow
/// convolutions) as outer products. Every level gives the same result.
void ck_gemm_u8s8s32(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint8_t *a, ptrdiff_t lda, const int8_t *b,
                     ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc);

/// ``ck_gemm_u8s8s32`` for `a` below 128 (7-bit activation codes, PyTorch's `reduce_range`), the same exact sums:
/// AVX2 and AVX-512 without VNNI then multiply bytes as they are with vpmaddubsw, whose 16-bit pair sums cannot
/// saturate (2·127·128 < 2¹⁵), twice the products per instruction of widening to 16 bits. A byte of 128 or more in
/// `a` gives wrong sums at those levels.
void ck_gemm_u7s8s32(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint8_t *a, ptrdiff_t lda, const int8_t *b,
                     ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc);

/// Whether ``ck_gemm_u8s8s32`` runs its VNNI kernel on this thread (the AVX-512 level on a CPU with VNNI).
int ck_gemm_u8s8s32_uses_vnni(void);

/// The depth to pad a product of depth `k` to (with zero weights) for ``ck_gemm_u8s8s32`` on this thread: beyond 16,
/// `k` rounded up to the step of its vector loop — 64 bytes (VNNI), 32 (AVX-512), 16 (AVX2) — since the rest of a
/// row runs one byte at a time; `k` itself at the generic level and, at every level, up to 16, where AVX2 and
/// AVX-512 multiply by outer products, which take any depth.
ptrdiff_t ck_gemm_u8s8s32_padded_depth(ptrdiff_t k);

/// The Float output planes of a quantised convolution from its 32-bit sums: for the `height × width` output positions
/// `p` (row-major), whose sums for outputs `j < n` are `sums[p·sumStride + j]`,
/// `planes[j·P + p] = max(scales[j]·(sums[p, j] − offsets[j]) + shifts[j], floor)` (P = height·width), rounded
/// after the product and again after the sum (no fused multiply-add, so every level gives the same result). With
/// `maxPool2x2` nonzero, position `p` of the `⌊height/2⌋ × ⌊width/2⌋` output takes the largest sum of its 2 × 2
/// window at stride 2 (the last odd row or column dropped) — the 2 × 2 max pooling of the planes, exactly, when
/// every scale is positive (the map is then non-decreasing) — and P is the pooled plane's size. Transposes in
/// registers, eight positions by eight outputs at a time.
void ck_dequantize_planes_s32(const int32_t *sums, ptrdiff_t sumStride, ptrdiff_t height, ptrdiff_t width, ptrdiff_t n,
                              const float *scales, const int32_t *offsets, const float *shifts, float floor,
                              int maxPool2x2, float *planes);

/// `destination[j·destinationStride + i] = source[i·sourceStride + j]` for `i < rows`, `j < columns`, in
/// blocks transposed in registers. The matrices must not overlap. Float only.
void ck_transpose_f32(ptrdiff_t rows, ptrdiff_t columns, const float *source, ptrdiff_t sourceStride, float *destination,
                     ptrdiff_t destinationStride);

/// `c = α·A·b + β·c` with A gathered: `A[i, p] = aRows[i][aOffsets[p]]` (i < m, p < k), each row of A a pointer and
/// each step an offset shared by all rows; `b` is `[k, n]` and `c` `[m, n]`, row-major with strides `ldb`, `ldc`,
/// or, when `cRows` is not NULL, row i of `c` at `cRows[i]` (`c` and `ldc` unused). Reads only those elements. A
/// convolution's windows are such a matrix (one pointer per output position, one offset per (channel, kernel row,
/// kernel column), or the other way round), so the product reads them from the input, with no column matrix.
/// β = 0 does not read `c`.
void ck_sgemm_gathered(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *const *aRows,
                       const int32_t *aOffsets, const float *b, ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc,
                       float *const *cRows);

/// ``ck_sgemm`` with `op(a)` untransposed and B given by row pointers: `op(b)[p, j] = bRows[p][j]` (p < k, j < n)
/// when `transB` is 0, `op(b)[p, j] = bRows[j][p]` (j < n, p < k) when it is not. Reads only those elements.
/// A convolution passes pointers into its input instead of copying the windows into a column matrix.
void ck_sgemm_rows(int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a, ptrdiff_t lda,
                   const float *const *bRows, float beta, float *c, ptrdiff_t ldc);

/// One block of keys of attention's running (online) softmax, for `rows` rows of `width` scores (row stride
/// `width`), in place: per row, `m = max(rowMax[r], max(row))`; the row becomes `exp(row − m)`,
/// `correction[r] = exp(rowMax[r] − m)` (the factor for what earlier blocks summed), `rowSum[r] = rowSum[r]·correction[r]
/// + Σ row`, `rowMax[r] = m`. A row with `m = −∞` (every key so far hidden) becomes 0 with correction 1, its state
/// unchanged. The exponential is Swift's `vectorizableExp` (within 1 ulp), except that weights below Float's normal
/// range (a score more than 87.3365 below the maximum) are 0, or at the AVX-512 level the subnormal numbers; sums are
/// in Float, in lanes.
void ck_attention_softmax_step_f32(float *scores, ptrdiff_t rows, ptrdiff_t width, float *rowMax, float *rowSum,
                                   float *correction);

/// Attention's weights made again from their scores, in place: row `r` of `rows` (each `width` long, stride `width`)
/// becomes `exp(row − shift[r])`, or 0 where `shift[r] = −∞` (a row whose keys are all hidden); `shift[r]` is at least
/// the row's maximum, and weights below Float's normal range are 0, as in ``ck_attention_softmax_step_f32``.
void ck_attention_exp_rows_f32(float *scores, ptrdiff_t rows, ptrdiff_t width, const float *shift);

/// Row `r` of `rows` (each `width` long, stride `width`) multiplied by `factor[r]`, in place: the forward's output
/// rows by their correction and by 1/Σ.
void ck_attention_scale_rows_f32(float *x, ptrdiff_t rows, ptrdiff_t width, const float *factor);

/// The scores' gradient from the weights' in place, `∂S = P ∘ (∂P ∘ M − D)`, for `rows` rows of `width` (stride
/// `width`): `gradient` holds ∂P = g·Vᵀ (the gradient of the weights after dropout) and becomes ∂S; `weights` are
/// P before dropout; `rowDot[r]` is D = Σ_c g·o of the row; `dropout` (NULL without) holds the multipliers M, row
/// `r` at `dropout + r·dropoutStride`.
void ck_attention_score_gradient_f32(float *gradient, const float *weights, ptrdiff_t rows, ptrdiff_t width,
                                     const float *rowDot, const float *dropout, ptrdiff_t dropoutStride);

/// GELU of `n` Float elements, `y = x·Φ(x)` with Φ the standard normal CDF (PyTorch's `approximate='none'`), or with
/// `tanhForm` nonzero `y = ½x·(1 + tanh(√(2/π)·(x + 0.044715x³)))` (`approximate='tanh'`). Φ comes from an erfc
/// approximation with relative error below 1.2·10⁻⁷, so far below zero it stays accurate where `1 + erf` cancels.
/// `y` may be `x`.
void ck_gelu_f32(const float *x, float *y, ptrdiff_t n, int tanhForm);

/// The input gradient of ``ck_gelu_f32`` for output gradient `g`: `gx = g·(Φ(x) + x·φ(x))`, φ the standard normal
/// density, or for the tanh form `gx = g·(s + x·s(1 − s)·2u′)` with `s = σ(2u)` and `u` the tanh's argument.
/// `gx` may be `g`.
void ck_gelu_backward_f32(const float *g, const float *x, float *gx, ptrdiff_t n, int tanhForm);

/// One LSTM step's gate arithmetic on `rows` rows of `n` hidden units (gate order i, f, g, o): from pre-activations
/// `gates + input` (`[rows, 4n]` each; `input` may be NULL, adding nothing) and the previous cell `cPrev`
/// (`[rows, n]`), `activations = [σ(i), σ(f), tanh(g), σ(o)]` (`[rows, 4n]`), `c = σ(f)·cPrev + σ(i)·tanh(g)`,
/// `tanhC = tanh(c)` (`[rows, n]`) and `h = σ(o)·tanh(c)`; `h` and `c` have row strides `hStride` and `cStride`.
/// `activations` and `tanhC` may both be NULL (inference keeps only `h` and `c`); `c` may be `cPrev` itself, with
/// `cStride == n` (each element is read before it is written). σ is Swift's `vectorizableSigmoid` algorithm; tanh
/// shares `vectorizableTanh`'s polynomial below |x| = 0.55 and takes `(1 − e)/(1 + e)`, `e = e^(−2|x|)`, above (both
/// within 2.5 ulp).
void ck_lstm_gates_f32(const float *gates, const float *input, const float *cPrev, ptrdiff_t rows, ptrdiff_t n,
                       float *activations, float *tanhC, float *h, ptrdiff_t hStride, float *c, ptrdiff_t cStride);

/// The gradients of ``ck_lstm_gates_f32`` from `gh = ∂L/∂h` and `gc = ∂L/∂c` (row strides `ghStride`, `gcStride`): with
/// `δc = gc + gh·σ(o)·(1 − tanh²c)`, `dGates = [δc·tanh(g)·σ(i)(1 − σ(i)), δc·cPrev·σ(f)(1 − σ(f)), δc·σ(i)·(1 − tanh²g),
/// gh·tanh(c)·σ(o)(1 − σ(o))]` (`[rows, 4n]`) and `dCPrev = δc·σ(f)` (`[rows, n]`; it may be `gc` itself, with
/// `gcStride == n`).
void ck_lstm_gates_backward_f32(const float *gh, ptrdiff_t ghStride, const float *gc, ptrdiff_t gcStride,
                                const float *activations, const float *tanhC, const float *cPrev, ptrdiff_t rows,
                                ptrdiff_t n, float *dGates, float *dCPrev);

/// Layer normalisation (`centered` nonzero) or RMS normalisation of `rows` contiguous Float rows of `d`: per row
/// `μ = Σx/d` (0 when not centred) and `invstd = 1/√(Σ(x − μ)²/d + ε)`, summed in Float by the corrected two-pass
/// algorithm (in Double for a row whose Float sums overflow) and written to `mean[r]` and `inverseStd[r]`, then
/// `y = (x − μ)·invstd·w + b` in Float (without `w` or `b` where NULL).
void ck_row_norm_f32(const float *x, float *y, ptrdiff_t rows, ptrdiff_t d, double eps, const float *weight,
                     const float *bias, int centered, double *mean, double *inverseStd);

/// The input gradient of ``ck_row_norm_f32`` for output gradient `g`: with `gw = g·w` (`g` where `weight` is NULL)
/// and `x̂ = (x − μ)·invstd`, `∂x = invstd·(gw − mean(gw) − x̂·mean(gw·x̂))` (no `mean(gw)` term when not centred);
/// the row means summed in Float (in Double for a row whose Float sums overflow).
///
/// With `blockSums` (not NULL), the same pass also sums the parameter gradients' terms: for each block of
/// ``CK_ROW_NORM_BLOCK_ROWS`` rows from the first, `2·d` Floats at `blockSums + block·2d`, `Σ g·x̂` over the block's
/// rows then `Σ g`. Added in Double in block order these are ``ck_row_norm_parameter_gradients_f32``'s totals to the
/// bit, provided `x` starts at a multiple of the block size in the whole tensor.
void ck_row_norm_input_gradient_f32(const float *g, const float *x, const float *weight, float *gx, ptrdiff_t rows,
                                    ptrdiff_t d, int centered, const double *mean, const double *inverseStd,
                                    float *blockSums);

/// The rows of one block of the row normalisation's parameter-gradient sums.
#define CK_ROW_NORM_BLOCK_ROWS 64

/// The weight and bias gradients of ``ck_row_norm_f32`` for columns `start ..< start + count`: `∂w = Σ_rows g·x̂` and
/// `∂b = Σ_rows g`, each summed in Float over blocks of ``CK_ROW_NORM_BLOCK_ROWS`` rows from the first and the blocks
/// added in Double, in order, so a column's total does not depend on how the columns are split (either destination
/// may be NULL).
void ck_row_norm_parameter_gradients_f32(const float *g, const float *x, ptrdiff_t rows, ptrdiff_t d, const double *mean,
                                         const double *inverseStd, ptrdiff_t start, ptrdiff_t count,
                                         double *weightGradient, double *biasGradient);

#endif
