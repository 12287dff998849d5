// The entry points of ckernels.h: each runs its kernel at the calling thread's active level (cpu.c decides
// which; levels.h lists the implementations).
#include "levels.h"
#include "cpu.h"

#if defined(__x86_64__)
/// Calls NAME's implementation at the active level with the arguments that follow.
#define CK_DISPATCH(NAME, ...)                                                                              \
    switch (ck_isa_active()) {                                                                              \
    case CK_ISA_AVX512: NAME##_avx512(__VA_ARGS__); break;                                                  \
    case CK_ISA_AVX2: NAME##_avx2(__VA_ARGS__); break;                                                      \
    default: NAME##_generic(__VA_ARGS__); break;                                                            \
    }
#else
#define CK_DISPATCH(NAME, ...) NAME##_generic(__VA_ARGS__);
#endif

void ck_adam_f32(float *parameter, const float *gradient, float *first, float *second, float *maxSecond,
                 ptrdiff_t n, float beta1, float beta2, float stepSize, float scaledEps, float coupledDecay) {
    CK_DISPATCH(ck_adam_f32, parameter, gradient, first, second, maxSecond, n, beta1, beta2, stepSize, scaledEps,
                coupledDecay)
}

void ck_adam_f64(double *parameter, const double *gradient, double *first, double *second, double *maxSecond,
                 ptrdiff_t n, double beta1, double beta2, double stepSize, double scaledEps, double coupledDecay) {
    CK_DISPATCH(ck_adam_f64, parameter, gradient, first, second, maxSecond, n, beta1, beta2, stepSize, scaledEps,
                coupledDecay)
}

void ck_channel_moments_f32(const float *p, const float *q, ptrdiff_t batch, ptrdiff_t channels, ptrdiff_t inner,
                            ptrdiff_t start, ptrdiff_t count, const double *pShift, const double *qShift,
                            double *firstSums, double *secondSums) {
    CK_DISPATCH(ck_channel_moments_f32, p, q, batch, channels, inner, start, count, pShift, qShift, firstSums,
                secondSums)
}

int ck_columns_vectorized(const ck_columns_shape *s) {
    return s->paddedWidth >= 1 && s->paddedWidth <= CK_COLUMNS_MAX_ROW && s->outWidth >= 1
        && s->outWidth <= CK_COLUMNS_MAX_OUT && s->kernelWidth >= 1 && s->kernelWidth <= CK_COLUMNS_MAX_OUT;
}

void ck_im2col_f32(const float *input, const ck_columns_shape *shape, float *columns) {
    CK_DISPATCH(ck_im2col_f32, input, shape, columns)
}

void ck_col2im_f32(const float *columns, const ck_columns_shape *shape, float *output) {
    CK_DISPATCH(ck_col2im_f32, columns, shape, output)
}

int ck_max_pool_2x2_f32(const float *x, ptrdiff_t planes, ptrdiff_t height, ptrdiff_t width, ptrdiff_t outHeight,
                        ptrdiff_t outWidth, float *values, long long *indices) {
    if (height * width >= (1LL << 31)) return 0;
    CK_DISPATCH(ck_max_pool_2x2_f32, x, planes, height, width, outHeight, outWidth, values, indices)
    return 1;
}

int ck_sgemm_packs(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k) {
    return !(ck_dot_pays(transA, transB, m, n, k) || (!transB && ck_direct_pays(m, n, k)));
}

