// ROUGE-1 and ROUGE-L (Lin 2004) exactly as Google's rouge-score computes them with
// `RougeScorer(['rouge1', 'rougeL'], use_stemmer=True)` — the scorer TOFU and open-unlearning report:
// lowercase, every run of non-[a-z0-9] becomes a space, tokens longer than 3 characters are Porter-stemmed (NLTK),
// empty tokens dropped. ROUGE-1 counts clipped unigram overlap; ROUGE-L uses the longest common subsequence.
import { porterStem } from './porter-stemmer.js';

export interface RougeScore {
  precision: number;
  recall: number;
  f1: number;
}

export interface RougeScores {
  rouge1: RougeScore;
  rougeL: RougeScore;
}

const NON_ALPHANUM = /[^a-z0-9]+/g;
const VALID_TOKEN = /^[a-z0-9]+$/;

/** rouge-score's tokenizer (`rouge_score/tokenize.py`) with the stemmer on. */
export function rougeTokenize(text: string, stem = true): string[] {
  // Python's str.lower() and JS toLowerCase() both apply Unicode's full default lowercase mapping.
  const spaced = text.toLowerCase().replace(NON_ALPHANUM, ' ');
  return spaced
    .split(/\s+/)
    .map((t) => (stem && t.length > 3 ? porterStem(t) : t))
    .filter((t) => VALID_TOKEN.test(t));
}

const fmeasure = (precision: number, recall: number): number =>
  precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;

function rougeN1(target: string[], prediction: string[]): RougeScore {
  const targetCounts = new Map<string, number>();
  for (const t of target) targetCounts.set(t, (targetCounts.get(t) ?? 0) + 1);
  const predictionCounts = new Map<string, number>();
  for (const t of prediction) predictionCounts.set(t, (predictionCounts.get(t) ?? 0) + 1);
  let overlap = 0;
  for (const [token, count] of targetCounts) overlap += Math.min(count, predictionCounts.get(token) ?? 0);
  const precision = overlap / Math.max(prediction.length, 1);
  const recall = overlap / Math.max(target.length, 1);
  return { precision, recall, f1: fmeasure(precision, recall) };
}

function lcsLength(a: string[], b: string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  let cur = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

function rougeLcs(target: string[], prediction: string[]): RougeScore {
  if (target.length === 0 || prediction.length === 0) return { precision: 0, recall: 0, f1: 0 };
  const lcs = lcsLength(target, prediction);
  const precision = lcs / prediction.length;
  const recall = lcs / target.length;
  return { precision, recall, f1: fmeasure(precision, recall) };
}

/** ROUGE-1 and ROUGE-L of a prediction against a reference (rouge-score's `scorer.score(reference, prediction)`). */
export function rougeScores(prediction: string, reference: string): RougeScores {
  const target = rougeTokenize(reference);
  const predicted = rougeTokenize(prediction);
  return { rouge1: rougeN1(target, predicted), rougeL: rougeLcs(target, predicted) };
}
