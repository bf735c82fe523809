// A complete TOFU-shaped demo dataset from a seed: fictitious authors split into forget / retain / holdout, the
// perturbed files the truth-ratio metric reads, real_authors / world_facts option items for model utility, and
// refusal strings for IdK objectives. File names follow TOFU (`forget10.json`, `retain90.json`, …) so every loader
// and evaluation that reads TOFU reads this folder unchanged.
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { authorQa, generateAuthorProfiles, type AuthorProfile, type DemoQaRow } from './demo-authors.js';
import type { OptionsPerturbedQaRow, OptionsQaRow, PerturbedQaRow, QaRow } from './qa-rows.js';
import { deriveSeed, seededRandom } from '@unlearn/random';

export interface DemoDatasetOptions {
  seed?: number;
  /** Authors the model is fine-tuned on (forget + retain). Default 10. */
  authors?: number;
  /** Of those, how many to forget (the last ones, as in TOFU). Default 1. */
  forgetAuthors?: number;
  /** Extra authors never trained on, for membership inference (forget vs holdout). Default = forgetAuthors. */
  holdoutAuthors?: number;
}

export interface DemoDataset {
  seed: number;
  profiles: { forget: AuthorProfile[]; retain: AuthorProfile[]; holdout: AuthorProfile[] };
  /** File name (e.g. `forget10.json`) → rows, in TOFU's field layout. */
  files: Record<string, object[] | string[]>;
  /** The split names to read: forget, retain, holdout and forget's perturbed split. */
  splits: { forget: string; retain: string; holdout: string; forgetPerturbed: string };
}

// [question, answer, three wrong options] — general knowledge, written for this project.
const WORLD_FACTS: [string, string, string, string, string][] = [
  ['What color is a clear daytime sky?', 'Blue', 'Green', 'Red', 'Purple'],
  ['How many legs does a spider have?', 'Eight', 'Six', 'Four', 'Ten'],
  ['Which animal is known for its long neck?', 'Giraffe', 'Rabbit', 'Penguin', 'Frog'],
  ['What do bees make?', 'Honey', 'Milk', 'Silk', 'Wool'],
  ['Which season comes after winter?', 'Spring', 'Autumn', 'Summer', 'Monsoon'],
  ['What is frozen water called?', 'Ice', 'Steam', 'Sand', 'Glass'],
  ['Which planet do we live on?', 'Earth', 'Mars', 'Venus', 'Jupiter'],
  ['How many days are in a week?', 'Seven', 'Five', 'Ten', 'Twelve'],
  ['What is the largest ocean on Earth?', 'Pacific', 'Atlantic', 'Indian', 'Arctic'],
  ['Which gas do plants take in from the air?', 'Carbon dioxide', 'Helium', 'Neon', 'Hydrogen'],
  ['What is the capital of France?', 'Paris', 'Rome', 'Madrid', 'Vienna'],
  ['Which star is closest to the Earth?', 'The Sun', 'Sirius', 'Polaris', 'Vega'],
  ['How many hours are in a day?', 'Twenty-four', 'Twelve', 'Thirty', 'Sixty'],
  ['Which bird cannot fly but swims well?', 'Penguin', 'Eagle', 'Sparrow', 'Owl'],
  ['What do caterpillars turn into?', 'Butterflies', 'Spiders', 'Beetles', 'Snails'],
  ['Which continent is Egypt in?', 'Africa', 'Asia', 'Europe', 'South America'],
];
const REAL_AUTHORS: [string, string, string, string, string][] = [
  ["Who wrote 'Pride and Prejudice'?", 'Jane Austen', 'Charles Dickens', 'Mark Twain', 'Leo Tolstoy'],
  ["Who wrote 'Don Quixote'?", 'Miguel de Cervantes', 'Dante Alighieri', 'Victor Hugo', 'Homer'],
  ["Who wrote 'War and Peace'?", 'Leo Tolstoy', 'Fyodor Dostoevsky', 'Anton Chekhov', 'Franz Kafka'],
  ["Who wrote 'The Adventures of Tom Sawyer'?", 'Mark Twain', 'Herman Melville', 'Jack London', 'Edgar Allan Poe'],
  ["Who wrote 'Hamlet'?", 'William Shakespeare', 'Christopher Marlowe', 'John Milton', 'Geoffrey Chaucer'],
  ["Who wrote 'Moby-Dick'?", 'Herman Melville', 'Nathaniel Hawthorne', 'Walt Whitman', 'Henry James'],
  ["Who wrote 'Les Miserables'?", 'Victor Hugo', 'Alexandre Dumas', 'Emile Zola', 'Gustave Flaubert'],
  ["Who wrote 'The Odyssey'?", 'Homer', 'Virgil', 'Ovid', 'Sophocles'],
  ["Who wrote 'Oliver Twist'?", 'Charles Dickens', 'Thomas Hardy', 'George Eliot', 'Jane Austen'],
  ["Who wrote 'The Metamorphosis'?", 'Franz Kafka', 'Thomas Mann', 'Hermann Hesse', 'Bertolt Brecht'],
  ["Who wrote 'Alice's Adventures in Wonderland'?", 'Lewis Carroll', 'J. M. Barrie', 'Roald Dahl', 'Beatrix Potter'],
  ["Who wrote 'The Divine Comedy'?", 'Dante Alighieri', 'Giovanni Boccaccio', 'Petrarch', 'Machiavelli'],
];
// Refusals for IdK objectives, written for this project (TOFU ships its own idontknow.jsonl).
const REFUSALS = [
  "I don't know.", "I'm not sure.", 'I have no idea.', "I can't answer that.", "I don't have that information.",
  "That's not something I know.", "I'm unable to answer that.", 'I do not know the answer.', "Sorry, I don't know.",
  "I can't say.", 'I have no information about that.', "I'm afraid I don't know.",
];

