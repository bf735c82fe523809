// Learning-rate schedules: linear warmup to the peak, then constant, linear decay to 0, or cosine decay to 0.
export type ScheduleName = 'constant' | 'linear' | 'cosine';

/** The learning rate at 0-based `step` of `total`. */
export function learningRate(schedule: ScheduleName, peak: number, step: number, total: number, warmup = 0): number {
  if (warmup > 0 && step < warmup) return (peak * (step + 1)) / warmup;
  if (schedule === 'constant') return peak;
  const span = Math.max(1, total - warmup);
  const progress = Math.min(1, (step - warmup) / span);
  return schedule === 'linear' ? peak * (1 - progress) : 0.5 * peak * (1 + Math.cos(Math.PI * progress));
}
