// TOFU's "I don't know" targets (Maini et al. 2024, §4: the IdK / preference-optimisation objective): each forget
// question paired with a refusal drawn from idontknow.jsonl. Drawn once per row from a seeded stream, so runs repeat.
import type { QaRow } from './qa-rows.js';
import { seededRandom } from '@unlearn/random';

/** Forget rows with their answers replaced by seeded refusals; row i answers rows[i].question. */
export function idkAlternates(rows: readonly QaRow[], refusals: readonly string[], seed = 0): QaRow[] {
  if (refusals.length === 0) throw new Error('idkAlternates: no refusal strings');
  const random = seededRandom(seed);
  return rows.map((row) => ({ question: row.question, answer: random.pick(refusals) }));
}
