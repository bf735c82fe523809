// Node-API entry points of the native tfjs backend: pick the kernel table for this CPU at load time
// (__builtin_cpu_supports), split work across a small thread pool, and run kernels on the Float32Arrays that
// tfjs-backend-cpu keeps as tensor data (read and written in place, never copied).
#include <napi.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "blas.h"
#include "blocking.h"
#include "cpu_caches.h"
#include "kernels.h"
#include "thread_pool.h"

namespace unlearn_native {
namespace {

const KernelTable* gKernels = &kGenericKernels;
std::unique_ptr<ThreadPool> gPool;
CacheSizes gCaches;     // read once at load (sysfs / cpuid, UNLEARN_NATIVE_L1/L2/L3 overrides)
Blocking gBlocking{256, 128, 1024};
SystemBlas gBlas;       // OpenBLAS / BLIS when installed (blas.h), tried per shape against the own kernel

// The blocking for the kernel table in use and the detected caches; UNLEARN_NATIVE_KC / _MC / _NC override one
// value each (for tuning experiments).
void updateBlocking() {
  gBlocking = deriveBlocking(gKernels->mr, gKernels->nr, gCaches.l1, gCaches.l2,
                             gCaches.l3 / (gCaches.l3Sharing > 0 ? gCaches.l3Sharing : 1));
  applyBlockingEnv(gBlocking, gKernels->mr, gKernels->nr);
}

bool cpuHas(const char* isa) {
#if defined(__x86_64__) || defined(__i386__)
  if (!strcmp(isa, "avx512"))
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma");
  if (!strcmp(isa, "avx2")) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return !strcmp(isa, "generic");
}

const KernelTable* tableFor(const std::string& isa) {
#if defined(__x86_64__)
  if (isa == "avx512") return &kAvx512Kernels;
  if (isa == "avx2") return &kAvx2Kernels;
#endif
  if (isa == "generic") return &kGenericKernels;
  return nullptr;
}

const char* bestIsa() {
  if (cpuHas("avx512")) return "avx512";
  if (cpuHas("avx2")) return "avx2";
  return "generic";
}

int defaultThreads() {
  const char* env = getenv("UNLEARN_NATIVE_THREADS");
  if (env && *env) {
    const int n = atoi(env);
    if (n >= 1 && n <= 256) return n;
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

// ---- argument helpers ----------------------------------------------------------------------------------------------
float* f32(const Napi::Value& v, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(v.Env(), std::string("unlearn-native: ") + what + " must be a Float32Array");
  }
  return v.As<Napi::Float32Array>().Data();
}
int64_t f32Length(const Napi::Value& v) { return static_cast<int64_t>(v.As<Napi::Float32Array>().ElementLength()); }
int64_t i64(const Napi::Value& v) { return v.As<Napi::Number>().Int64Value(); }
std::vector<int64_t> dims(const Napi::Value& v) {
  Napi::Array arr = v.As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) out[i] = arr.Get(i).As<Napi::Number>().Int64Value();
  return out;
}

constexpr int64_t kGrain = 32 * 1024;  // elements below which splitting across threads costs more than it saves

// Splits [0, n) into at most threads×4 chunks of at least `grain` and runs fn(begin, end) on the pool.
template <class F>
void parallelRange(int64_t n, int64_t grain, F fn) {
  const int64_t threads = gPool->size();
  int64_t chunks = threads <= 1 ? 1 : n / grain;
  if (chunks > threads * 4) chunks = threads * 4;
  if (chunks <= 1) {
    fn(static_cast<int64_t>(0), n);
    return;
  }
  const int64_t step = (n + chunks - 1) / chunks;
  gPool->parallelFor(chunks, [&](int64_t c) {
    const int64_t b = c * step, e = b + step < n ? b + step : n;
    if (b < e) fn(b, e);
  });
}

// ---- gemm ----------------------------------------------------------------------------------------------------------
// gemm(a, b, c, batch, m, n, k, transA, transB, aBatchStride, bBatchStride, bias | null, activation)
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  GemmArgs g;
  g.a = f32(info[0], "a");
  g.b = f32(info[1], "b");
  g.c = f32(info[2], "c");
  const int64_t batch = i64(info[3]);
  g.m = i64(info[4]);
  g.n = i64(info[5]);
  g.k = i64(info[6]);
  g.transA = info[7].As<Napi::Boolean>();
  g.transB = info[8].As<Napi::Boolean>();
  g.aBatchStride = i64(info[9]);
  g.bBatchStride = i64(info[10]);
  g.cBatchStride = g.m * g.n;
  g.bias = info[11].IsNull() || info[11].IsUndefined() ? nullptr : f32(info[11], "bias");
  g.activation = static_cast<int>(i64(info[12]));
  g.kc = gBlocking.kc;
  g.mc = gBlocking.mc;
  g.nc = gBlocking.nc;
  if (f32Length(info[2]) < batch * g.m * g.n) throw Napi::RangeError::New(info.Env(), "unlearn-native: gemm output too small");
  if (batch == 0 || g.m == 0 || g.n == 0) return info.Env().Undefined();

