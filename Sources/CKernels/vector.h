#ifndef CKERNELS_VECTOR_H
#define CKERNELS_VECTOR_H
// Eight-lane Float vectors in portable C (clang's vector extensions), for the kernels written once and built at
// the AVX2 level (one ymm register) and the generic one (two SSE2 or NEON registers): *_portable.h files.
// Loads and stores go through memcpy, so they carry no alignment assumption, and partial ones copy the lanes
// that exist through a small buffer (lanes past `count` read as zero and are never written).
#include <stddef.h>
#include <string.h>

typedef float ck_f8 __attribute__((ext_vector_type(8)));
typedef double ck_d4 __attribute__((ext_vector_type(4)));
typedef int ck_i8 __attribute__((ext_vector_type(8)));

static inline __attribute__((always_inline)) ck_f8 ck_f8_load(const float *p) {
    ck_f8 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) void ck_f8_store(float *p, ck_f8 v) { memcpy(p, &v, sizeof v); }

static inline __attribute__((always_inline)) ck_f8 ck_f8_splat(float x) { return (ck_f8)x; }

/// The first `count` lanes from `p` (0 ≤ count ≤ 8), the rest zero.
static inline __attribute__((always_inline)) ck_f8 ck_f8_load_first(const float *p, ptrdiff_t count) {
    if (count >= 8) return ck_f8_load(p);
    float lanes[8] = {0};
    if (count > 0) memcpy(lanes, p, (size_t)count * sizeof(float));
    return ck_f8_load(lanes);
}

/// Stores the first `count` lanes of `v` at `p` (0 ≤ count ≤ 8).
static inline __attribute__((always_inline)) void ck_f8_store_first(float *p, ck_f8 v, ptrdiff_t count) {
    if (count >= 8) {
        ck_f8_store(p, v);
        return;
    }
    float lanes[8];
    ck_f8_store(lanes, v);
    if (count > 0) memcpy(p, lanes, (size_t)count * sizeof(float));
}

/// The sum of the lanes, pairwise.
static inline __attribute__((always_inline)) float ck_f8_sum(ck_f8 v) {
    ck_f8 half = v + __builtin_shufflevector(v, v, 4, 5, 6, 7, 0, 1, 2, 3);
    ck_f8 quarter = half + __builtin_shufflevector(half, half, 2, 3, 0, 1, 0, 1, 0, 1);
    return quarter[0] + quarter[1];
}

#endif
