// The AVX-512 level of attention's softmax rows (attention_portable.h, see ckernels.h): the portable source built
// with the AVX-512 target, sixty-four lanes a whole step, so that the compiler's code gets AVX-512's registers, FMA
// and masked moves, and vscalefps in the exponential (vector.h); the AVX2 and generic levels are built by
// portable_avx2.c and portable_generic.c.
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma"))), apply_to = function)
#define CK_LEVEL(name) name##_avx512
#define CK_LEVEL_ISA CK_ISA_AVX512
#define CK_WIDE_LANES 64
#define CK_WIDE_EXP_SCALEF 1
#include "attention_portable.h"
#pragma clang attribute pop
#endif