void ck_sgemm(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a,
              ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc) {
    CK_DISPATCH(ck_sgemm, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

void ck_sgemm_rows(int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a, ptrdiff_t lda,
                   const float *const *bRows, float beta, float *c, ptrdiff_t ldc) {
    CK_DISPATCH(ck_sgemm_rows, transB, m, n, k, alpha, a, lda, bRows, beta, c, ldc)
}

void ck_sgemm_gathered(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *const *aRows,
                       const int32_t *aOffsets, const float *b, ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc,
                       float *const *cRows) {
    CK_DISPATCH(ck_sgemm_gathered, m, n, k, alpha, aRows, aOffsets, b, ldb, beta, c, ldc, cRows)
}

void ck_gelu_f32(const float *x, float *y, ptrdiff_t n, int tanhForm) { CK_DISPATCH(ck_gelu_f32, x, y, n, tanhForm) }

void ck_gelu_backward_f32(const float *g, const float *x, float *gx, ptrdiff_t n, int tanhForm) {
    CK_DISPATCH(ck_gelu_backward_f32, g, x, gx, n, tanhForm)
}

void ck_lstm_gates_f32(const float *gates, const float *input, const float *cPrev, ptrdiff_t rows, ptrdiff_t n,
                       float *activations, float *tanhC, float *h, ptrdiff_t hStride, float *c, ptrdiff_t cStride) {
    CK_DISPATCH(ck_lstm_gates_f32, gates, input, cPrev, rows, n, activations, tanhC, h, hStride, c, cStride)
}

void ck_lstm_gates_backward_f32(const float *gh, ptrdiff_t ghStride, const float *gc, ptrdiff_t gcStride,
                                const float *activations, const float *tanhC, const float *cPrev, ptrdiff_t rows,
                                ptrdiff_t n, float *dGates, float *dCPrev) {
    CK_DISPATCH(ck_lstm_gates_backward_f32, gh, ghStride, gc, gcStride, activations, tanhC, cPrev, rows, n, dGates, dCPrev)
}

void ck_gemm_u8s8s32(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint8_t *a, ptrdiff_t lda, const int8_t *b,
                     ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc) {
#if defined(__x86_64__)
    if (ck_vnni_active()) {
        ck_gemm_u8s8s32_avx512vnni(m, n, k, a, lda, b, ldb, c, ldc);
        return;
    }
#endif
    CK_DISPATCH(ck_gemm_u8s8s32, m, n, k, a, lda, b, ldb, c, ldc)
}

void ck_gemm_u7s8s32(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint8_t *a, ptrdiff_t lda, const int8_t *b,
                     ptrdiff_t ldb, int32_t *c, ptrdiff_t ldc) {
    // vpdpbusd sums four products in 32 bits: exact for every byte, as fast for 7-bit ones.
    if (ck_vnni_active()) {
        ck_gemm_u8s8s32(m, n, k, a, lda, b, ldb, c, ldc);
        return;
    }
    CK_DISPATCH(ck_gemm_u7s8s32, m, n, k, a, lda, b, ldb, c, ldc)
}

ptrdiff_t ck_gemm_u8s8s32_padded_depth(ptrdiff_t k) {
    ptrdiff_t step = 1;
#if defined(__x86_64__)
    // Up to CK_U8S8_SHALLOW_DEPTH, the vector levels' outer products take any depth (int8.c).
    if (k > CK_U8S8_SHALLOW_DEPTH) {
        switch (ck_isa_active()) {
        case CK_ISA_AVX512: step = ck_vnni_active() ? 64 : 32; break;
        case CK_ISA_AVX2: step = 16; break;
        default: break;
        }
    }
#endif
    return (k + step - 1) / step * step;
}

int ck_gemm_u8s8s32_uses_vnni(void) {
#if defined(__x86_64__)
    return ck_vnni_active();
#else
    return 0;
#endif
}

void ck_dequantize_planes_s32(const int32_t *sums, ptrdiff_t sumStride, ptrdiff_t height, ptrdiff_t width, ptrdiff_t n,
                              const float *scales, const int32_t *offsets, const float *shifts, float floor,
                              int maxPool2x2, float *planes) {
    CK_DISPATCH(ck_dequantize_planes_s32, sums, sumStride, height, width, n, scales, offsets, shifts, floor, maxPool2x2,
                planes)
}

void ck_transpose_f32(ptrdiff_t rows, ptrdiff_t columns, const float *source, ptrdiff_t sourceStride, float *destination,
                      ptrdiff_t destinationStride) {
    CK_DISPATCH(ck_transpose_f32, rows, columns, source, sourceStride, destination, destinationStride)
}

void ck_attention_softmax_step_f32(float *scores, ptrdiff_t rows, ptrdiff_t width, float *rowMax, float *rowSum,
                                   float *correction) {
    CK_DISPATCH(ck_attention_softmax_step_f32, scores, rows, width, rowMax, rowSum, correction)
}

void ck_attention_exp_rows_f32(float *scores, ptrdiff_t rows, ptrdiff_t width, const float *shift) {
    CK_DISPATCH(ck_attention_exp_rows_f32, scores, rows, width, shift)
}

void ck_attention_scale_rows_f32(float *x, ptrdiff_t rows, ptrdiff_t width, const float *factor) {
    CK_DISPATCH(ck_attention_scale_rows_f32, x, rows, width, factor)
}

void ck_attention_score_gradient_f32(float *gradient, const float *weights, ptrdiff_t rows, ptrdiff_t width,
                                     const float *rowDot, const float *dropout, ptrdiff_t dropoutStride) {
    CK_DISPATCH(ck_attention_score_gradient_f32, gradient, weights, rows, width, rowDot, dropout, dropoutStride)
}

void ck_row_norm_f32(const float *x, float *y, ptrdiff_t rows, ptrdiff_t d, double eps, const float *weight,
                     const float *bias, int centered, double *mean, double *inverseStd) {
    CK_DISPATCH(ck_row_norm_f32, x, y, rows, d, eps, weight, bias, centered, mean, inverseStd)
}

void ck_row_norm_input_gradient_f32(const float *g, const float *x, const float *weight, float *gx, ptrdiff_t rows,
                                    ptrdiff_t d, int centered, const double *mean, const double *inverseStd,
                                    float *blockSums) {
    CK_DISPATCH(ck_row_norm_input_gradient_f32, g, x, weight, gx, rows, d, centered, mean, inverseStd, blockSums)
}

void ck_row_norm_parameter_gradients_f32(const float *g, const float *x, ptrdiff_t rows, ptrdiff_t d, const double *mean,
                                         const double *inverseStd, ptrdiff_t start, ptrdiff_t count,
                                         double *weightGradient, double *biasGradient) {
    CK_DISPATCH(ck_row_norm_parameter_gradients_f32, g, x, rows, d, mean, inverseStd, start, count, weightGradient,
                biasGradient)
}
