// The portable kernels (*_portable.h) built for the plain target (SSE2 on x86-64, NEON on aarch64): the generic
// level, and the only one off x86-64. CK_LEVEL names the entry points *_generic (see levels.h).
#define CK_LEVEL(name) name##_generic
#define CK_LEVEL_ISA CK_ISA_GENERIC
#include "activation_portable.h"
#include "attention_portable.h"
#include "dequantize_portable.h"
#include "gemm_portable.h"
#include "moments_portable.h"
#include "planes_portable.h"
#include "pooling_portable.h"
#include "rownorm_portable.h"
#include "transpose_portable.h"
