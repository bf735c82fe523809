// Learning-rate schedules with linear warmup, Hugging Face transformers semantics (get_constant_schedule_with_warmup,
// get_linear_schedule_with_warmup, get_cosine_schedule_with_warmup): during warmup lr·step/warmup (0 at step 0);
// then constant, linear decay to `final` at `total`, or half-cosine decay to `final` at `total`.
import type { LearningRateSchedule } from '@unlearn/core';
import { z } from 'zod';
import { lr, parseOptions } from './options.js';

const base = { lr, warmup: z.number().int().nonnegative().default(0) };
const decaying = z
  .object({ ...base, total: z.number().int().positive(), final: z.number().finite().nonnegative().default(0) })
  .strict()
  .refine((o) => o.warmup < o.total, { message: 'warmup must be shorter than total' });

export type ConstantScheduleOptions = { lr: number; warmup?: number };
export type DecayingScheduleOptions = { lr: number; total: number; warmup?: number; final?: number };

const warm = (step: number, warmup: number) => (step < warmup ? step / warmup : 1);

export function constantSchedule(options: ConstantScheduleOptions): LearningRateSchedule {
  const o = parseOptions('constantSchedule', z.object(base).strict(), options);
  return (step) => o.lr * warm(step, o.warmup);
}

export function linearSchedule(options: DecayingScheduleOptions): LearningRateSchedule {
  const o = parseOptions('linearSchedule', decaying, options);
  return (step) => {
    if (step < o.warmup) return o.lr * warm(step, o.warmup);
    const left = Math.max(0, (o.total - step) / (o.total - o.warmup));
    return o.final + (o.lr - o.final) * left;
  };
}

export function cosineSchedule(options: DecayingScheduleOptions): LearningRateSchedule {
  const o = parseOptions('cosineSchedule', decaying, options);
  return (step) => {
    if (step < o.warmup) return o.lr * warm(step, o.warmup);
    const progress = Math.min(1, (step - o.warmup) / (o.total - o.warmup));
    return o.final + (o.lr - o.final) * 0.5 * (1 + Math.cos(Math.PI * progress));
  };
}