  const int threads = gPool->size();
  const double flops = 2.0 * batch * g.m * g.n * g.k;
  // 2-D products large enough to matter may go to the system BLAS, where it measured faster for this shape
  SystemBlas::Choice choice = SystemBlas::kOwn;
  if (batch == 1 && g.k > 0 && flops >= 1e6 && gBlas.available())
    choice = gBlas.choose(g.m, g.n, g.k, g.transA, g.transB, threads);
  const auto t0 = std::chrono::steady_clock::now();
  if (choice == SystemBlas::kBlas || choice == SystemBlas::kBlasTrial) {
    float beta = 0.f;
    if (g.bias) {
      for (int64_t i = 0; i < g.m; i++) memcpy(g.c + i * g.n, g.bias, sizeof(float) * g.n);
      beta = 1.f;
    }
    gBlas.sgemm(threads, g.transA, g.transB, g.m, g.n, g.k, g.a, g.b, beta, g.c);
    if (g.activation == kActRelu) {
      for (int64_t i = 0; i < g.m * g.n; i++) g.c[i] = g.c[i] > 0.f ? g.c[i] : 0.f;
    } else if (g.activation == kActSigmoid) {
      for (int64_t i = 0; i < g.m * g.n; i++) g.c[i] = 1.f / (1.f + std::exp(-g.c[i]));
    }
    gBlas.record(g.m, g.n, g.k, g.transA, g.transB, threads, choice,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return info.Env().Undefined();
  }
  int64_t rowsPerTile = g.m, colsPerTile = g.n;
  if (threads > 1 && flops > 4e5 && batch < 2 * threads) {
    // too few matrices to share out whole: cut each into row blocks (each packs all of op(B)) or column blocks
    // (each packs all of op(A)), whichever duplicates less packing. One matrix: exactly one block per thread, so
    // the panel of B is packed `threads` times, not 4·threads.
    const int64_t want = batch == 1 ? threads : 4 * threads / batch + 1;
    const int64_t mr = gKernels->mr, nr = gKernels->nr;
    if (g.m >= g.n || g.m >= 64 * want) {
      rowsPerTile = ((g.m + want - 1) / want + mr - 1) / mr * mr;
    } else {
      colsPerTile = ((g.n + want - 1) / want + nr - 1) / nr * nr;
    }
  }
  const int64_t tilesPerMatrix = ((g.m + rowsPerTile - 1) / rowsPerTile) * ((g.n + colsPerTile - 1) / colsPerTile);
  const int64_t tiles = batch * tilesPerMatrix;
  const KernelTable* kt = gKernels;
  if (threads == 1 || flops <= 4e5 || tiles == 1) {
    kt->gemmTiles(&g, rowsPerTile, colsPerTile, 0, tiles);
  } else {
    gPool->parallelFor(tiles, [&](int64_t t) { kt->gemmTiles(&g, rowsPerTile, colsPerTile, t, t + 1); });
  }
  if (choice == SystemBlas::kOwnTrial)
    gBlas.record(g.m, g.n, g.k, g.transA, g.transB, threads, choice,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return info.Env().Undefined();
}

// ---- broadcasting binary ops ---------------------------------------------------------------------------------------
// binary(op, a, aShape, b, bShape, out, outShape): numpy broadcasting (shapes right-aligned, size-1 dims repeat).
Napi::Value Binary(const Napi::CallbackInfo& info) {
  const int op = static_cast<int>(i64(info[0]));
  const float* a = f32(info[1], "a");
  std::vector<int64_t> aShape = dims(info[2]);
  const float* b = f32(info[3], "b");
  std::vector<int64_t> bShape = dims(info[4]);
  float* out = f32(info[5], "out");
  std::vector<int64_t> shape = dims(info[6]);
  const size_t rank = shape.size();
  // element strides of a and b in output coordinates (0 where broadcast)
  std::vector<int64_t> as(rank, 0), bs(rank, 0);
  auto strides = [&](const std::vector<int64_t>& s, std::vector<int64_t>& st) {
    int64_t acc = 1;
    for (size_t i = 0; i < s.size(); i++) {
      const size_t d = s.size() - 1 - i, o = rank - 1 - i;
      st[o] = s[d] == 1 ? 0 : acc;
      acc *= s[d];
    }
  };
  strides(aShape, as);
  strides(bShape, bs);
  // coalesce: drop size-1 dims, merge neighbours that are contiguous for both operands
  std::vector<int64_t> cs, ca, cb;
  for (size_t i = 0; i < rank; i++) {
    if (shape[i] == 1) continue;
    if (!cs.empty() && ca.back() == as[i] * shape[i] && cb.back() == bs[i] * shape[i]) {
      cs.back() *= shape[i];
      ca.back() = as[i];
      cb.back() = bs[i];
    } else {
      cs.push_back(shape[i]);
      ca.push_back(as[i]);
      cb.push_back(bs[i]);
    }
  }
  int64_t total = 1;
  for (int64_t s : cs) total *= s;
  if (total == 0) return info.Env().Undefined();
  if (cs.empty()) {
    cs.push_back(1);
    ca.push_back(1);
    cb.push_back(1);
  }
  const int64_t inner = cs.back();
  const int64_t aInner = ca.back() ? 1 : 0, bInner = cb.back() ? 1 : 0;
  const int64_t outer = total / inner;
  const size_t r = cs.size();
  const KernelTable* kt = gKernels;
  // each task: rows [r0, r1) of the [outer, inner] output, or (one row) columns of it
  auto runRows = [&](int64_t r0, int64_t r1) {
    for (int64_t row = r0; row < r1; row++) {
      int64_t rem = row, ao = 0, bo = 0;
      for (size_t d = r - 1; d-- > 0;) {
        const int64_t idx = rem % cs[d];
        rem /= cs[d];
        ao += idx * ca[d];
        bo += idx * cb[d];
      }
      kt->binary(op, a + ao, aInner, b + bo, bInner, out + row * inner, inner);
    }
  };
  if (outer == 1) {
    parallelRange(inner, kGrain, [&](int64_t c0, int64_t c1) {
      kt->binary(op, a + c0 * aInner, aInner, b + c0 * bInner, bInner, out + c0, c1 - c0);
    });
  } else {
    const int64_t rowGrain = kGrain / inner > 0 ? kGrain / inner : 1;
    parallelRange(outer, rowGrain, runRows);
  }
  return info.Env().Undefined();
}

// unary(op, x, out)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  const int op = static_cast<int>(i64(info[0]));
  const float* x = f32(info[1], "x");
  float* out = f32(info[2], "out");
  const int64_t n = f32Length(info[1]);
  const KernelTable* kt = gKernels;
  parallelRange(n, kGrain, [&](int64_t b, int64_t e) { kt->unary(op, x + b, out + b, e - b); });
  return info.Env().Undefined();
}

// reduce(isMax, x, out, outer, reduce, inner): [outer, reduce, inner] -> [outer, inner]
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  const int isMax = info[0].As<Napi::Boolean>() ? 1 : 0;
  const float* x = f32(info[1], "x");
  float* out = f32(info[2], "out");
  const int64_t outer = i64(info[3]), reduce = i64(info[4]), inner = i64(info[5]);
  if (outer * inner == 0) return info.Env().Undefined();
  const KernelTable* kt = gKernels;
  if (inner == 1) {
    const int64_t rowGrain = kGrain / (reduce > 0 ? reduce : 1) + 1;
    parallelRange(outer, rowGrain, [&](int64_t r0, int64_t r1) {
      (isMax ? kt->rowMax : kt->rowSum)(x, reduce, out, r0, r1);
    });
  } else {
    const int64_t colGrain = kGrain / (reduce > 0 ? reduce : 1) + 1;
    parallelRange(outer * inner, colGrain, [&](int64_t c0, int64_t c1) {
      kt->midReduce(isMax, x, reduce, inner, out, c0, c1);
    });
  }
  return info.Env().Undefined();
}

// softmax(x, out, rows, cols, log)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  const float* x = f32(info[0], "x");
  float* out = f32(info[1], "out");
  const int64_t rows = i64(info[2]), cols = i64(info[3]);
  const int log = info[4].As<Napi::Boolean>() ? 1 : 0;
  const KernelTable* kt = gKernels;
  parallelRange(rows, kGrain / (cols > 0 ? cols : 1) + 1,
                [&](int64_t r0, int64_t r1) { kt->softmaxRows(x, cols, out, r0, r1, log); });
  return info.Env().Undefined();
}

