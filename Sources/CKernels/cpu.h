#ifndef CKERNELS_CPU_H
#define CKERNELS_CPU_H
// The instruction-set level a kernel runs at, for the kernels' own files (the public side is in ckernels.h:
// ck_isa_supported, ck_isa_active, ck_isa_set_thread_cap).
#include "ckernels.h"

/// Traps, naming `entry` and both levels, when this thread's active level is below `level`: a kernel built
/// for a level must never run where that level is not in use (an illegal instruction, or a cap ignored).
void ck_require_isa(int level, const char *entry);

/// The level-specific implementation of a kernel starts with this.
#define CK_REQUIRE(level, entry) ck_require_isa((level), (entry))

/// Whether the CPU has AVX-512 VNNI (vpdpbusd), which only the 8-bit product uses, within the AVX-512 level.
int ck_cpu_has_vnni(void);

/// Whether the 8-bit product runs its VNNI kernel on this thread: the AVX-512 level is active, the CPU has VNNI, and
/// the thread has not turned it off (``ck_vnni_set_thread_disabled``).
int ck_vnni_active(void);

#endif
