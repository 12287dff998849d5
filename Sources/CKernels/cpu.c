#include "cpu.h"

int ck_cpu_has_avx512(void) {
#if defined(__x86_64__)
    static int cached = -1;   // a benign race: every thread computes the same value
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") ? 1 : 0;
    }
    return cached;
#else
    return 0;
#endif
}
