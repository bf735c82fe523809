// Portable build of kernels.inc: the compiler's baseline instruction set (SSE2 on x86-64, NEON on arm64).
#define KERNEL_TABLE kGenericKernels
#define ISA_NAME "generic"
#define VEC 4
#define MR 4
#define NR 8
#include "kernels.inc"
