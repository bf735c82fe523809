// Round to nearest, ties to even — what numpy's rint, torch.round and CUDA's __float2int_rn do (and what
// bitsandbytes' int8 kernels use). Math.round rounds ties up (2.5 → 3, −2.5 → −2), which would change codes.

/** `x` rounded to the nearest integer, ties to the even one (2.5 → 2, 3.5 → 4, −2.5 → −2). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}
