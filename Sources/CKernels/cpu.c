// The one place that decides which instruction-set level the kernels run at (see ckernels.h).
#include "cpu.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const ck_isa_names[] = { "generic", "avx2", "avx512" };

const char *ck_isa_name(int level) {
    return level >= CK_ISA_GENERIC && level <= CK_ISA_AVX512 ? ck_isa_names[level] : "unknown";
}

int ck_isa_parse(const char *name) {
    if (name == NULL) return -1;
    for (int level = CK_ISA_GENERIC; level <= CK_ISA_AVX512; level++)
        if (strcasecmp(name, ck_isa_names[level]) == 0) return level;
    return -1;
}

/// What the CPU runs: AVX-512 needs Foundation, Byte/Word, Doubleword/Quadword and Vector Length (the set
/// OpenBLAS's SkylakeX kernels need too); AVX2 needs FMA beside it. The runtime's checks include the
/// operating system's support for the wider registers.
static int ck_detect(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq")
        && __builtin_cpu_supports("avx512vl"))
        return CK_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CK_ISA_AVX2;
#endif
    return CK_ISA_GENERIC;
}

/// The CPU's level capped by AUTOGRAD_ISA, read once. A value that names no level is a mistake in the
/// environment, not something to guess around: the process stops with a message.
int ck_isa_available(void) {
    static int cached = -1;   // a benign race: every thread computes the same value
    if (cached < 0) {
        int level = ck_isa_supported();
        const char *cap = getenv("AUTOGRAD_ISA");
        if (cap != NULL && cap[0] != '\0') {
            int parsed = ck_isa_parse(cap);
            if (parsed < 0) {
                fprintf(stderr, "error: AUTOGRAD_ISA=%s names no instruction-set level; use avx512, avx2 or generic\n", cap);
                exit(2);
            }
            if (parsed < level) level = parsed;
        }
        cached = level;
    }
    return cached;
}

int ck_isa_supported(void) {
    static int cached = -1;
    if (cached < 0) cached = ck_detect();
    return cached;
}

int ck_cpu_has_vnni(void) {
#if defined(__x86_64__)
    static int cached = -1;   // a benign race, as in ck_isa_available
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512vnni") ? 1 : 0;
    }
    return cached;
#else
    return 0;
#endif
}

/// Whether this thread has VNNI turned off.
static __thread int ck_thread_no_vnni = 0;

int ck_vnni_active(void) { return ck_isa_active() == CK_ISA_AVX512 && ck_cpu_has_vnni() && !ck_thread_no_vnni; }

int ck_vnni_set_thread_disabled(int disabled) {
    int previous = ck_thread_no_vnni;
    ck_thread_no_vnni = disabled != 0;
    return previous;
}

int ck_vnni_thread_disabled(void) { return ck_thread_no_vnni; }

/// Whether this thread runs a part of a thread-pool job.
static __thread int ck_thread_pool_part = 0;

int ck_thread_set_in_pool_part(int inPart) {
    int previous = ck_thread_pool_part;
    ck_thread_pool_part = inPart != 0;
    return previous;
}

int ck_thread_in_pool_part(void) { return ck_thread_pool_part; }

/// This thread's cap; −1 when none.
static __thread int ck_thread_cap = -1;

int ck_isa_active(void) {
    int level = ck_isa_available();
    return ck_thread_cap >= 0 && ck_thread_cap < level ? ck_thread_cap : level;
}

int ck_isa_thread_cap(void) { return ck_thread_cap; }

int ck_isa_set_thread_cap(int level) {
    int previous = ck_thread_cap;
    ck_thread_cap = level < 0 ? -1 : level > CK_ISA_AVX512 ? CK_ISA_AVX512 : level;
    return previous;
}

void ck_require_isa(int level, const char *entry) {
    int active = ck_isa_active();
    if (active >= level) return;
    fprintf(stderr, "fatal: %s needs the %s instruction-set level, but this thread runs at %s (CPU: %s)\n", entry,
            ck_isa_name(level), ck_isa_name(active), ck_isa_name(ck_isa_supported()));
    abort();
}
