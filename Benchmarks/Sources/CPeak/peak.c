// The multiply-add ceiling of the cores (cpeak.h). Each level's loop keeps twelve accumulators in registers: at
// least latency × pipelines chains (4 cycles × 2 pipes on Zen 4 and on Intel since Skylake), so the chains never
// wait on one another and the loop measures the pipes, not the latency.
#include "cpeak.h"

#include <pthread.h>
#include <stdint.h>
#include <time.h>

enum { CPEAK_CHAINS = 12 };

static double cpeak_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

// One step multiplies every chain by a factor just above 1 and adds a tiny term: the values stay finite and
// normal over any run, so no lane slows down on subnormals or infinities.
#define CPEAK_LOOP(VF, SPLAT, FMA, LANES)                                                                              \
    VF acc[CPEAK_CHAINS];                                                                                       \
    for (int i = 0; i < CPEAK_CHAINS; i++) acc[i] = SPLAT((float)(i + 1));                                         \
    const VF factor = SPLAT(0.99999994f), term = SPLAT(1e-7f);                                                        \
    for (long s = 0; s < steps; s++) {                                                                          \
        for (int i = 0; i < CPEAK_CHAINS; i++) acc[i] = FMA(acc[i], factor, term);                              \
        /* Keeps the compiler from folding steps together: each step's results are needed as they are. */      \
        __asm__ volatile("" : CPEAK_REG(acc[0]), CPEAK_REG(acc[1]), CPEAK_REG(acc[2]), CPEAK_REG(acc[3]),        \
                         CPEAK_REG(acc[4]), CPEAK_REG(acc[5]), CPEAK_REG(acc[6]), CPEAK_REG(acc[7]),            \
                         CPEAK_REG(acc[8]), CPEAK_REG(acc[9]), CPEAK_REG(acc[10]), CPEAK_REG(acc[11]));         \
    }                                                                                                           \
    float sum = 0;                                                                                              \
    for (int i = 0; i < CPEAK_CHAINS; i++)                                                                      \
        for (int l = 0; l < LANES; l++) sum += acc[i][l];                                                       \
    return sum;

#if defined(__x86_64__)
#include <immintrin.h>
#define CPEAK_REG(v) "+v"(v)
typedef float cpeak_f4 __attribute__((ext_vector_type(4)));
#define CPEAK_SPLAT4(x) ((cpeak_f4)(x))
#define CPEAK_MUL_ADD(a, b, c) ((a) * (b) + (c))

__attribute__((target("avx512f,fma"), noinline)) static float cpeak_avx512(long steps) {
    CPEAK_LOOP(__m512, _mm512_set1_ps, _mm512_fmadd_ps, 16)
}
__attribute__((target("avx2,fma"), noinline)) static float cpeak_avx2(long steps) {
    CPEAK_LOOP(__m256, _mm256_set1_ps, _mm256_fmadd_ps, 8)
}
// Baseline x86-64 has no FMA: the multiply and the add are two instructions.
__attribute__((noinline)) static float cpeak_generic(long steps) { CPEAK_LOOP(cpeak_f4, CPEAK_SPLAT4, CPEAK_MUL_ADD, 4) }

static int cpeak_level_runs(int level) {
    __builtin_cpu_init();
    switch (level) {
    case 2: return __builtin_cpu_supports("avx512f");
    case 1: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case 0: return 1;
    default: return 0;
    }
}
static int cpeak_lanes(int level) { return level == 2 ? 16 : level == 1 ? 8 : 4; }
static float cpeak_run(int level, long steps) {
    return level == 2 ? cpeak_avx512(steps) : level == 1 ? cpeak_avx2(steps) : cpeak_generic(steps);
}
#else
#define CPEAK_REG(v) "+w"(v)
typedef float cpeak_f4 __attribute__((ext_vector_type(4)));
#define CPEAK_SPLAT4(x) ((cpeak_f4)(x))
#define CPEAK_MUL_ADD(a, b, c) ((a) * (b) + (c))
__attribute__((noinline)) static float cpeak_generic(long steps) { CPEAK_LOOP(cpeak_f4, CPEAK_SPLAT4, CPEAK_MUL_ADD, 4) }
static int cpeak_level_runs(int level) { return level == 0; }
static int cpeak_lanes(int level) { (void)level; return 4; }
static float cpeak_run(int level, long steps) { (void)level; return cpeak_generic(steps); }
#endif

typedef struct {
    int level;
    long steps;
    double gflops;
    float sink;
} cpeak_job;

static void *cpeak_thread(void *argument) {
    cpeak_job *job = argument;
    const double start = cpeak_now();
    job->sink = cpeak_run(job->level, job->steps);
    job->gflops = (double)job->steps * CPEAK_CHAINS * cpeak_lanes(job->level) * 2 / (cpeak_now() - start) / 1e9;
    return NULL;
}

double cpeak_multiply_add_gflops(int level, int threads, double seconds) {
    if (threads < 1 || threads > 256 || !cpeak_level_runs(level)) return 0;
    // Steps doubled until one run on this thread lasts a tenth of `seconds` (the clock ramps up meanwhile), then
    // scaled so that every thread's timed run, all started together, lasts about `seconds`.
    long steps = 1 << 12;
    double elapsed = 0;
    float sink = 0;
    while (steps < (1L << 40)) {
        const double start = cpeak_now();
        sink += cpeak_run(level, steps);
        elapsed = cpeak_now() - start;
        if (elapsed >= seconds / 10) break;
        steps *= 2;
    }
    steps = (long)((double)steps * seconds / (elapsed > 0 ? elapsed : seconds)) + 1;
    cpeak_job jobs[256];
    pthread_t ids[256];
    for (int t = 0; t < threads; t++) jobs[t] = (cpeak_job){level, steps, 0, sink};
    int started = 1;
    for (; started < threads; started++)
        if (pthread_create(&ids[started], NULL, cpeak_thread, &jobs[started]) != 0) break;
    cpeak_thread(&jobs[0]);
    double total = jobs[0].gflops;
    for (int t = 1; t < started; t++) {
        pthread_join(ids[t], NULL);
        total += jobs[t].gflops;
    }
    return started == threads ? total : 0;
}
