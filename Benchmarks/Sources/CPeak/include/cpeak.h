#ifndef CPEAK_H
#define CPEAK_H

/// The multiply-add rate of one core, in GFLOP/s (a multiply-add is two FLOP), measured with as many independent
/// chains as the core's pipelines need, nothing loaded or stored: the ceiling no product can pass, the floor of
/// every time the benchmarks report in GFLOP/s. `level` is the instruction-set level of the registers: 2 AVX-512
/// (sixteen-lane FMA), 1 AVX2 (eight-lane FMA), 0 generic (four-lane multiply and add, as baseline x86-64 has no
/// FMA; NEON's fused form on aarch64). A level the CPU or the build lacks gives 0. `threads` threads run at once
/// for about `seconds` each; the result is their sum.
double cpeak_multiply_add_gflops(int level, int threads, double seconds);

#endif
