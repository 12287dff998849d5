// The portable matrix product (gemm_portable.h) built for AVX2 + FMA.
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define CK_LEVEL(name) name##_avx2
#define CK_LEVEL_ISA CK_ISA_AVX2
#include "gemm_portable.h"
#pragma clang attribute pop
#endif
