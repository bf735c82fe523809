// Golden tests of the pure statistics against scipy / sklearn / nltk values (fixtures/make_stats.py → stats.json).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  aggregateTruthRatios, exactMemorization, extractionStrength, forgetQuality, harmonicMean, kolmogorovSf,
  ksTwoSample, lossScore, minKPlusPlusScore, minKScore, modelUtility, porterStem, privleak, rocAuc, rougeScores,
  rougeTokenize, truthRatio, zlibCompressedLength, zlibScore,
} from '../src/index.js';
import type { KsAlternative, KsMethod } from '../src/index.js';
import { lcgSample, type LcgSpec } from './lcg.js';

interface Fixture {
  ks: { a: number[] | LcgSpec; b: number[] | LcgSpec; alternative: KsAlternative; method: KsMethod; statistic: number; pvalue: number }[];
  kstwo: { n: number; x: number; sf: number }[];
  auc: { scores: number[]; labels: number[]; auc: number }[];
  rouge: {
    prediction: string; reference: string; tokens: string[];
    rouge1: { precision: number; recall: number; f1: number }; rougeL: { precision: number; recall: number; f1: number };
  }[];
  stems: Record<string, string>;
  zlib: { text: string; length: number }[];
  hmean: { values: number[]; hmean: number }[];
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/stats.json', import.meta.url), 'utf8')) as Fixture;
const data = (x: number[] | LcgSpec): number[] => (Array.isArray(x) ? x : lcgSample(x));

/** |a − b| <= atol + rtol·|b| (numpy.isclose). */
function expectClose(actual: number, expected: number, rtol: number, atol = 0, label = ''): void {
  const ok = Math.abs(actual - expected) <= atol + rtol * Math.abs(expected);
  if (!ok) throw new Error(`${label}: got ${actual}, expected ${expected} (rtol ${rtol}, atol ${atol})`);
}

describe('ksTwoSample vs scipy.stats.ks_2samp', () => {
  it.each(fixture.ks.map((c, i) => [i, c] as const))('case %i', (i, c) => {
    const a = data(c.a);
    const b = data(c.b);
    const r = ksTwoSample(a, b, { alternative: c.alternative, method: c.method });
    const label = `case ${i} (${a.length} vs ${b.length}, ${c.alternative}, ${c.method} → ${r.method})`;
    expectClose(r.statistic, c.statistic, 1e-12, 1e-15, `${label} statistic`);
    expectClose(r.pValue, c.pvalue, 1e-9, 1e-300, `${label} p-value`);
  });

  it('uses the exact method up to 10000 items and the asymptotic one beyond (auto)', () => {
    expect(ksTwoSample([1, 2, 3], [2, 3, 4]).method).toBe('exact');
    expect(ksTwoSample(lcgSample({ seed: 1, n: 10001, scale: 1 }), [0.5]).method).toBe('asymp');
  });

  it('rejects empty samples and NaN with a one-line error', () => {
    expect(() => ksTwoSample([], [1])).toThrow(/non-empty/);
    expect(() => ksTwoSample([1, NaN], [1])).toThrow(/a\[1\] is NaN/);
  });
});

describe('kolmogorovSf vs scipy.stats.kstwo.sf', () => {
  it('matches on every branch (Ruben–Gambino, Durbin matrix, Pomeranz, Pelz–Good, Smirnov)', () => {
    for (const c of fixture.kstwo) expectClose(kolmogorovSf(c.n, c.x), c.sf, 1e-9, 1e-300, `kstwo.sf(${c.x}, ${c.n})`);
  });
});

describe('forgetQuality', () => {
  it('is the two-sided KS p-value on raw truth ratios', () => {
    const c = fixture.ks.find((k) => !Array.isArray(k.a) && k.a.n === 400 && k.alternative === 'two-sided' && k.method === 'auto')!;
    expectClose(forgetQuality(data(c.a), data(c.b)), c.pvalue, 1e-9, 0, 'forget quality');
    expect(forgetQuality([0.5, 0.7, 0.9], [0.5, 0.7, 0.9])).toBe(1);
  });
});

describe('rocAuc vs sklearn.metrics.roc_auc_score', () => {
  it.each(fixture.auc.map((c, i) => [i, c] as const))('case %i', (i, c) => {
    expectClose(rocAuc(c.scores, c.labels), c.auc, 1e-12, 1e-15, `auc case ${i}`);
  });
  it('refuses a single class like sklearn', () => {
    expect(() => rocAuc([0.1, 0.2], [1, 1])).toThrow(/only one class/);
    expect(() => rocAuc([0.1], [2])).toThrow(/labels\[0\] is 2/);
  });
});

describe('Porter stemmer vs nltk PorterStemmer()', () => {
  it(`stems all ${Object.keys(fixture.stems).length} words (TOFU vocabulary + Porter's examples) identically`, () => {
    const wrong = Object.entries(fixture.stems).filter(([w, s]) => porterStem(w) !== s);
    expect(wrong.slice(0, 10).map(([w, s]) => `${w}: ${porterStem(w)} != ${s}`)).toEqual([]);
  });
});

describe('rougeScores vs rouge-score rules with nltk stemming', () => {
  it.each(fixture.rouge.map((c, i) => [i, c] as const))('pair %i', (i, c) => {
    expect(rougeTokenize(c.prediction)).toEqual(c.tokens);
    const r = rougeScores(c.prediction, c.reference);
    for (const kind of ['rouge1', 'rougeL'] as const) {
      for (const f of ['precision', 'recall', 'f1'] as const) expectClose(r[kind][f], c[kind][f], 1e-12, 1e-15, `pair ${i} ${kind}.${f}`);
    }
  });
});

describe('zlib compressed length vs Python zlib.compress', () => {
  // pako ports zlib 1.2.8; Python links zlib 1.2.13, whose match finder picks slightly different matches, so lengths
  // differ by a few bytes on most TOFU answers (measured: mean 1.0 %, max 6.7 %). Known deviation, see README.
  it(`stays within 7 % on ${fixture.zlib.length} texts (TOFU forget10 + holdout10 answers, unicode, long runs)`, () => {
    const rel = fixture.zlib.map((z) => Math.abs(zlibCompressedLength(z.text) - z.length) / Math.max(z.length, 1));
    expect(Math.max(...rel)).toBeLessThanOrEqual(0.07);
    expect(rel.reduce((s, r) => s + r, 0) / rel.length).toBeLessThan(0.015);
    expect(zlibCompressedLength('')).toBe(fixture.zlib.find((z) => z.text === '')!.length);
  });
});

describe('truth ratio and its aggregates (hand-derived)', () => {
  it('R = exp(−mean wrong loss) / exp(−correct loss)', () => {
    // correct loss ln 2 → P = 1/2; wrong losses ln 4 and ln 16 → geometric mean exp(−ln 8) = 1/8; R = (1/8)/(1/2) = 1/4.
    expectClose(truthRatio(Math.log(2), [Math.log(4), Math.log(16)]), 0.25, 1e-9, 0, 'R');
  });
  it('forget: mean min(R, 1/R); others: mean max(0, 1 − R)', () => {
    // R = 0.25, 2, 1: min(R,1/R) = 0.25, 0.5, 1 → mean 0.58333…; max(0, 1−R) = 0.75, 0, 0 → 0.25.
    expectClose(aggregateTruthRatios([0.25, 2, 1], 'closer_to_1_better'), 1.75 / 3, 1e-9, 0, 'forget');
    expectClose(aggregateTruthRatios([0.25, 2, 1], 'true_better'), 0.25, 1e-12, 0, 'retain');
    expect(() => truthRatio(1, [])).toThrow(/at least one/);
  });
});

describe('harmonic mean / model utility', () => {
  it('matches scipy.stats.hmean, including a zero', () => {
    for (const c of fixture.hmean) expectClose(harmonicMean(c.values), c.hmean, 1e-12, 0, `hmean ${c.values}`);
  });
  it('model utility of nine values (hand-derived)', () => {
    // Six 0.5s and three 0.25s: 9 / (6·2 + 3·4) = 9/24 = 0.375.
    const mu = modelUtility({
      retain: { prob: 0.5, rougeL: 0.5, truthRatio: 0.25 },
      realAuthors: { prob: 0.5, rougeL: 0.5, truthRatio: 0.25 },
      worldFacts: { prob: 0.5, rougeL: 0.5, truthRatio: 0.25 },
    });
    expectClose(mu, 0.375, 1e-12, 0, 'model utility');
    expect(() => harmonicMean([0.5, -1])).toThrow(/non-negative/);
  });
});

describe('privleak (hand-derived)', () => {
  it('relative (1 − AUC) gap in percent', () => {
    // AUC_unl = 0.8, AUC_ret = 0.6: ((0.2) − (0.4)) / 0.4 · 100 = −50.
    expectClose(privleak(0.8, 0.6), -50, 1e-8, 0, 'privleak');
    expectClose(privleak(0.5), 0, 0, 1e-12, 'privleak default ref');
    expect(() => privleak(1.2)).toThrow(/AUC lies in/);
  });
});

describe('MIA scores, ES, EM (hand-derived)', () => {
  it('Min-K% takes the lowest ⌊k·n⌋ (at least 1) log-probs', () => {
    // n = 5, k = 0.4 → 2 lowest: −3, −2 → score 2.5; k = 0.1 → 1 value.
    expect(minKScore([-1, -3, -0.5, -2, -0.1], 0.4)).toBeCloseTo(2.5, 12);
    expect(minKScore([-1, -3, -0.5, -2, -0.1], 0.1)).toBeCloseTo(3, 12);
    expect(minKScore([], 0.4)).toBe(0);
  });
  it('Min-K%++ standardises by the vocabulary mean and (clamped) variance', () => {
    // z = (−1 − (−2))/1 = 1, (−3 − (−1))/2 = −1, (−2 − (−2))/√1e-6 = 0 → lowest ⌊0.4·3⌋ = 1: −1 → score 1.
    expect(minKPlusPlusScore([-1, -3, -2], [-2, -1, -2], [1, 4, 0], 0.4)).toBeCloseTo(1, 12);
  });
  it('LOSS and ZLib', () => {
    expect(lossScore(1.25)).toBe(1.25);
    expect(zlibScore(2, 'aaaa')).toBeCloseTo(2 / zlibCompressedLength('aaaa'), 15);
  });
  it('extraction strength: shortest prefix after which the rest is reproduced', () => {
    expect(extractionStrength([1, 2, 3, 4], [1, 2, 3, 4])).toBe(1);
    expect(extractionStrength([9, 2, 3, 4], [1, 2, 3, 4])).toBe(0.75);
    expect(extractionStrength([1, 2, 3, 9], [1, 2, 3, 4])).toBe(0.25); // open-unlearning's loop floor: 1/L
    expect(extractionStrength([], [])).toBe(0);
  });
  it('exact memorization: fraction of tokens predicted', () => {
    expect(exactMemorization([1, 0, 3, 0], [1, 2, 3, 4])).toBe(0.5);
    expect(exactMemorization([], [])).toBeNull();
  });
});