// ---- transpose -----------------------------------------------------------------------------------------------------
// transpose(x, out, shape, perm): out = x permuted so that out dim i is x dim perm[i].
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  const float* x = f32(info[0], "x");
  float* out = f32(info[1], "out");
  const std::vector<int64_t> shape = dims(info[2]);
  const std::vector<int64_t> perm = dims(info[3]);
  const size_t rank = shape.size();
  std::vector<int64_t> inStride(rank, 1);
  for (size_t i = rank; i-- > 1;) inStride[i - 1] = inStride[i] * shape[i];
  // output dims with their input strides; coalesce neighbours contiguous in the input, drop size-1 dims
  std::vector<int64_t> os, st;
  for (size_t i = 0; i < rank; i++) {
    const int64_t s = shape[perm[i]], t = inStride[perm[i]];
    if (s == 1) continue;
    if (!os.empty() && st.back() == t * s) {
      os.back() *= s;
      st.back() = t;
    } else {
      os.push_back(s);
      st.push_back(t);
    }
  }
  int64_t total = 1;
  for (int64_t s : os) total *= s;
  if (total == 0) return info.Env().Undefined();
  const size_t r = os.size();
  if (r <= 1) {
    memcpy(out, x, sizeof(float) * total);
    return info.Env().Undefined();
  }
  const int64_t inner = os[r - 1], innerStride = st[r - 1];
  const int64_t outer = total / inner;
  if (innerStride == 1) {  // the last axis stays last: copy contiguous runs
    parallelRange(outer, kGrain / inner + 1, [&](int64_t r0, int64_t r1) {
      for (int64_t row = r0; row < r1; row++) {
        int64_t rem = row, off = 0;
        for (size_t d = r - 1; d-- > 0;) {
          off += (rem % os[d]) * st[d];
          rem /= os[d];
        }
        memcpy(out + row * inner, x + off, sizeof(float) * inner);
      }
    });
    return info.Env().Undefined();
  }
  // the last output axis walks the input with a stride: find the output axis that is contiguous in the input
  // (stride 1) and move 32x32 tiles of that (rows) x the last axis (columns) at once, so both sides stay cached.
  size_t unit = r;
  for (size_t d = 0; d + 1 < r; d++)
    if (st[d] == 1) unit = d;
  if (unit == r) {  // no contiguous axis (cannot happen after coalescing, but stay correct): element loop
    std::vector<int64_t> idx(r, 0);
    for (int64_t o = 0; o < total; o++) {
      int64_t rem = o, off = 0;
      for (size_t d = r; d-- > 0;) {
        off += (rem % os[d]) * st[d];
        rem /= os[d];
      }
      out[o] = x[off];
    }
    return info.Env().Undefined();
  }
  std::vector<int64_t> outStride(r, 1);
  for (size_t d = r; d-- > 1;) outStride[d - 1] = outStride[d] * os[d];
  const int64_t rowsN = os[unit], colsN = inner;
  const int64_t rowOutStride = outStride[unit];
  const int64_t colInStride = innerStride;
  const int64_t others = total / (rowsN * colsN);  // all remaining output axes
  constexpr int64_t T = 32;
  const int64_t rowBlocks = (rowsN + T - 1) / T;
  parallelRange(others * rowBlocks, 8, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; t++) {
      const int64_t o = t / rowBlocks, rb = t % rowBlocks;
      int64_t rem = o, inOff = 0, outOff = 0;
      for (size_t d = r - 1; d-- > 0;) {
        if (d == unit) continue;
        const int64_t i = rem % os[d];
        rem /= os[d];
        inOff += i * st[d];
        outOff += i * outStride[d];
      }
      const int64_t i0 = rb * T, i1 = i0 + T < rowsN ? i0 + T : rowsN;
      for (int64_t j0 = 0; j0 < colsN; j0 += T) {
        const int64_t j1 = j0 + T < colsN ? j0 + T : colsN;
        for (int64_t i = i0; i < i1; i++) {
          const float* src = x + inOff + i;
          float* dst = out + outOff + i * rowOutStride;
          for (int64_t j = j0; j < j1; j++) dst[j] = src[j * colInStride];
        }
      }
    }
  });
  return info.Env().Undefined();
}

// adamw(p, g, m, v, lr, beta1, beta2, eps, weightDecay, step): one fused AdamW update in place (p, m, v).
Napi::Value AdamW(const Napi::CallbackInfo& info) {
  float* p = f32(info[0], "param");
  const float* g = f32(info[1], "grad");
  float* m = f32(info[2], "m");
  float* v = f32(info[3], "v");
  const int64_t n = f32Length(info[0]);
  if (f32Length(info[1]) != n || f32Length(info[2]) != n || f32Length(info[3]) != n)
    throw Napi::RangeError::New(info.Env(), "unlearn-native: adamw param, grad, m and v differ in length");
  const double lr = info[4].As<Napi::Number>(), b1 = info[5].As<Napi::Number>(), b2 = info[6].As<Napi::Number>();
  const double eps = info[7].As<Napi::Number>(), wd = info[8].As<Napi::Number>(), step = info[9].As<Napi::Number>();
  const float bc1 = static_cast<float>(1.0 - std::pow(b1, step)), bc2 = static_cast<float>(1.0 - std::pow(b2, step));
  const KernelTable* kt = gKernels;
  parallelRange(n, kGrain, [&](int64_t i0, int64_t i1) {
    kt->adamw(p, g, m, v, i0, i1, static_cast<float>(lr), static_cast<float>(b1), static_cast<float>(b2),
              static_cast<float>(eps), static_cast<float>(wd), bc1, bc2);
  });
  return info.Env().Undefined();
}

// ---- fused transformer pieces (kernels.h) ---------------------------------------------------------------------------
const int32_t* i32(const Napi::Value& v, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(v.Env(), std::string("unlearn-native: ") + what + " must be an Int32Array");
  return v.As<Napi::Int32Array>().Data();
}
void need(const Napi::CallbackInfo& info, bool ok, const char* what) {
  if (!ok) throw Napi::RangeError::New(info.Env(), std::string("unlearn-native: ") + what);
}

// pickLogProb(x [rows, cols], labels Int32Array [rows], rows, cols, picked [rows], lse [rows])
Napi::Value PickLogProb(const Napi::CallbackInfo& info) {
  const float* x = f32(info[0], "x");
  const int32_t* labels = i32(info[1], "labels");
  const int64_t rows = i64(info[2]), cols = i64(info[3]);
  float* picked = f32(info[4], "picked");
  float* lse = f32(info[5], "lse");
  need(info, f32Length(info[0]) >= rows * cols && static_cast<int64_t>(info[1].As<Napi::Int32Array>().ElementLength()) >= rows &&
       f32Length(info[4]) >= rows && f32Length(info[5]) >= rows, "pickLogProb arrays too small");
  const KernelTable* kt = gKernels;
  parallelRange(rows, kGrain / (cols > 0 ? cols : 1) + 1,
                [&](int64_t r0, int64_t r1) { kt->pickLogProbRows(x, labels, cols, picked, lse, r0, r1); });
  return info.Env().Undefined();
}

