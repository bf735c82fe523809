// Cache blocking of the packed gemm from the cache sizes and the register tile (Goto & van de Geijn 2008,
// "Anatomy of high-performance matrix multiplication"; the loop order of BLIS, Van Zee & van de Geijn 2015):
// for each KC×NC panel of B (packed once) and MC×KC block of A (packed once per panel), the micro-kernel walks the
// NR-column slivers of B (outer) and the MR-row slivers of A (inner). So
//   - a KC×NR sliver of B is reused across MC/MR micro-kernel calls: it should stay in L1 beside the A slivers
//     streaming through → KC·NR·4 B ≤ L1 / 2 (256 for the 6×16 tile and 32 KiB: cachegrind counts 2.5× the D1
//     misses at KC = 512 for no fewer L2 misses). KC is kept ≥ 256 all the same: each rank-KC update re-reads and
//     re-writes C from beyond L2, and on the 8×32 AVX-512 tile KC = 144 (what Low et al. 2016's L1 model gives)
//     measured ~10% slower than 256 on Zen 4.
//   - the MC×KC block of A is re-read for every sliver of B: it must stay in L2 beside the B sliver and the C lines
//     streaming through. Low et al. 2016's analytical model ("Analytical modeling is enough for high-performance
//     BLIS", §4) gives A all but the ways the B sliver and C need: of an 8-way L2, 6 → MC·KC·4 B ≤ 3/4 · L2. A larger
//     MC means fewer passes over the (L3-resident) panel of B, so fewer L2 misses, as long as A fits: cachegrind on
//     a simulated Zen 3 L2 (512 KiB) counts 1.27% misses with A at ~L2 and 2.4% once it overflows (bench/cachegrind),
//     and a blocking for another CPU's larger L2 then thrashes this one. (Measured on a loaded Zen 5, 1 thread: the
//     1024³ gemm's median time does not grow from MC 128 to 1024.)
//   - the KC×NC panel of B is re-read for every block of A: it should stay in this core's share of L3, at most half
//     of it → KC·NC·4 B ≤ (L3 / CPUs sharing it) / 2, NC ≤ 4096.
// Plain C only (shared by addon.cc, the cachegrind driver and nothing compiled per ISA).
#pragma once
#include <cstdint>
#include <cstdlib>

namespace unlearn_native {

struct Blocking {
  int64_t kc, mc, nc;
};

inline int64_t roundDown(int64_t x, int64_t m) { return x < m ? m : x / m * m; }

inline Blocking deriveBlocking(int mr, int nr, int64_t l1, int64_t l2, int64_t l3PerCore) {
  Blocking b;
  b.kc = roundDown(l1 / 2 / (4 * nr), 16);
  if (b.kc < 256) b.kc = 256;
  if (b.kc > 512) b.kc = 512;
  b.mc = roundDown(l2 * 3 / 4 / (4 * b.kc), mr);
  if (b.mc > 4096) b.mc = roundDown(4096, mr);
  b.nc = roundDown(l3PerCore / 2 / (4 * b.kc), nr);
  if (b.nc > 4096) b.nc = roundDown(4096, nr);
  return b;
}

// UNLEARN_NATIVE_KC / _MC / _NC replace one derived value each (tuning experiments, the cachegrind check).
inline void applyBlockingEnv(Blocking& b, int mr, int nr) {
  auto env = [](const char* name, int64_t& v, int64_t unit) {
    const char* s = getenv(name);
    if (s && *s && atoll(s) > 0) v = roundDown(atoll(s), unit);
  };
  env("UNLEARN_NATIVE_KC", b.kc, 8);
  env("UNLEARN_NATIVE_MC", b.mc, mr);
  env("UNLEARN_NATIVE_NC", b.nc, nr);
}

}  // namespace unlearn_native
