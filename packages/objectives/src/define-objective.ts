// The GradDiff skeleton every objective here shares (open-unlearning's `GradDiff.compute_loss`):
//   loss = γ·forget(model, batch) + α·retain(model, batch)
// An objective overrides only its forget term (NPO = GradDiff with a new forget term); the retain term is NLL or
// KL(p_ref‖p_θ) on the retain batch, or the objective's own (RMU). Needs are checked before any forward pass.
import * as tf from '@tensorflow/tfjs-core';
import type { Scalar } from '@tensorflow/tfjs-core';
import { batchNll, type CausalLM, type Objective, type ObjectiveContext, type ObjectiveCurvature, type ObjectiveOutput, type TokenBatch, type UnlearnBatch } from '@unlearn/core';
import { detach } from './detach.js';
import { klTerm, sampledGaussNewtonLoss, scaleTerm, tokenMeanTerm, type GaussNewtonTerm } from './gauss-newton.js';
import { klToReference } from './kl-divergence.js';

/** What a term sees: needs are already checked, so `reference` is set when the objective declared it. */
export interface TermContext extends ObjectiveContext {
  batch: UnlearnBatch;
}

/** A loss term: a scalar (rank-0 tensor), optionally with extra named scalars to log. */
export type TermResult = tf.Tensor | { value: tf.Tensor; parts?: Record<string, tf.Tensor> };
export type Term = (model: CausalLM, ctx: TermContext) => TermResult;
/** The positions a forget term scores and |∂term/∂CE_t| there (see gauss-newton.ts), before the weight γ. */
export type TermCurvature = (model: CausalLM, ctx: TermContext) => GaussNewtonTerm[];

export interface ObjectiveSpec {
  name: string;
  /** What the forget term needs (the retain term's needs are added from `retain`/`retainWeight`). */
  needs?: Objective['needs'];
  forget: Term;
  /** γ (default 1). */
  forgetWeight?: number;
  /** α (default 1); 0 drops the retain term and its needs. */
  retainWeight?: number;
  /** 'nll' (default), 'kl', or the objective's own retain term (which then must declare its needs in `needs`). */
  retain?: 'nll' | 'kl' | Term;
  /**
   * The forget term's Gauss-Newton terms (objective-aware curvature for Sophia's GNB), or `{ none: reason }` when the
   * loss is not a function of token probabilities. Absent: the objective's curvature is unknown (optimizers fall back).
   */
  forgetCurvature?: TermCurvature | { none: string };
}

/** Mean NLL of the model on a token batch (HF `outputs.loss`): @unlearn/core's, re-exported for objective authors. */
export { batchNll };

/** The reference model's logits on `batch`, as a constant (never differentiated). */
export function referenceLogits(reference: CausalLM, batch: TokenBatch): tf.Tensor3D {
  return tf.tidy(() => detach(reference.forward(batch).logits));
}

const retainNll: Term = (model, { batch }) => batchNll(model, batch.retain!);
const retainKl: Term = (model, { batch, reference }) =>
  tf.tidy(() => {
    const retain = batch.retain!;
    return klToReference(model.forward(retain).logits, referenceLogits(reference!, retain), retain.attentionMask);
  });

/** Throws a one-line error naming the objective and the first unmet need. */
export function checkNeeds(name: string, needs: Objective['needs'], batch: UnlearnBatch, ctx: ObjectiveContext): void {
  if (!batch?.forget) throw new Error(`${name} needs batch.forget (the forget set's token batch)`);
  if (needs.retain && !batch.retain) throw new Error(`${name} needs batch.retain (a retain batch), or set retainWeight: 0`);
  if (needs.alternate && !batch.alternate) {
    throw new Error(`${name} needs batch.alternate (alternate answers to the forget questions, e.g. "I don't know")`);
  }
  if (needs.reference && !ctx?.reference) {
    throw new Error(`${name} needs a reference model (ctx.reference: a frozenCopy() of the model before unlearning)`);
  }
}