// pickLogProbGrad(x, labels, lse, g [rows], rows, cols, dx [rows, cols])
Napi::Value PickLogProbGrad(const Napi::CallbackInfo& info) {
  const float* x = f32(info[0], "x");
  const int32_t* labels = i32(info[1], "labels");
  const float* lse = f32(info[2], "lse");
  const float* g = f32(info[3], "g");
  const int64_t rows = i64(info[4]), cols = i64(info[5]);
  float* dx = f32(info[6], "dx");
  need(info, f32Length(info[0]) >= rows * cols && f32Length(info[6]) >= rows * cols && f32Length(info[2]) >= rows &&
       f32Length(info[3]) >= rows, "pickLogProbGrad arrays too small");
  const KernelTable* kt = gKernels;
  parallelRange(rows, kGrain / (cols > 0 ? cols : 1) + 1,
                [&](int64_t r0, int64_t r1) { kt->pickLogProbGradRows(x, labels, lse, g, cols, dx, r0, r1); });
  return info.Env().Undefined();
}

// rmsNorm(x [rows, cols], w [cols], rows, cols, eps, y [rows, cols], rstd [rows])
Napi::Value RmsNorm(const Napi::CallbackInfo& info) {
  const float* x = f32(info[0], "x");
  const float* w = f32(info[1], "weight");
  const int64_t rows = i64(info[2]), cols = i64(info[3]);
  const float eps = static_cast<float>(info[4].As<Napi::Number>().DoubleValue());
  float* y = f32(info[5], "y");
  float* rstd = f32(info[6], "rstd");
  need(info, f32Length(info[0]) >= rows * cols && f32Length(info[1]) >= cols && f32Length(info[5]) >= rows * cols &&
       f32Length(info[6]) >= rows, "rmsNorm arrays too small");
  const KernelTable* kt = gKernels;
  parallelRange(rows, kGrain / (cols > 0 ? cols : 1) + 1,
                [&](int64_t r0, int64_t r1) { kt->rmsNormRows(x, w, cols, eps, y, rstd, r0, r1); });
  return info.Env().Undefined();
}

// Runs f(r0, r1, partials) on row ranges of a [rows, cols] problem across the pool, where f also accumulates column
// sums (a norm's weight gradients) into partials[i] (zeroed, [cols] each, one set per range); then writes the sum of
// the ranges' partials into out[i], in a fixed order, so the result does not depend on thread timing.
template <size_t N, typename F>
void rowsWithColumnSums(int64_t rows, int64_t cols, float* (&out)[N], F&& f) {
  const int64_t threads = gPool->size();
  const int64_t chunks = threads > 1 && rows * cols >= 2 * kGrain ? (rows < threads ? rows : threads) : 1;
  std::vector<float> partial(static_cast<size_t>(N * chunks * cols), 0.f);
  const int64_t step = (rows + chunks - 1) / chunks;
  auto run = [&](int64_t c) {
    const int64_t r0 = c * step, r1 = r0 + step < rows ? r0 + step : rows;
    float* ptrs[N];
    for (size_t i = 0; i < N; i++) ptrs[i] = partial.data() + (static_cast<int64_t>(N) * c + static_cast<int64_t>(i)) * cols;
    if (r0 < r1) f(r0, r1, ptrs);
  };
  if (chunks == 1) run(0);
  else gPool->parallelFor(chunks, run);
  for (size_t i = 0; i < N; i++) {
    for (int64_t j = 0; j < cols; j++) {
      float s = 0.f;
      for (int64_t c = 0; c < chunks; c++) s += partial[(static_cast<int64_t>(N) * c + static_cast<int64_t>(i)) * cols + j];
      out[i][j] = s;
    }
  }
}

// rmsNormGrad(x, w, rstd, dy, rows, cols, dx [rows, cols], dw [cols]): dw is overwritten (per-thread partials summed)
Napi::Value RmsNormGrad(const Napi::CallbackInfo& info) {
  const float* x = f32(info[0], "x");
  const float* w = f32(info[1], "weight");
  const float* rstd = f32(info[2], "rstd");
  const float* dy = f32(info[3], "dy");
  const int64_t rows = i64(info[4]), cols = i64(info[5]);
  float* dx = f32(info[6], "dx");
  float* dw = f32(info[7], "dw");
  need(info, f32Length(info[0]) >= rows * cols && f32Length(info[3]) >= rows * cols && f32Length(info[6]) >= rows * cols &&
       f32Length(info[1]) >= cols && f32Length(info[7]) >= cols && f32Length(info[2]) >= rows, "rmsNormGrad arrays too small");
  const KernelTable* kt = gKernels;
  float* sums[] = {dw};
  rowsWithColumnSums(rows, cols, sums, [&](int64_t r0, int64_t r1, float* const* partial) {
    kt->rmsNormGradRows(x, w, rstd, dy, cols, dx, partial[0], r0, r1);
  });
  return info.Env().Undefined();
}

// rope(x [rows, heads·d], cos [rows, d], sin [rows, d], rows, heads, d, sign, y)
Napi::Value Rope(const Napi::CallbackInfo& info) {
  const float* x = f32(info[0], "x");
  const float* c = f32(info[1], "cos");
  const float* s = f32(info[2], "sin");
  const int64_t rows = i64(info[3]), heads = i64(info[4]), d = i64(info[5]);
  const float sign = static_cast<float>(info[6].As<Napi::Number>().DoubleValue());
  float* y = f32(info[7], "y");
  need(info, d % 2 == 0 && f32Length(info[0]) >= rows * heads * d && f32Length(info[7]) >= rows * heads * d &&
       f32Length(info[1]) >= rows * d && f32Length(info[2]) >= rows * d, "rope: shapes do not fit (or d is odd)");
  const KernelTable* kt = gKernels;
  parallelRange(rows, kGrain / (heads * d > 0 ? heads * d : 1) + 1,
                [&](int64_t r0, int64_t r1) { kt->ropeRows(x, c, s, heads, d, sign, y, r0, r1); });
  return info.Env().Undefined();
}

// swiglu(g, u, y) and swigluGrad(g, u, dy, dg, du), all the same length
Napi::Value SwiGlu(const Napi::CallbackInfo& info) {
  const float* g = f32(info[0], "gate");
  const float* u = f32(info[1], "up");
  float* y = f32(info[2], "y");
  const int64_t n = f32Length(info[0]);
  need(info, f32Length(info[1]) == n && f32Length(info[2]) >= n, "swiglu gate, up and y differ in length");
  const KernelTable* kt = gKernels;
  parallelRange(n, kGrain, [&](int64_t i0, int64_t i1) { kt->swiglu(g, u, y, i0, i1); });
  return info.Env().Undefined();
}

