#ifndef CKERNELS_LEVELS_H
#define CKERNELS_LEVELS_H
// Each kernel at each instruction-set level, for dispatch.c (not part of the module's API). A kernel's
// contract is the one of its entry point in ckernels.h; the AVX-512 versions exist on x86-64 only.
#include "ckernels.h"

#define CK_DECLARE_LEVEL(L)                                                                                 \
    void ck_adam_f32_##L(float *parameter, const float *gradient, float *first, float *second, float *maxSecond, \
                         ptrdiff_t n, float beta1, float beta2, float stepSize, float scaledEps, float coupledDecay); \
    void ck_adam_f64_##L(double *parameter, const double *gradient, double *first, double *second,           \
                         double *maxSecond, ptrdiff_t n, double beta1, double beta2, double stepSize,         \
                         double scaledEps, double coupledDecay);                                              \
    void ck_channel_moments_f32_##L(const float *p, const float *q, ptrdiff_t batch, ptrdiff_t channels,    \
                                    ptrdiff_t inner, ptrdiff_t start, ptrdiff_t count, const double *pShift,  \
                                    const double *qShift, double *firstSums, double *secondSums);             \
    void ck_im2col_f32_##L(const float *input, const ck_columns_shape *shape, float *columns);               \
    void ck_col2im_f32_##L(const float *columns, const ck_columns_shape *shape, float *output);              \
    void ck_max_pool_2x2_f32_##L(const float *x, ptrdiff_t planes, ptrdiff_t height, ptrdiff_t width,       \
                                 ptrdiff_t outHeight, ptrdiff_t outWidth, float *values, long long *indices); \
    void ck_sgemm_##L(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,           \
                      const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta, float *c,     \
                      ptrdiff_t ldc);                                                                         \
    void ck_sgemm_rows_##L(int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a,  \
                           ptrdiff_t lda, const float *const *bRows, float beta, float *c, ptrdiff_t ldc);    \
    void ck_sgemm_gathered_##L(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *const *aRows, \
                               const int32_t *aOffsets, const float *b, ptrdiff_t ldb, float beta, float *c,  \
                               ptrdiff_t ldc, float *const *cRows);                                           \
    void ck_gelu_f32_##L(const float *x, float *y, ptrdiff_t n, int tanhForm);                               \
    void ck_gelu_backward_f32_##L(const float *g, const float *x, float *gx, ptrdiff_t n, int tanhForm);      \
    void ck_lstm_gates_f32_##L(const float *gates, const float *input, const float *cPrev, ptrdiff_t rows,      \
                               ptrdiff_t n, float *activations, float *tanhC, float *h, ptrdiff_t hStride, float *c,       \
                               ptrdiff_t cStride);                                                            \
    void ck_lstm_gates_backward_f32_##L(const float *gh, ptrdiff_t ghStride, const float *gc, ptrdiff_t gcStride, \
                                        const float *activations, const float *tanhC, const float *cPrev,      \
                                        ptrdiff_t rows, ptrdiff_t n, float *dGates, float *dCPrev);           \
    void ck_attention_softmax_step_f32_##L(float *scores, ptrdiff_t rows, ptrdiff_t width, float *rowMax,     \
                                           float *rowSum, float *correction);                               \
    void ck_attention_exp_rows_f32_##L(float *scores, ptrdiff_t rows, ptrdiff_t width, const float *shift);   \
    void ck_attention_scale_rows_f32_##L(float *x, ptrdiff_t rows, ptrdiff_t width, const float *factor);     \
    void ck_attention_score_gradient_f32_##L(float *gradient, const float *weights, ptrdiff_t rows, ptrdiff_t width, \
                                             const float *rowDot, const float *dropout, ptrdiff_t dropoutStride); \
    void ck_row_norm_f32_##L(const float *x, float *y, ptrdiff_t rows, ptrdiff_t d, double eps,              \
                             const float *weight, const float *bias, int centered, double *mean,             \
                             double *inverseStd);                                                            \
    void ck_row_norm_input_gradient_f32_##L(const float *g, const float *x, const float *weight, float *gx,  \
                                            ptrdiff_t rows, ptrdiff_t d, int centered, const double *mean,   \
                                            const double *inverseStd, float *blockSums);                     \
    void ck_row_norm_parameter_gradients_f32_##L(const float *g, const float *x, ptrdiff_t rows, ptrdiff_t d, \
                                                 const double *mean, const double *inverseStd,               \
                                                 ptrdiff_t start, ptrdiff_t count, double *weightGradient,   \
                                                 double *biasGradient);                                      \
    void ck_gemm_u8s8s32_##L(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint8_t *a, ptrdiff_t lda,           \
                             const int8_t *b, ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc);                       \
    void ck_gemm_u7s8s32_##L(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint8_t *a, ptrdiff_t lda,           \
                             const int8_t *b, ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc);                       \
    void ck_dequantize_planes_s32_##L(const int32_t *sums, ptrdiff_t sumStride, ptrdiff_t height, ptrdiff_t width,  \
                                      ptrdiff_t n, const float *scales, const int32_t *offsets,             \
                                      const float *shifts, float floor, int maxPool2x2, float *planes);     \
    void ck_transpose_f32_##L(ptrdiff_t rows, ptrdiff_t columns, const float *source, ptrdiff_t sourceStride, \
                              float *destination, ptrdiff_t destinationStride);

#if defined(__x86_64__)
/// The 8-bit product with AVX-512 VNNI, beside the AVX-512 level (dispatch.c picks it where the CPU has VNNI).
void ck_gemm_u8s8s32_avx512vnni(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint8_t *a, ptrdiff_t lda, const int8_t *b,
                                ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc);
CK_DECLARE_LEVEL(avx512)
CK_DECLARE_LEVEL(avx2)
#endif
CK_DECLARE_LEVEL(generic)

#undef CK_DECLARE_LEVEL

/// The depth up to which the AVX2 and AVX-512 levels run ``ck_gemm_u8s8s32`` as outer products (int8.c) instead of
/// dot products, so any depth runs at full speed and ``ck_gemm_u8s8s32_padded_depth`` leaves it unpadded.
enum { CK_U8S8_SHALLOW_DEPTH = 16 };

/// The shapes im2col/col2im take at every level (``ck_columns_vectorized``): a padded row of at most
/// CK_COLUMNS_MAX_ROW floats, an output row and a kernel at most CK_COLUMNS_MAX_OUT wide.
enum { CK_COLUMNS_MAX_ROW = 32, CK_COLUMNS_MAX_OUT = 16 };

/// Whether a product `op(A)·Bᵀ` runs as dot products: A untransposed, few outputs per inner step (a weight
/// gradient's shape), where packing would cost more than the product. The same rule at every level.
static inline int ck_dot_pays(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k) {
    return !transA && transB && k >= 4 * (m > n ? m : n) && m * n <= 128 * 128;
}

/// Whether a product with an untransposed B runs without packing: up to 2²⁷ multiply-adds it is as fast or
/// faster (AVX-512, 6 × 896 × 75: 3.4 µs against 9.0 packed; 512³ equal); past that, packing's cache
/// blocking wins (2048 × 2048 × 256: 215 against 193 GFLOP/s).
static inline int ck_direct_pays(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k) { return m * n * k <= ((ptrdiff_t)1 << 27); }

#endif
