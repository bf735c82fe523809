// The data-cache sizes of the CPU this process runs on, read once at load: Linux sysfs first
// (/sys/devices/system/cpu/cpu0/cache/index*/{level,type,size,shared_cpu_list}), then cpuid (leaf 4 on Intel,
// 0x8000001D or 0x80000005/6 on AMD), then a conservative default. UNLEARN_NATIVE_L1 / _L2 / _L3 ("32K", "512K",
// "32M", or bytes) override each level, so one machine can run another CPU's blocking (checked with cachegrind).
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace unlearn_native {

struct CacheSizes {
  int64_t l1 = 32 * 1024;     // L1 data, per core
  int64_t l2 = 256 * 1024;    // per core
  int64_t l3 = 8 << 20;       // whole cache
  int64_t l3Sharing = 1;      // logical CPUs sharing that L3 (so l3 / l3Sharing is one core's share)
  std::string source = "default";  // where the sizes came from: sysfs | cpuid | default (+ "+env" when overridden)
};

// "512K", "1M", "32m", "1048576" -> bytes; 0 when unparsable.
inline int64_t parseBytes(const char* s) {
  if (!s || !*s) return 0;
  char* end = nullptr;
  const double v = strtod(s, &end);
  if (end == s || !(v > 0)) return 0;
  double mult = 1;
  if (*end == 'k' || *end == 'K') mult = 1024, end++;
  else if (*end == 'm' || *end == 'M') mult = 1024 * 1024, end++;
  else if (*end == 'g' || *end == 'G') mult = 1024.0 * 1024 * 1024, end++;
  if (*end == 'i' || *end == 'I') end++;
  if (*end == 'b' || *end == 'B') end++;
  if (*end) return 0;
  return static_cast<int64_t>(v * mult);
}

namespace cache_detail {
inline bool readLine(const std::string& path, char* buf, size_t n) {
  FILE* f = fopen(path.c_str(), "r");
  if (!f) return false;
  const bool ok = fgets(buf, static_cast<int>(n), f) != nullptr;
  fclose(f);
  if (ok) buf[strcspn(buf, "\n")] = 0;
  return ok;
}
// "0-1,4,6-7" -> 5
inline int64_t countCpuList(const char* s) {
  int64_t count = 0;
  while (*s) {
    char* end;
    const long a = strtol(s, &end, 10);
    if (end == s) break;
    long b = a;
    if (*end == '-') b = strtol(end + 1, &end, 10);
    count += b - a + 1;
    s = *end == ',' ? end + 1 : end;
  }
  return count > 0 ? count : 1;
}

inline bool fromSysfs(CacheSizes& c) {
  bool any = false;
  for (int i = 0; i < 16; i++) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    char level[32], type[32], size[32], shared[256];
    if (!readLine(dir + "level", level, sizeof level)) break;
    if (!readLine(dir + "type", type, sizeof type) || !readLine(dir + "size", size, sizeof size)) continue;
    if (!strcmp(type, "Instruction")) continue;
    const int64_t bytes = parseBytes(size);
    if (bytes <= 0) continue;
    const int lv = atoi(level);
    if (lv == 1) c.l1 = bytes;
    else if (lv == 2) c.l2 = bytes;
    else if (lv == 3) {
      c.l3 = bytes;
      c.l3Sharing = readLine(dir + "shared_cpu_list", shared, sizeof shared) ? countCpuList(shared) : 1;
    } else continue;
    any = true;
  }
  return any;
}

inline bool fromCpuid(CacheSizes& c) {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a, b, cx, d;
  if (!__get_cpuid(0, &a, &b, &cx, &d)) return false;
  const bool intel = b == 0x756e6547;  // "Genu"
  const bool amd = b == 0x68747541;    // "Auth"
  unsigned leaf = 0;
  if (intel && a >= 4) leaf = 4;
  if (amd && __get_cpuid(0x80000001, &a, &b, &cx, &d) && (cx & (1u << 22))) leaf = 0x8000001D;  // topology ext.
  bool any = false;
  if (leaf) {
    for (unsigned sub = 0; sub < 16; sub++) {
      __cpuid_count(leaf, sub, a, b, cx, d);
      const unsigned type = a & 0x1f;  // 0 none, 1 data, 2 instruction, 3 unified
      if (type == 0) break;
      if (type == 2) continue;
      const unsigned level = (a >> 5) & 7;
      const int64_t bytes = static_cast<int64_t>((b >> 22) + 1) * (((b >> 12) & 0x3ff) + 1) * ((b & 0xfff) + 1) * (cx + 1);
      if (level == 1) c.l1 = bytes;
      else if (level == 2) c.l2 = bytes;
      else if (level == 3) c.l3 = bytes, c.l3Sharing = ((a >> 14) & 0xfff) + 1;
      any = true;
    }
  } else if (amd && __get_cpuid(0x80000000, &a, &b, &cx, &d) && a >= 0x80000006) {
    __cpuid(0x80000005, a, b, cx, d);
    c.l1 = static_cast<int64_t>(cx >> 24) * 1024;
    __cpuid(0x80000006, a, b, cx, d);
    c.l2 = static_cast<int64_t>(cx >> 16) * 1024;
    if (d >> 18) c.l3 = static_cast<int64_t>(d >> 18) * 512 * 1024;
    any = c.l1 > 0 && c.l2 > 0;
  }
  return any;
#else
  (void)c;
  return false;
#endif
}
}  // namespace cache_detail

// Detected sizes with the UNLEARN_NATIVE_L1/L2/L3 overrides applied (an override of L3 means "one core's share").
inline CacheSizes detectCaches() {
  CacheSizes c;
  if (cache_detail::fromSysfs(c)) c.source = "sysfs";
  else if (cache_detail::fromCpuid(c)) c.source = "cpuid";
  bool env = false;
  if (const int64_t v = parseBytes(getenv("UNLEARN_NATIVE_L1"))) c.l1 = v, env = true;
  if (const int64_t v = parseBytes(getenv("UNLEARN_NATIVE_L2"))) c.l2 = v, env = true;
  if (const int64_t v = parseBytes(getenv("UNLEARN_NATIVE_L3"))) c.l3 = v, c.l3Sharing = 1, env = true;
  if (env) c.source += "+env";
  if (c.l3 < c.l2) c.l3 = c.l2, c.l3Sharing = 1;  // no L3: the panel of B must live in L2
  return c;
}

}  // namespace unlearn_native