Napi::Value SwiGluGrad(const Napi::CallbackInfo& info) {
  const float* g = f32(info[0], "gate");
  const float* u = f32(info[1], "up");
  const float* dy = f32(info[2], "dy");
  float* dg = f32(info[3], "dgate");
  float* du = f32(info[4], "dup");
  const int64_t n = f32Length(info[0]);
  need(info, f32Length(info[1]) == n && f32Length(info[2]) >= n && f32Length(info[3]) >= n && f32Length(info[4]) >= n,
       "swigluGrad arrays differ in length");
  const KernelTable* kt = gKernels;
  parallelRange(n, kGrain, [&](int64_t i0, int64_t i1) { kt->swigluGrad(g, u, dy, dg, du, i0, i1); });
  return info.Env().Undefined();
}

// layerNorm(x [rows, cols], gamma [cols], beta [cols], rows, cols, eps, y [rows, cols], mean [rows], rstd [rows])
Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  const float* x = f32(info[0], "x");
  const float* g = f32(info[1], "gamma");
  const float* b = f32(info[2], "beta");
  const int64_t rows = i64(info[3]), cols = i64(info[4]);
  const float eps = static_cast<float>(info[5].As<Napi::Number>().DoubleValue());
  float* y = f32(info[6], "y");
  float* mean = f32(info[7], "mean");
  float* rstd = f32(info[8], "rstd");
  need(info, f32Length(info[0]) >= rows * cols && f32Length(info[1]) >= cols && f32Length(info[2]) >= cols &&
       f32Length(info[6]) >= rows * cols && f32Length(info[7]) >= rows && f32Length(info[8]) >= rows,
       "layerNorm arrays too small");
  const KernelTable* kt = gKernels;
  parallelRange(rows, kGrain / (cols > 0 ? cols : 1) + 1,
                [&](int64_t r0, int64_t r1) { kt->layerNormRows(x, g, b, cols, eps, y, mean, rstd, r0, r1); });
  return info.Env().Undefined();
}

// layerNormGrad(x, gamma, mean, rstd, dy, rows, cols, dx [rows, cols], dgamma [cols], dbeta [cols]): dgamma and dbeta
// are overwritten (per-thread partials summed in a fixed order, so the result does not depend on timing)
Napi::Value LayerNormGrad(const Napi::CallbackInfo& info) {
  const float* x = f32(info[0], "x");
  const float* g = f32(info[1], "gamma");
  const float* mean = f32(info[2], "mean");
  const float* rstd = f32(info[3], "rstd");
  const float* dy = f32(info[4], "dy");
  const int64_t rows = i64(info[5]), cols = i64(info[6]);
  float* dx = f32(info[7], "dx");
  float* dg = f32(info[8], "dgamma");
  float* db = f32(info[9], "dbeta");
  need(info, f32Length(info[0]) >= rows * cols && f32Length(info[4]) >= rows * cols && f32Length(info[7]) >= rows * cols &&
       f32Length(info[1]) >= cols && f32Length(info[8]) >= cols && f32Length(info[9]) >= cols &&
       f32Length(info[2]) >= rows && f32Length(info[3]) >= rows, "layerNormGrad arrays too small");
  const KernelTable* kt = gKernels;
  float* sums[] = {dg, db};
  rowsWithColumnSums(rows, cols, sums, [&](int64_t r0, int64_t r1, float* const* partial) {
    kt->layerNormGradRows(x, g, mean, rstd, dy, cols, dx, partial[0], partial[1], r0, r1);
  });
  return info.Env().Undefined();
}

// geluTanh(x, y) and geluTanhGrad(x, dy, dx), all the same length
Napi::Value GeluTanh(const Napi::CallbackInfo& info) {
  const float* x = f32(info[0], "x");
  float* y = f32(info[1], "y");
  const int64_t n = f32Length(info[0]);
  need(info, f32Length(info[1]) >= n, "gelu x and y differ in length");
  const KernelTable* kt = gKernels;
  parallelRange(n, kGrain, [&](int64_t i0, int64_t i1) { kt->geluTanh(x, y, i0, i1); });
  return info.Env().Undefined();
}

Napi::Value GeluTanhGrad(const Napi::CallbackInfo& info) {
  const float* x = f32(info[0], "x");
  const float* dy = f32(info[1], "dy");
  float* dx = f32(info[2], "dx");
  const int64_t n = f32Length(info[0]);
  need(info, f32Length(info[1]) >= n && f32Length(info[2]) >= n, "geluGrad arrays differ in length");
  const KernelTable* kt = gKernels;
  parallelRange(n, kGrain, [&](int64_t i0, int64_t i1) { kt->geluTanhGrad(x, dy, dx, i0, i1); });
  return info.Env().Undefined();
}

// causalSoftmax(s [rows, tk], rows, tq, tk, scale, p [rows, tk]); rows = batch·tq
Napi::Value CausalSoftmax(const Napi::CallbackInfo& info) {
  const float* s = f32(info[0], "scores");
  const int64_t rows = i64(info[1]), tq = i64(info[2]), tk = i64(info[3]);
  const float scale = static_cast<float>(info[4].As<Napi::Number>().DoubleValue());
  float* p = f32(info[5], "p");
  need(info, tq > 0 && rows % tq == 0 && scale > 0.f && f32Length(info[0]) >= rows * tk && f32Length(info[5]) >= rows * tk,
       "causalSoftmax: shapes do not fit (rows must be a multiple of tq, scale > 0)");
  const KernelTable* kt = gKernels;
  parallelRange(rows, kGrain / (tk > 0 ? tk : 1) + 1,
                [&](int64_t r0, int64_t r1) { kt->causalSoftmaxRows(s, tq, tk, scale, p, r0, r1); });
  return info.Env().Undefined();
}

// causalSoftmaxGrad(p [rows, tk], dp [rows, tk], rows, tk, scale, ds [rows, tk])
Napi::Value CausalSoftmaxGrad(const Napi::CallbackInfo& info) {
  const float* p = f32(info[0], "p");
  const float* dp = f32(info[1], "dp");
  const int64_t rows = i64(info[2]), tk = i64(info[3]);
  const float scale = static_cast<float>(info[4].As<Napi::Number>().DoubleValue());
  float* ds = f32(info[5], "ds");
  need(info, f32Length(info[0]) >= rows * tk && f32Length(info[1]) >= rows * tk && f32Length(info[5]) >= rows * tk,
       "causalSoftmaxGrad arrays too small");
  const KernelTable* kt = gKernels;
  parallelRange(rows, kGrain / (tk > 0 ? tk : 1) + 1,
                [&](int64_t r0, int64_t r1) { kt->causalSoftmaxGradRows(p, dp, tk, scale, ds, r0, r1); });
  return info.Env().Undefined();
}

