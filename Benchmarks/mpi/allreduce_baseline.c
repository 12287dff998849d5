/* A bare MPI_Allreduce (in place, float, sum) over the sizes distributed-bench's allreduce mode uses, for comparison:
 *   mpicc -O2 -o /tmp/allreduce_baseline Benchmarks/mpi/allreduce_baseline.c
 *   mpirun -n 2 /tmp/allreduce_baseline
 * Bus bandwidth as NCCL's tests define it: bytes * 2(n - 1)/n per second. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const long sizes[] = {4L << 10, 64L << 10, 1L << 20, 8L << 20, 25L << 20, 64L << 20};
    for (int s = 0; s < 6; s++) {
        long bytes = sizes[s], count = bytes / 4;
        float *buffer = malloc(bytes);
        for (long i = 0; i < count; i++) buffer[i] = 1;
        long repeats = (256L << 20) / bytes;
        if (repeats < 5) repeats = 5;
        if (repeats > 200) repeats = 200;
        for (int i = 0; i < 3; i++) MPI_Allreduce(MPI_IN_PLACE, buffer, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        MPI_Barrier(MPI_COMM_WORLD);
        double start = MPI_Wtime();
        for (long i = 0; i < repeats; i++) MPI_Allreduce(MPI_IN_PLACE, buffer, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        double seconds = (MPI_Wtime() - start) / repeats;
        if (rank == 0) {
            double factor = 2.0 * (size - 1) / size;
            printf("MPI_Allreduce %9ld bytes: %8.1f us %7.2f GB/s\n", bytes, seconds * 1e6, bytes * factor / seconds / 1e9);
        }
        free(buffer);
    }
    MPI_Finalize();
    return 0;
}
