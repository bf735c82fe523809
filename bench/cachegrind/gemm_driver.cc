// One single-threaded 1024×1024×1024 sgemm through the addon's AVX2 kernel with the blocking the addon would pick
// (cache sizes from sysfs/cpuid and the UNLEARN_NATIVE_L1/L2/L3, _KC/_MC/_NC overrides), for cachegrind to count.
// AVX2 because valgrind does not decode AVX-512. `gemm_driver 0` only allocates and fills (the baseline that
// run.mjs subtracts); `gemm_driver 1` also multiplies once.
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "blocking.h"
#include "cpu_caches.h"
#include "kernels.h"

using namespace unlearn_native;

int main(int argc, char** argv) {
  const int reps = argc > 1 ? atoi(argv[1]) : 1;
  const int64_t n = argc > 2 ? atoll(argv[2]) : 1024;
  const KernelTable& kt = kAvx2Kernels;
  const CacheSizes c = detectCaches();
  Blocking b = deriveBlocking(kt.mr, kt.nr, c.l1, c.l2, c.l3 / (c.l3Sharing > 0 ? c.l3Sharing : 1));
  applyBlockingEnv(b, kt.mr, kt.nr);
  std::vector<float> A(n * n), B(n * n), C(n * n);
  for (int64_t i = 0; i < n * n; i++) A[i] = static_cast<float>(i % 7) * 0.25f, B[i] = static_cast<float>(i % 5) * 0.5f;
  GemmArgs g{};
  g.a = A.data(); g.b = B.data(); g.c = C.data();
  g.m = g.n = g.k = n;
  g.kc = b.kc; g.mc = b.mc; g.nc = b.nc;
  for (int r = 0; r < reps; r++) kt.gemmTiles(&g, n, n, 0, 1);
  double check = 0;
  for (int64_t i = 0; i < n * n; i += 4099) check += C[i];
  printf("{\"l1\":%lld,\"l2\":%lld,\"l3\":%lld,\"l3Sharing\":%lld,\"source\":\"%s\",\"mr\":%d,\"nr\":%d,\"kc\":%lld,\"mc\":%lld,\"nc\":%lld,\"check\":%.1f}\n",
         (long long)c.l1, (long long)c.l2, (long long)c.l3, (long long)c.l3Sharing, c.source.c_str(), kt.mr, kt.nr,
         (long long)b.kc, (long long)b.mc, (long long)b.nc, check);
  return 0;
}