// causalAttention(q [B,H,tq,d], k, v [B,G,tk,d], bias [B,1,tq,tk] | null, B, H, G, tq, tk, d, scale, o [B,H,tq,d],
// stats [B,H,tq,2] (row max, 1/row sum)); query head h reads key/value head h / (H / G). Threaded over (batch, head, query tile).
Napi::Value CausalAttention(const Napi::CallbackInfo& info) {
  const float* q = f32(info[0], "q");
  const float* k = f32(info[1], "k");
  const float* v = f32(info[2], "v");
  const float* bias = info[3].IsNull() || info[3].IsUndefined() ? nullptr : f32(info[3], "bias");
  const int64_t B = i64(info[4]), H = i64(info[5]), G = i64(info[6]), tq = i64(info[7]), tk = i64(info[8]), d = i64(info[9]);
  const float scale = static_cast<float>(info[10].As<Napi::Number>().DoubleValue());
  float* o = f32(info[11], "o");
  float* stats = f32(info[12], "stats");
  need(info, G > 0 && H % G == 0 && tq > 0 && tk >= tq && d > 0 && scale > 0.f && f32Length(info[0]) >= B * H * tq * d &&
       f32Length(info[1]) >= B * G * tk * d && f32Length(info[2]) >= B * G * tk * d &&
       (!bias || f32Length(info[3]) >= B * tq * tk) && f32Length(info[11]) >= B * H * tq * d && f32Length(info[12]) >= 2 * B * H * tq,
       "causalAttention: shapes do not fit (H a multiple of G, tk >= tq, scale > 0)");
  const KernelTable* kt = gKernels;
  constexpr int64_t kQueryTile = 64;  // query rows per task: one tile of the (batch, head, query-tile) grid
  const int64_t tiles = (tq + kQueryTile - 1) / kQueryTile, rep = H / G;
  parallelRange(B * H * tiles, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; t++) {
      const int64_t bh = t / tiles, i0 = (t % tiles) * kQueryTile, i1 = i0 + kQueryTile < tq ? i0 + kQueryTile : tq;
      const int64_t b = bh / H, kvh = b * G + (bh % H) / rep;
      kt->attentionFwdRows(q + bh * tq * d, k + kvh * tk * d, v + kvh * tk * d, bias ? bias + b * tq * tk : nullptr, tq,
                           tk, d, scale, o + bh * tq * d, stats + 2 * bh * tq, i0, i1);
    }
  });
  return info.Env().Undefined();
}

// causalAttentionGrad(q, k, v, bias | null, o, dO, stats, B, H, G, tq, tk, d, scale, dq, dk, dv): threaded over
// (batch, key/value head), each task owning its dk, dv and the dq of the query heads that share them.
Napi::Value CausalAttentionGrad(const Napi::CallbackInfo& info) {
  const float* q = f32(info[0], "q");
  const float* k = f32(info[1], "k");
  const float* v = f32(info[2], "v");
  const float* bias = info[3].IsNull() || info[3].IsUndefined() ? nullptr : f32(info[3], "bias");
  const float* o = f32(info[4], "o");
  const float* dO = f32(info[5], "dO");
  const float* stats = f32(info[6], "stats");
  const int64_t B = i64(info[7]), H = i64(info[8]), G = i64(info[9]), tq = i64(info[10]), tk = i64(info[11]), d = i64(info[12]);
  const float scale = static_cast<float>(info[13].As<Napi::Number>().DoubleValue());
  float* dq = f32(info[14], "dq");
  float* dk = f32(info[15], "dk");
  float* dv = f32(info[16], "dv");
  const int64_t nq = B * H * tq * d, nk = B * G * tk * d;
  need(info, G > 0 && H % G == 0 && tq > 0 && tk >= tq && d > 0 && scale > 0.f && f32Length(info[0]) >= nq &&
       f32Length(info[1]) >= nk && f32Length(info[2]) >= nk && (!bias || f32Length(info[3]) >= B * tq * tk) &&
       f32Length(info[4]) >= nq && f32Length(info[5]) >= nq && f32Length(info[6]) >= 2 * B * H * tq &&
       f32Length(info[14]) >= nq && f32Length(info[15]) >= nk && f32Length(info[16]) >= nk,
       "causalAttentionGrad: shapes do not fit");
  const KernelTable* kt = gKernels;
  const int64_t rep = H / G;
  parallelRange(B * G, 1, [&](int64_t g0, int64_t g1) {
    for (int64_t bg = g0; bg < g1; bg++) {
      const int64_t b = bg / G;
      float* dkg = dk + bg * tk * d;
      float* dvg = dv + bg * tk * d;
      for (int64_t x = 0; x < tk * d; x++) dkg[x] = dvg[x] = 0.f;
      for (int64_t r = 0; r < rep; r++) {
        const int64_t bh = b * H + (bg % G) * rep + r;
        kt->attentionBwdHead(q + bh * tq * d, k + bg * tk * d, v + bg * tk * d, bias ? bias + b * tq * tk : nullptr,
                             o + bh * tq * d, dO + bh * tq * d, stats + 2 * bh * tq, tq, tk, d, scale, dq + bh * tq * d, dkg, dvg);
      }
    }
  });
  return info.Env().Undefined();
}

// sophia(p, g, m, h, hHat | null, lr, beta1, beta2, rho, eps, weightDecay) -> entries not clipped; p, m (and h) in place
Napi::Value Sophia(const Napi::CallbackInfo& info) {
  float* p = f32(info[0], "param");
  const float* g = f32(info[1], "grad");
  float* m = f32(info[2], "m");
  float* h = f32(info[3], "h");
  const float* hHat = info[4].IsNull() || info[4].IsUndefined() ? nullptr : f32(info[4], "hessian estimate");
  const int64_t n = f32Length(info[0]);
  need(info, f32Length(info[1]) == n && f32Length(info[2]) == n && f32Length(info[3]) == n && (!hHat || f32Length(info[4]) == n),
       "sophia param, grad, m, h (and the estimate) differ in length");
  const float lr = static_cast<float>(info[5].As<Napi::Number>().DoubleValue());
  const float b1 = static_cast<float>(info[6].As<Napi::Number>().DoubleValue());
  const float b2 = static_cast<float>(info[7].As<Napi::Number>().DoubleValue());
  const float rho = static_cast<float>(info[8].As<Napi::Number>().DoubleValue());
  const float eps = static_cast<float>(info[9].As<Napi::Number>().DoubleValue());
  const float decay = static_cast<float>(1.0 - info[5].As<Napi::Number>().DoubleValue() * info[10].As<Napi::Number>().DoubleValue());
  const KernelTable* kt = gKernels;
  const int64_t threads = gPool->size();
  const int64_t chunks = threads > 1 && n >= 2 * kGrain ? threads * 4 : 1;
  std::vector<int64_t> wins(static_cast<size_t>(chunks), 0);
  const int64_t step = (n + chunks - 1) / chunks;
  auto run = [&](int64_t c) {
    const int64_t i0 = c * step, i1 = i0 + step < n ? i0 + step : n;
    if (i0 < i1) wins[c] = kt->sophia(p, g, m, h, hHat, i0, i1, lr, b1, b2, rho, eps, decay);
  };
  if (chunks == 1) run(0);
  else gPool->parallelFor(chunks, run);
  int64_t total = 0;
  for (int64_t w : wins) total += w;
  return Napi::Number::New(info.Env(), static_cast<double>(total));
}