function split(name: string, term: string, r: TermResult): { value: Scalar; parts: Record<string, Scalar> } {
  const { value, parts } = r instanceof tf.Tensor ? { value: r, parts: {} } : { value: r.value, parts: r.parts ?? {} };
  for (const [k, t] of Object.entries({ [term]: value, ...parts })) {
    if (!(t instanceof tf.Tensor) || t.rank !== 0) {
      tf.dispose([value, ...Object.values(parts)]);
      throw new Error(`${name}: the ${k} term must be a scalar tensor, got ${t instanceof tf.Tensor ? `shape [${t.shape}]` : typeof t}`);
    }
  }
  return { value: value as Scalar, parts: parts as Record<string, Scalar> };
}

/** Builds a core `Objective` from a forget term (and optionally a retain term): loss = γ·forget + α·retain. */
export function defineObjective(spec: ObjectiveSpec): Objective {
  const forgetWeight = spec.forgetWeight ?? 1;
  const retainWeight = spec.retainWeight ?? 1;
  const retainKind = spec.retain ?? 'nll';
  const useRetain = retainWeight > 0;
  const needs: Objective['needs'] = { ...(spec.needs ?? {}) };
  if (useRetain) needs.retain = true;
  if (useRetain && retainKind === 'kl') needs.reference = true;
  for (const k of Object.keys(needs) as (keyof Objective['needs'])[]) if (!needs[k]) delete needs[k];
  const retainTerm: Term = retainKind === 'nll' ? retainNll : retainKind === 'kl' ? retainKl : retainKind;
  const name = spec.name;
  for (const [k, w] of [['forgetWeight', forgetWeight], ['retainWeight', retainWeight]] as const) {
    if (!Number.isFinite(w) || w < 0) throw new Error(`${name}: ${k} must be a finite number ≥ 0, got ${w}`);
  }

  let curvature: ObjectiveCurvature | undefined;
  const fc = spec.forgetCurvature;
  if (fc && typeof fc === 'object') curvature = { kind: 'none', reason: fc.none };
  else if (fc && !(useRetain && typeof retainKind === 'function')) {
    curvature = {
      kind: 'gauss-newton',
      // Σ over the forget terms (×γ) and the retain term (×α) of Σ_t √|c_t|·CE(z_t, ŷ_t): ∇ of it is Sophia's GNB ĝ
      sampledLoss(model: CausalLM, batch: UnlearnBatch, ctx: ObjectiveContext, seed: number) {
        checkNeeds(name, needs, batch, ctx);
        const terms = fc(model, { ...ctx, batch }).map((t) => scaleTerm(t, forgetWeight));
        if (useRetain) {
          const retain = batch.retain!;
          const logits = model.forward(retain).logits;
          terms.push(retainKind === 'kl' ? klTerm(logits, retain.attentionMask, retainWeight) : tokenMeanTerm(logits, retain, retainWeight));
        }
        return sampledGaussNewtonLoss(terms, seed);
      },
    };
  }

  return {
    name,
    specificationVersion: 'v1',
    needs: Object.freeze(needs),
    ...(curvature ? { curvature } : {}),
    loss(model: CausalLM, batch: UnlearnBatch, ctx: ObjectiveContext): ObjectiveOutput {
      checkNeeds(name, needs, batch, ctx);
      const termCtx: TermContext = { ...ctx, batch };
      const forget = split(name, 'forget', spec.forget(model, termCtx));
      const parts: Record<string, Scalar> = { ...forget.parts, forget: forget.value };
      if (!useRetain) return { loss: tf.tidy(() => tf.mul(forget.value, forgetWeight) as Scalar), parts };
      let retain: ReturnType<typeof split>;
      try {
        retain = split(name, 'retain', retainTerm(model, termCtx));
      } catch (e) {
        tf.dispose([forget.value, ...Object.values(forget.parts)]);
        throw e;
      }
      Object.assign(parts, retain.parts, { retain: retain.value });
      const loss = tf.tidy(() => tf.add(tf.mul(forget.value, forgetWeight), tf.mul(retain.value, retainWeight)) as Scalar);
      return { loss, parts };
    },
  };
}
