// Matrix transpose with AVX-512 (see ckernels.h): 16 × 16 blocks loaded as rows, transposed in registers
// and stored as rows, with masked loads and stores on the edges.
#include "levels.h"
#include "cpu.h"
#include "avx512.h"

#if defined(__x86_64__)

__attribute__((target("avx512f")))
void ck_transpose_f32_avx512(ptrdiff_t rows, ptrdiff_t columns, const float *source, ptrdiff_t sourceStride,
                             float *destination, ptrdiff_t destinationStride) {
    CK_REQUIRE(CK_ISA_AVX512, "ck_transpose_f32");
    for (ptrdiff_t i = 0; i < rows; i += 16) {
        const ptrdiff_t blockRows = rows - i < 16 ? rows - i : 16;
        for (ptrdiff_t j = 0; j < columns; j += 16) {
            const ptrdiff_t blockColumns = columns - j < 16 ? columns - j : 16;
            __m512 block[16];
            if (blockRows == 16 && blockColumns == 16) {
                // Whole blocks with plain loads and stores: masked ones, even with every lane on, are slower
                // from and to memory not in cache.
                for (ptrdiff_t r = 0; r < 16; r++) block[r] = _mm512_loadu_ps(source + (i + r) * sourceStride + j);
                ck_transpose_16x16(block);
                for (ptrdiff_t r = 0; r < 16; r++) _mm512_storeu_ps(destination + (j + r) * destinationStride + i, block[r]);
                continue;
            }
            const __mmask16 loadLanes = ck_first_lanes(blockColumns), storeLanes = ck_first_lanes(blockRows);
            for (ptrdiff_t r = 0; r < 16; r++)
                block[r] = r < blockRows ? _mm512_maskz_loadu_ps(loadLanes, source + (i + r) * sourceStride + j)
                                         : _mm512_setzero_ps();
            ck_transpose_16x16(block);
            for (ptrdiff_t r = 0; r < blockColumns; r++)
                _mm512_mask_storeu_ps(destination + (j + r) * destinationStride + i, storeLanes, block[r]);
        }
    }
}

#endif