// copyRows(src, srcOffset, srcStride, dst, dstOffset, dstStride, rows, cols): a strided block copy — the core of
// Slice, SplitV, Concat and row gathers.
Napi::Value CopyRows(const Napi::CallbackInfo& info) {
  const float* src = f32(info[0], "src");
  const int64_t srcOffset = i64(info[1]), srcStride = i64(info[2]);
  float* dst = f32(info[3], "dst");
  const int64_t dstOffset = i64(info[4]), dstStride = i64(info[5]);
  const int64_t rows = i64(info[6]), cols = i64(info[7]);
  if (rows <= 0 || cols <= 0) return info.Env().Undefined();
  if (srcOffset + (rows - 1) * srcStride + cols > f32Length(info[0]) ||
      dstOffset + (rows - 1) * dstStride + cols > f32Length(info[3]))
    throw Napi::RangeError::New(info.Env(), "unlearn-native: copyRows out of bounds");
  parallelRange(rows, kGrain / cols + 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++)
      memcpy(dst + dstOffset + r * dstStride, src + srcOffset + r * srcStride, sizeof(float) * cols);
  });
  return info.Env().Undefined();
}

// gatherRows(table, cols, indices (Int32Array), out): out[i] = table[indices[i]] (rows of `cols` floats);
// returns the first out-of-range index, or -1.
Napi::Value GatherRows(const Napi::CallbackInfo& info) {
  const float* table = f32(info[0], "table");
  const int64_t cols = i64(info[1]);
  if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(info.Env(), "unlearn-native: indices must be an Int32Array");
  Napi::Int32Array idx = info[2].As<Napi::Int32Array>();
  float* out = f32(info[3], "out");
  const int64_t n = static_cast<int64_t>(idx.ElementLength());
  const int64_t rows = cols > 0 ? f32Length(info[0]) / cols : 0;
  const int32_t* ip = idx.Data();
  for (int64_t i = 0; i < n; i++)
    if (ip[i] < 0 || ip[i] >= rows) return Napi::Number::New(info.Env(), static_cast<double>(ip[i]));
  parallelRange(n, kGrain / (cols > 0 ? cols : 1) + 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) memcpy(out + r * cols, table + ip[r] * cols, sizeof(float) * cols);
  });
  return Napi::Number::New(info.Env(), -1);
}

// scatterAddRows(updates [n, cols], cols, indices Int32Array [n], out [rows, cols]) -> the first out-of-range index, or
// -1 when all were in range: out = 0, then out[indices[i]] += updates[i] (duplicates summed, in index order). The
// embedding gradient (GatherV2's, as ScatterNd): only the n touched rows are written after the parallel zero fill.
Napi::Value ScatterAddRows(const Napi::CallbackInfo& info) {
  const float* updates = f32(info[0], "updates");
  const int64_t cols = i64(info[1]);
  if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(info.Env(), "unlearn-native: indices must be an Int32Array");
  Napi::Int32Array idx = info[2].As<Napi::Int32Array>();
  float* out = f32(info[3], "out");
  const int64_t n = static_cast<int64_t>(idx.ElementLength());
  const int64_t total = f32Length(info[3]);
  const int64_t rows = cols > 0 ? total / cols : 0;
  need(info, f32Length(info[0]) >= n * cols, "scatterAddRows: updates too small");
  const int32_t* ip = idx.Data();
  for (int64_t i = 0; i < n; i++)
    if (ip[i] < 0 || ip[i] >= rows) return Napi::Number::New(info.Env(), static_cast<double>(ip[i]));
  parallelRange(total, kGrain, [&](int64_t i0, int64_t i1) { memset(out + i0, 0, sizeof(float) * (i1 - i0)); });
  for (int64_t i = 0; i < n; i++) {
    float* __restrict dst = out + ip[i] * cols;
    const float* __restrict src = updates + i * cols;
    for (int64_t j = 0; j < cols; j++) dst[j] += src[j];
  }
  return Napi::Number::New(info.Env(), -1);
}

// multinomial(probs, rows, cols, uniforms (Float64Array, one per sample), out (Int32Array [rows, samples])):
// inverse-CDF sampling exactly as tfjs-backend-cpu does it — float32 running CDF over the first cols−1 events,
// the first event with u < cdf wins, else the last — so the same uniforms give the same samples.
Napi::Value Multinomial(const Napi::CallbackInfo& info) {
  const float* probs = f32(info[0], "probs");
  const int64_t rows = i64(info[1]), cols = i64(info[2]);
  if (!info[3].IsTypedArray() || info[3].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      !info[4].IsTypedArray() || info[4].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(info.Env(), "unlearn-native: multinomial wants Float64Array uniforms and an Int32Array out");
  Napi::Float64Array uniforms = info[3].As<Napi::Float64Array>();
  const double* u = uniforms.Data();
  const int64_t samples = static_cast<int64_t>(uniforms.ElementLength());
  int32_t* out = info[4].As<Napi::Int32Array>().Data();
  if (static_cast<int64_t>(info[4].As<Napi::Int32Array>().ElementLength()) < rows * samples || f32Length(info[0]) < rows * cols)
    throw Napi::RangeError::New(info.Env(), "unlearn-native: multinomial arrays too small");
  parallelRange(rows, kGrain / (cols > 0 ? cols : 1) + 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float* p = probs + r * cols;
      for (int64_t s = 0; s < samples; s++) {
        int32_t pick = static_cast<int32_t>(cols - 1);
        float cdf = 0.f;
        for (int64_t e = 0; e < cols - 1; e++) {
          cdf = e == 0 ? p[0] : cdf + p[e];
          if (u[s] < static_cast<double>(cdf)) {
            pick = static_cast<int32_t>(e);
            break;
          }
        }
        out[r * samples + s] = pick;
      }
    }
  });
  return info.Env().Undefined();
}

