// An optional system BLAS (OpenBLAS or BLIS, as Debian's libopenblas0 / libblis4 install them), opened with dlopen
// at run time, so the addon builds and runs without one. Under policy auto, which gemm runs is measured: each 2-D shape
// (m, n, k, transposes, threads) runs twice on the own kernel and twice on the BLAS, interleaved, then sticks with the
// faster by its best time (training repeats the same shapes every step, so this costs a warm-up step).
// UNLEARN_NATIVE_BLAS: unset (default: OpenBLAS, else BLIS, opened but unused until configure({ blas }) — the own
// kernel only, so runs are bit-reproducible), auto (tuned per shape: the winner depends on timing, so two identical runs
// may round differently), off, openblas, blis, or a library path (forced: every 2-D gemm goes to it).
#pragma once
#include <dlfcn.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace unlearn_native {

class SystemBlas {
 public:
  // cblas_sgemm(order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); CblasRowMajor = 101,
  // CblasNoTrans = 111, CblasTrans = 112. The int arguments are 32-bit in both libraries' LP64 builds.
  using Sgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);

  void load() {
    const char* e = getenv("UNLEARN_NATIVE_BLAS");
    // unset: the library is opened (configure({ blas }) may switch to it) but every gemm runs the own kernel, so two
    // identical runs give identical bits; "auto" times both per shape, and which one wins depends on machine load
    const bool unset = !(e && *e);
    mode_ = unset ? "default" : e;
    if (mode_ == "off") return;
    // keep the BLAS's own threads from spinning after a call: the addon's pool runs the next kernel right away
    setenv("OPENBLAS_THREAD_TIMEOUT", "4", 0);
    setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
    const char* openblas[] = {"libopenblas.so.0", "libopenblas.so", nullptr};
    const char* blis[] = {"libblis.so.4", "libblis.so.3", "libblis.so", nullptr};
    const bool search = unset || mode_ == "auto";
    if (search || mode_ == "openblas") tryOpen(openblas, "openblas");
    if (!sgemm_ && (search || mode_ == "blis")) tryOpen(blis, "blis");
    if (!sgemm_ && !search && mode_ != "openblas" && mode_ != "blis") {
      const char* one[] = {mode_.c_str(), nullptr};
      tryOpen(one, mode_.find("blis") != std::string::npos ? "blis" : "openblas");
    }
    forced_ = sgemm_ && !search;
    disabled_ = unset;
    policy_ = forced_ ? "on" : unset ? "off" : "auto";
  }

  bool available() const { return sgemm_ != nullptr && !disabled_; }
  bool loaded() const { return sgemm_ != nullptr; }
  // At run time: "off" (own kernel only), "on" (every 2-D gemm to the BLAS), "auto" (tuned per shape).
  bool setPolicy(const std::string& p) {
    if (p != "off" && p != "on" && p != "auto") return false;
    disabled_ = p == "off";
    forced_ = p == "on";
    policy_ = p;
    return true;
  }
  const std::string& policy() const { return policy_; }
  const std::string& name() const { return name_; }
  const std::string& mode() const { return mode_; }
  const std::string& path() const { return path_; }

  // Whether this 2-D gemm should run on the BLAS now; `timeOwn` / `timeBlas` report how long a call took.
  enum Choice { kOwn, kBlas, kOwnTrial, kBlasTrial };
  Choice choose(int64_t m, int64_t n, int64_t k, bool ta, bool tb, int threads) {
    if (!available()) return kOwn;
    if (forced_) return kBlas;
    std::lock_guard<std::mutex> lock(mutex_);
    Entry& e = table_[Key(m, n, k, ta * 2 + tb, threads)];
    if (e.own + e.blas < 4) return e.own <= e.blas ? kOwnTrial : kBlasTrial;
    return e.useBlas ? kBlas : kOwn;
  }
  void record(int64_t m, int64_t n, int64_t k, bool ta, bool tb, int threads, Choice c, double seconds) {
    std::lock_guard<std::mutex> lock(mutex_);
    Entry& e = table_[Key(m, n, k, ta * 2 + tb, threads)];
    if (c == kOwnTrial) e.own++, e.bestOwn = e.bestOwn < seconds ? e.bestOwn : seconds;
    if (c == kBlasTrial) e.blas++, e.bestBlas = e.bestBlas < seconds ? e.bestBlas : seconds;
    if (c == kOwnTrial || c == kBlasTrial) {
      if (e.own + e.blas == 4) e.useBlas = e.bestBlas < e.bestOwn;
    }
    if (c == kBlas || c == kBlasTrial) callsBlas_++;
    else callsOwn_++;
  }

  void sgemm(int threads, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, const float* b,
             float beta, float* c) {
    if (threads != threads_) {
      if (setThreadsInt_) setThreadsInt_(threads);
      if (setThreadsLong_) setThreadsLong_(threads);
      threads_ = threads;
    }
    sgemm_(101, ta ? 112 : 111, tb ? 112 : 111, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.f, a,
           static_cast<int>(ta ? m : k), b, static_cast<int>(tb ? k : n), beta, c, static_cast<int>(n));
  }

  // shapes measured, shapes where the BLAS won, calls to each
  void stats(int64_t& shapes, int64_t& blasShapes, int64_t& callsBlas, int64_t& callsOwn) {
    std::lock_guard<std::mutex> lock(mutex_);
    shapes = blasShapes = 0;
    for (auto& kv : table_)
      if (kv.second.own + kv.second.blas >= 4) shapes++, blasShapes += kv.second.useBlas;
    callsBlas = callsBlas_;
    callsOwn = callsOwn_;
  }

 private:
  using Key = std::tuple<int64_t, int64_t, int64_t, int, int>;
  struct Entry {
    int own = 0, blas = 0;
    double bestOwn = 1e30, bestBlas = 1e30;
    bool useBlas = false;
  };

  void tryOpen(const char* const* names, const char* kind) {
    for (int i = 0; names[i] && !sgemm_; i++) {
      void* h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
      if (!h) continue;
      auto f = reinterpret_cast<Sgemm>(dlsym(h, "cblas_sgemm"));
      if (!f) {
        dlclose(h);
        continue;
      }
      sgemm_ = f;
      name_ = kind;
      path_ = names[i];
      if (!strcmp(kind, "openblas"))
        setThreadsInt_ = reinterpret_cast<void (*)(int)>(dlsym(h, "openblas_set_num_threads"));
      else
        setThreadsLong_ = reinterpret_cast<void (*)(long)>(dlsym(h, "bli_thread_set_num_threads"));
    }
  }

  std::string mode_ = "off", name_, path_;
  Sgemm sgemm_ = nullptr;
  void (*setThreadsInt_)(int) = nullptr;
  void (*setThreadsLong_)(long) = nullptr;
  int threads_ = -1;
  bool forced_ = false, disabled_ = false;
  std::string policy_ = "off";
  std::mutex mutex_;
  std::map<Key, Entry> table_;
  int64_t callsBlas_ = 0, callsOwn_ = 0;
};

}  // namespace unlearn_native