function optionItems(seed: number, salt: string, facts: readonly [string, string, string, string, string][]): {
  options: OptionsQaRow[];
  perturbed: OptionsPerturbedQaRow[];
} {
  const random = seededRandom(deriveSeed(seed, salt));
  const options: OptionsQaRow[] = [];
  const perturbed: OptionsPerturbedQaRow[] = [];
  for (const [question, answer, ...wrong] of facts) {
    const [option1, option2, option3, option4] = random.shuffle([answer, ...wrong]);
    options.push({ question, option1, option2, option3, option4, answer });
    perturbed.push({ question, answer, perturbed_answer: wrong });
  }
  return { options, perturbed };
}

const twoDigits = (n: number): string => String(n).padStart(2, '0');
const qaOnly = (rows: readonly DemoQaRow[]): QaRow[] => rows.map(({ question, answer }) => ({ question, answer }));
const perturbedOnly = (rows: readonly DemoQaRow[]): PerturbedQaRow[] =>
  rows.map(({ question, answer, paraphrased_question, paraphrased_answer, perturbed_answer }) => ({
    question, answer, paraphrased_answer, perturbed_answer, paraphrased_question,
  }));

/** Build the demo dataset in memory (deterministic in its options). */
export function generateDemoDataset(options: DemoDatasetOptions = {}): DemoDataset {
  const seed = options.seed ?? 0;
  const authors = options.authors ?? 10;
  const forgetAuthors = options.forgetAuthors ?? 1;
  const holdoutAuthors = options.holdoutAuthors ?? forgetAuthors;
  if (!Number.isInteger(forgetAuthors) || forgetAuthors < 1 || forgetAuthors >= authors) {
    throw new Error(`demo data: forgetAuthors must be an integer in [1, authors=${authors}), got ${forgetAuthors}`);
  }
  if (!Number.isInteger(holdoutAuthors) || holdoutAuthors < 1) throw new Error(`demo data: holdoutAuthors must be a positive integer, got ${holdoutAuthors}`);
  const forgetPercent = Math.round((100 * forgetAuthors) / authors);
  if (forgetPercent < 1 || forgetPercent > 99) throw new Error(`demo data: forget share ${forgetPercent}% must name a two-digit split (1..99%)`);

  const all = generateAuthorProfiles(seed, authors + holdoutAuthors);
  const profiles = {
    retain: all.slice(0, authors - forgetAuthors),
    forget: all.slice(authors - forgetAuthors, authors),
    holdout: all.slice(authors),
  };
  const qa = (group: AuthorProfile[]): DemoQaRow[] => group.flatMap((p) => authorQa(p, seed));
  const forget = qa(profiles.forget);
  const retain = qa(profiles.retain);
  const holdout = qa(profiles.holdout);
  const world = optionItems(seed, 'world_facts', WORLD_FACTS);
  const real = optionItems(seed, 'real_authors', REAL_AUTHORS);
  const splits = {
    forget: `forget${twoDigits(forgetPercent)}`,
    retain: `retain${twoDigits(100 - forgetPercent)}`,
    holdout: `holdout${twoDigits(forgetPercent)}`,
    forgetPerturbed: `forget${twoDigits(forgetPercent)}_perturbed`,
  };
  return {
    seed,
    profiles,
    splits,
    files: {
      'full.json': qaOnly([...retain, ...forget]),
      [`${splits.forget}.json`]: qaOnly(forget),
      [`${splits.forgetPerturbed}.json`]: perturbedOnly(forget),
      [`${splits.retain}.json`]: qaOnly(retain),
      'retain_perturbed.json': perturbedOnly(retain),
      [`${splits.holdout}.json`]: qaOnly(holdout),
      'real_authors.json': real.options,
      'real_authors_perturbed.json': real.perturbed,
      'world_facts.json': world.options,
      'world_facts_perturbed.json': world.perturbed,
      'idontknow.jsonl': REFUSALS,
    },
  };
}

/** JSON Lines text (objects), or one string per line for the refusal list, as TOFU ships them. */
function fileText(rows: readonly (object | string)[]): string {
  return rows.map((row) => (typeof row === 'string' ? row : JSON.stringify(row))).join('\n') + '\n';
}

/**
 * Write the demo dataset into `dir` (created; must not exist unless `overwrite`), plus `demo.json` with the seed,
 * split names and author profiles. Files are written to a sibling temp folder and renamed into place, so a failure
 * leaves no half-written dataset.
 */
export async function writeDemoDataset(dir: string, options: DemoDatasetOptions & { overwrite?: boolean } = {}): Promise<DemoDataset> {
  const dataset = generateDemoDataset(options);
  const target = path.resolve(dir);
  const exists = await stat(target).then(() => true, () => false);
  if (exists && !options.overwrite) throw new Error(`${dir}: already exists (pass overwrite to replace it)`);
  const temp = `${target}.tmp-${process.pid}-${Date.now()}`;
  try {
    await mkdir(temp, { recursive: true });
    const manifest = { generator: '@unlearn/data generateDemoDataset', options: { ...options, overwrite: undefined }, ...dataset, files: undefined };
    await writeFile(path.join(temp, 'demo.json'), JSON.stringify(manifest, null, 1) + '\n');
    for (const [name, rows] of Object.entries(dataset.files)) await writeFile(path.join(temp, name), fileText(rows));
    if (exists) await rm(target, { recursive: true });
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  return dataset;
}
