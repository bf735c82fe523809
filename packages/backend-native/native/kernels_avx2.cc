// AVX2 + FMA build of kernels.inc (binding.gyp compiles this file with -mavx2 -mfma).
#define KERNEL_TABLE kAvx2Kernels
#define ISA_NAME "avx2"
#define VEC 8
#define MR 6
#define NR 16
#include "kernels.inc"
