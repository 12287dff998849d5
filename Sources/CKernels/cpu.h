#ifndef CKERNELS_CPU_H
#define CKERNELS_CPU_H
// What this CPU can run, for the kernels that choose their code at run time (not part of the module's API).

/// Whether the CPU runs AVX-512 Foundation instructions; read once.
int ck_cpu_has_avx512(void);

#endif
