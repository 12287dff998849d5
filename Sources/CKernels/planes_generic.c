// The portable im2col and col2im (planes_portable.h) built for the baseline of any target (SSE2 on x86-64,
// NEON on aarch64).
#define CK_LEVEL(name) name##_generic
#define CK_LEVEL_ISA CK_ISA_GENERIC
#include "planes_portable.h"
