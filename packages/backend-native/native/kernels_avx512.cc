// AVX-512 build of kernels.inc (binding.gyp compiles this file with -mavx512f -mavx512vl -mavx512dq -mfma).
#define KERNEL_TABLE kAvx512Kernels
#define ISA_NAME "avx512"
#define VEC 16
#define MR 8
#define NR 32
#include "kernels.inc"
