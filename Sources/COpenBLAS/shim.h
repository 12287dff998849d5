#ifndef COPENBLAS_SHIM_H
#define COPENBLAS_SHIM_H
// OpenBLAS's CBLAS interface; its directory comes from `pkg-config --cflags openblas`.
#include <cblas.h>
// LAPACKE, the C interface to LAPACK (Debian liblapacke-dev, default include path).
#include <lapacke.h>
#endif
