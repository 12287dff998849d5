// The portable kernels (*_portable.h) built for AVX2 + FMA: every function they define, static helpers
// included, gets the target, and CK_LEVEL names the entry points *_avx2 (see levels.h).
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define CK_LEVEL(name) name##_avx2
#define CK_LEVEL_ISA CK_ISA_AVX2
#include "activation_portable.h"
#include "attention_portable.h"
#include "dequantize_portable.h"
#include "gemm_portable.h"
#include "moments_portable.h"
#include "planes_portable.h"
#include "pooling_portable.h"
#include "rownorm_portable.h"
#include "transpose_portable.h"
#pragma clang attribute pop
#endif
