// The table of serial, range-based kernels one instruction-set build provides (kernels.inc compiled three times:
// AVX-512, AVX2+FMA, portable). Threading lives in addon.cc: it splits index ranges and calls these on each part.
// Plain C types only: the ISA translation units must not instantiate shared inline (std::) code — the linker could
// keep an AVX-512 copy of it and run it on a machine without AVX-512.
#pragma once
#include <cstddef>
#include <cstdint>

namespace unlearn_native {

enum BinaryOp { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3, kMaximum = 4, kMinimum = 5, kSquaredDifference = 6 };
enum UnaryOp { kExp = 0, kTanh = 1, kNeg = 2, kSquare = 3, kSqrt = 4, kRsqrt = 5, kLog = 6, kRelu = 7, kSigmoid = 8, kAbs = 9, kReciprocal = 10 };
enum Activation { kLinear = 0, kActRelu = 1, kActSigmoid = 2 };

struct GemmArgs {
  // C[m, n] = op(A)[m, k] · op(B)[k, n] for each of `batch` matrices, row-major, dense.
  // transA: A is stored [k, m]; transB: B is stored [n, k]. aBatchStride/bBatchStride 0 = broadcast over the batch.
  const float* a; const float* b; float* c;
  int64_t m, n, k;
  bool transA, transB;
  int64_t aBatchStride, bBatchStride, cBatchStride;
  const float* bias;   // optional [n] (or nullptr), added to every row
  int activation;      // Activation
  int64_t kc, mc, nc;  // cache blocking (blocking.h; the caller derives it from this CPU's caches)
};

struct KernelTable {
  const char* isa;
  int mr, nr;  // the gemm register tile (rows of A x columns of B per micro-kernel call)
  // One (batch index, row block, column block) tile range of a gemm; tiles are numbered batch-major, then rows, cols.
  void (*gemmTiles)(const GemmArgs* g, int64_t rowsPerTile, int64_t colsPerTile, int64_t tileBegin, int64_t tileEnd);
  // out[i] = a[i] op b[i] on a contiguous range, with stride 0 meaning "broadcast this scalar".
  void (*binary)(int op, const float* a, int64_t aStride, const float* b, int64_t bStride, float* out, int64_t n);
  void (*unary)(int op, const float* x, float* out, int64_t n);
  // rows [r0, r1) of an [rows, cols] matrix: out[r] = sum / max over the row.
  void (*rowSum)(const float* x, int64_t cols, float* out, int64_t r0, int64_t r1);
  void (*rowMax)(const float* x, int64_t cols, float* out, int64_t r0, int64_t r1);
  // [outer, reduce, inner] -> [outer, inner], summing (or maxing) over the middle axis, for columns [c0, c1) of inner.
  void (*midReduce)(int isMax, const float* x, int64_t reduce, int64_t inner, float* out, int64_t c0, int64_t c1);
  void (*softmaxRows)(const float* x, int64_t cols, float* out, int64_t r0, int64_t r1, int logSoftmax);
  // Fused transformer pieces, rows [r0, r1) of [rows, cols] (fused.md in the package describes each):
  // log p(label) of each row of logits (picked = x[label] − logsumexp(x), lse saved for the gradient) and its
  // gradient dx = g·(onehot(label) − exp(x − lse)) — no [rows, cols] probability tensor is ever kept.
  void (*pickLogProbRows)(const float* x, const int32_t* labels, int64_t cols, float* picked, float* lse, int64_t r0,
                          int64_t r1);
  void (*pickLogProbGradRows)(const float* x, const int32_t* labels, const float* lse, const float* g, int64_t cols,
                              float* dx, int64_t r0, int64_t r1);
  // RMSNorm y = x·r·w, r = 1/√(mean(x²) + ε) (r saved), and its gradient: dx = r·(dy⊙w) − x·r³·⟨dy⊙w, x⟩/cols,
  // dw += Σ_rows dy⊙x·r (accumulated into dw, the caller sums per-thread partials).
  void (*rmsNormRows)(const float* x, const float* w, int64_t cols, float eps, float* y, float* rstd, int64_t r0,
                      int64_t r1);
  void (*rmsNormGradRows)(const float* x, const float* w, const float* rstd, const float* dy, int64_t cols, float* dx,
                          float* dw, int64_t r0, int64_t r1);
  // RoPE with rotate-half (Su et al. 2021; HF Llama): per row r and head, for i < d/2
  //   y[i] = x[i]·cos[i] − x[i+d/2]·sin[i],  y[i+d/2] = x[i+d/2]·cos[i+d/2] + x[i]·sin[i+d/2]
  // x, y [rows, heads·d]; cos, sin [rows, d]. sign = −1 applies the transpose (the gradient): dx[i] = dy[i]·cos[i] +
  // dy[i+d/2]·sin[i+d/2], dx[i+d/2] = dy[i+d/2]·cos[i+d/2] − dy[i]·sin[i].
  void (*ropeRows)(const float* x, const float* cos, const float* sin, int64_t heads, int64_t d, float sign, float* y,
                   int64_t r0, int64_t r1);
  // SwiGLU y = silu(g)·u on [i0, i1), and its gradient dg = dy·u·σ(g)·(1 + g·(1 − σ(g))), du = dy·g·σ(g).
  void (*swiglu)(const float* g, const float* u, float* y, int64_t i0, int64_t i1);
  void (*swigluGrad)(const float* g, const float* u, const float* dy, float* dg, float* du, int64_t i0, int64_t i1);
  // LayerNorm (Ba et al. 2016) y = (x − μ)·r·γ + β, r = 1/√(var(x) + ε) (μ, r saved), and its gradient with x̂ = (x − μ)·r:
  // dx = r·(dy⊙γ − mean(dy⊙γ) − x̂·mean(dy⊙γ⊙x̂)); dγ += Σ_rows dy⊙x̂, dβ += Σ_rows dy (the caller sums partials).
  void (*layerNormRows)(const float* x, const float* g, const float* b, int64_t cols, float eps, float* y, float* mean,
                        float* rstd, int64_t r0, int64_t r1);
  void (*layerNormGradRows)(const float* x, const float* g, const float* mean, const float* rstd, const float* dy,
                            int64_t cols, float* dx, float* dg, float* db, int64_t r0, int64_t r1);
  // GELU, tanh form (Hendrycks & Gimpel 2016, eq. in §2; GPT-2's gelu_new): y = x·½(1 + tanh(√(2/π)(x + 0.044715x³)))
  // on [i0, i1), and its gradient dx = dy·(½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²)).
  void (*geluTanh)(const float* x, float* y, int64_t i0, int64_t i1);
  void (*geluTanhGrad)(const float* x, const float* dy, float* dx, int64_t i0, int64_t i1);
  // Causal softmax of attention scores, rows [r0, r1) of [batch·tq, tk] (query t = r mod tq sees keys j ≤ t + tk − tq):
  // p = softmax(scale·s) over the visible keys, 0 elsewhere — the scale, the −∞ mask and the softmax in one pass; and
  // its gradient ds = scale·p⊙(dp − ⟨dp, p⟩).
  void (*causalSoftmaxRows)(const float* s, int64_t tq, int64_t tk, float scale, float* p, int64_t r0, int64_t r1);
  void (*causalSoftmaxGradRows)(const float* p, const float* dp, int64_t tk, float scale, float* ds, int64_t r0,
                                int64_t r1);
  // Sophia (Liu et al. 2023, Alg. 3) on [i0, i1), in place: h ← β2·h + (1−β2)·ĥ when hHat is given; m ← β1·m + (1−β1)·g;
  // p ← p·decay − lr·clip(m / max(ρ·h, ε), −1, 1). Returns how many entries were not clipped (|m| < ρ·h).
  int64_t (*sophia)(float* p, const float* g, float* m, float* h, const float* hHat, int64_t i0, int64_t i1, float lr,
                    float beta1, float beta2, float rho, float eps, float decay);
  // AdamW (Loshchilov & Hutter 2019, Alg. 2) on elements [i0, i1): m, v updated in place, p updated in place.
  void (*adamw)(float* p, const float* g, float* m, float* v, int64_t i0, int64_t i1, float lr, float beta1,
                float beta2, float eps, float weightDecay, float biasCorrection1, float biasCorrection2);
  // Causal attention (FlashAttention-2, Dao 2023) for one (batch, head): forward over query rows [i0, i1) of q [tq, d]
  // against k, v [tk, d] (query i sees keys j ≤ i + tk − tq; optional additive bias [tq, tk]) → o [tq, d], stats [tq, 2] = (row max m, 1/Σe^(s−m));
  // backward for one query head: dq written, dk and dv [tk, d] accumulated, P recomputed from q, k and stats.
  void (*attentionFwdRows)(const float* q, const float* k, const float* v, const float* bias, int64_t tq, int64_t tk,
                           int64_t d, float scale, float* o, float* stats, int64_t i0, int64_t i1);
  void (*attentionBwdHead)(const float* q, const float* k, const float* v, const float* bias, const float* o,
                           const float* dO, const float* stats, int64_t tq, int64_t tk, int64_t d, float scale, float* dq,
                           float* dk, float* dv);
};

extern const KernelTable kAvx512Kernels;
extern const KernelTable kAvx2Kernels;
extern const KernelTable kGenericKernels;

}  // namespace unlearn_native