// ---- configuration -------------------------------------------------------------------------------------------------
Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("isa", gKernels->isa);
  o.Set("bestIsa", bestIsa());
  o.Set("threads", gPool->size());
  Napi::Array supported = Napi::Array::New(info.Env());
  uint32_t i = 0;
  for (const char* isa : {"avx512", "avx2", "generic"})
    if (cpuHas(isa) && tableFor(isa)) supported.Set(i++, isa);
  o.Set("supportedIsas", supported);
  Napi::Object caches = Napi::Object::New(info.Env());
  caches.Set("l1", static_cast<double>(gCaches.l1));
  caches.Set("l2", static_cast<double>(gCaches.l2));
  caches.Set("l3", static_cast<double>(gCaches.l3));
  caches.Set("l3Sharing", static_cast<double>(gCaches.l3Sharing));
  caches.Set("source", gCaches.source);
  o.Set("caches", caches);
  Napi::Object blocking = Napi::Object::New(info.Env());
  blocking.Set("mr", gKernels->mr);
  blocking.Set("nr", gKernels->nr);
  blocking.Set("kc", static_cast<double>(gBlocking.kc));
  blocking.Set("mc", static_cast<double>(gBlocking.mc));
  blocking.Set("nc", static_cast<double>(gBlocking.nc));
  o.Set("blocking", blocking);
  Napi::Object blas = Napi::Object::New(info.Env());
  blas.Set("mode", gBlas.mode());
  blas.Set("policy", gBlas.policy());
  blas.Set("library", gBlas.loaded() ? Napi::Value(Napi::String::New(info.Env(), gBlas.name())) : info.Env().Null());
  if (gBlas.loaded()) blas.Set("path", gBlas.path());
  int64_t shapes, blasShapes, callsBlas, callsOwn;
  gBlas.stats(shapes, blasShapes, callsBlas, callsOwn);
  blas.Set("shapesMeasured", static_cast<double>(shapes));
  blas.Set("shapesToBlas", static_cast<double>(blasShapes));
  blas.Set("callsBlas", static_cast<double>(callsBlas));
  blas.Set("callsOwn", static_cast<double>(callsOwn));
  o.Set("blas", blas);
  return o;
}

// configure({ isa?, threads? })
Napi::Value Configure(const Napi::CallbackInfo& info) {
  Napi::Object o = info[0].As<Napi::Object>();
  if (o.Has("isa") && !o.Get("isa").IsUndefined()) {
    const std::string isa = o.Get("isa").As<Napi::String>();
    const KernelTable* t = tableFor(isa);
    if (!t || !cpuHas(isa.c_str()))
      throw Napi::Error::New(info.Env(), "unlearn-native: instruction set \"" + isa + "\" is not available on this CPU");
    gKernels = t;
    updateBlocking();
  }
  // blocking: { kc?, mc?, nc? } replaces the derived values (experiments; configure({ isa }) derives them again)
  if (o.Has("blocking") && o.Get("blocking").IsObject()) {
    Napi::Object bo = o.Get("blocking").As<Napi::Object>();
    auto set = [&](const char* key, int64_t& v, int64_t unit) {
      if (bo.Has(key) && bo.Get(key).IsNumber() && i64(bo.Get(key)) > 0) v = roundDown(i64(bo.Get(key)), unit);
    };
    set("kc", gBlocking.kc, 8);
    set("mc", gBlocking.mc, gKernels->mr);
    set("nc", gBlocking.nc, gKernels->nr);
  }
  if (o.Has("blas") && !o.Get("blas").IsUndefined()) {
    const std::string p = o.Get("blas").As<Napi::String>();
    if (!gBlas.setPolicy(p)) throw Napi::Error::New(info.Env(), "unlearn-native: blas must be \"auto\", \"on\" or \"off\" (got \"" + p + "\")");
  }
  if (o.Has("threads") && !o.Get("threads").IsUndefined()) {
    const int64_t n = i64(o.Get("threads"));
    if (n < 1 || n > 256) throw Napi::RangeError::New(info.Env(), "unlearn-native: threads must be 1..256");
    gPool->resize(static_cast<int>(n));
  }
  return Info(info);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  const char* forced = getenv("UNLEARN_NATIVE_ISA");
  const KernelTable* t = forced && *forced ? tableFor(forced) : nullptr;
  gKernels = t && cpuHas(forced) ? t : tableFor(bestIsa());
  gCaches = detectCaches();
  updateBlocking();
  gBlas.load();
  if (!gPool) gPool.reset(new ThreadPool(defaultThreads()));
  exports.Set("gemm", Napi::Function::New(env, Gemm));
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("reduce", Napi::Function::New(env, Reduce));
  exports.Set("softmax", Napi::Function::New(env, Softmax));
  exports.Set("transpose", Napi::Function::New(env, Transpose));
  exports.Set("adamw", Napi::Function::New(env, AdamW));
  exports.Set("multinomial", Napi::Function::New(env, Multinomial));
  exports.Set("copyRows", Napi::Function::New(env, CopyRows));
  exports.Set("gatherRows", Napi::Function::New(env, GatherRows));
  exports.Set("sophia", Napi::Function::New(env, Sophia));
  exports.Set("pickLogProb", Napi::Function::New(env, PickLogProb));
  exports.Set("pickLogProbGrad", Napi::Function::New(env, PickLogProbGrad));
  exports.Set("rmsNorm", Napi::Function::New(env, RmsNorm));
  exports.Set("rmsNormGrad", Napi::Function::New(env, RmsNormGrad));
  exports.Set("rope", Napi::Function::New(env, Rope));
  exports.Set("swiglu", Napi::Function::New(env, SwiGlu));
  exports.Set("swigluGrad", Napi::Function::New(env, SwiGluGrad));
  exports.Set("scatterAddRows", Napi::Function::New(env, ScatterAddRows));
  exports.Set("layerNorm", Napi::Function::New(env, LayerNorm));
  exports.Set("layerNormGrad", Napi::Function::New(env, LayerNormGrad));
  exports.Set("geluTanh", Napi::Function::New(env, GeluTanh));
  exports.Set("geluTanhGrad", Napi::Function::New(env, GeluTanhGrad));
  exports.Set("causalSoftmax", Napi::Function::New(env, CausalSoftmax));
  exports.Set("causalSoftmaxGrad", Napi::Function::New(env, CausalSoftmaxGrad));
  exports.Set("causalAttention", Napi::Function::New(env, CausalAttention));
  exports.Set("causalAttentionGrad", Napi::Function::New(env, CausalAttentionGrad));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("configure", Napi::Function::New(env, Configure));
  return exports;
}

}  // namespace
}  // namespace unlearn_native

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return unlearn_native::Init(env, exports); }
NODE_API_MODULE(NODE_GYP_MODULE_NAME, InitModule)
