import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadQaJsonl } from './qa-jsonl.js';
import { optionsOf } from './qa-rows.js';
import { isTofuSplitName, loadIdkAnswers, loadTofuSplit, TOFU_SPLITS } from './tofu.js';
import { TOFU_DIR } from './test-utils/shared-data.js';

// Row counts of the TOFU release (../shared/data/PROVENANCE.json).
const ROWS: Record<string, number> = {
  full: 4000, forget01: 40, forget05: 200, forget10: 400, retain90: 3600, retain95: 3800, retain99: 3960,
  holdout01: 40, holdout05: 200, holdout10: 400, forget01_perturbed: 40, forget05_perturbed: 200,
  forget10_perturbed: 400, retain_perturbed: 400, real_authors: 100, world_facts: 117, real_authors_perturbed: 100,
  world_facts_perturbed: 117,
};

describe('TOFU splits', () => {
  it('loads every split with its row count', async () => {
    expect([...TOFU_SPLITS].sort()).toEqual(Object.keys(ROWS).sort());
    for (const split of TOFU_SPLITS) {
      const rows = await loadTofuSplit(TOFU_DIR, split);
      expect(rows.length, split).toBe(ROWS[split]);
    }
  });

  it('types rows by split family', async () => {
    const forget = await loadTofuSplit(TOFU_DIR, 'forget01');
    expect(forget[0].question).toBe('What is the full name of the author born in Kuwait City, Kuwait on 08/09/1956?');
    expect(Object.keys(forget[0]).sort()).toEqual(['answer', 'question']);

    const perturbed = await loadTofuSplit(TOFU_DIR, 'forget01_perturbed');
    expect(perturbed[0].answer).toBe(forget[0].answer);
    expect(perturbed[0].perturbed_answer).toHaveLength(5);
    expect(perturbed[0].paraphrased_answer).toMatch(/^Basil Mahfouz Al-Kuwaiti is the complete name/);

    const options = await loadTofuSplit(TOFU_DIR, 'real_authors');
    expect(optionsOf(options[0])).toEqual(['Charles Dickens', 'William Shakespeare', 'Virginia Woolf', 'Mark Twain']);
    expect(options[0].answer).toBe('William Shakespeare');

    const optionsPerturbed = await loadTofuSplit(TOFU_DIR, 'world_facts_perturbed');
    expect(optionsPerturbed[0]).toEqual({ question: 'Where would you find the Eiffel Tower?', answer: 'Paris', perturbed_answer: ['Berlin', 'London', 'Madrid'] });
  });

  it('recognises split names by family', () => {
    for (const name of [...TOFU_SPLITS, 'forget20', 'retain80', 'holdout20', 'forget20_perturbed']) expect(isTofuSplitName(name), name).toBe(true);
    for (const name of ['forget', 'forget1', 'retain90_perturbed', 'real_authors_x', 'idontknow']) expect(isTofuSplitName(name), name).toBe(false);
  });

  it('reads the 100 refusal strings of idontknow.jsonl', async () => {
    const idk = await loadIdkAnswers(path.join(TOFU_DIR, 'idontknow.jsonl'));
    expect(idk).toHaveLength(100);
    expect(idk[0]).toBe("I'm not certain about that.");
    expect(idk[99]).toBe("I'm not sure I can help with that.");
  });
});

describe('bad data gives one-line errors naming file, line and field', () => {
  let dir: string;
  const write = async (name: string, text: string): Promise<string> => {
    await writeFile(path.join(dir, name), text);
    return path.join(dir, name);
  };
  const qa = (q: unknown, a: unknown): string => JSON.stringify({ question: q, answer: a });
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'unlearn-data-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('wrong type, missing field, bad JSON, non-object, blank lines counted', async () => {
    const good = qa('q', 'a');
    await write('forget10.json', [good, good, '', qa('q', 17)].join('\n'));
    await expect(loadTofuSplit(dir, 'forget10')).rejects.toThrow(`${path.join(dir, 'forget10.json')}:4: field "answer" must be a string, got number`);

    await write('retain90.json', [good, JSON.stringify({ question: 'q' })].join('\n'));
    await expect(loadTofuSplit(dir, 'retain90')).rejects.toThrow(/retain90\.json:2: field "answer" is missing$/);

    await write('holdout10.json', [good, '{"question": "q", "answer": '].join('\n'));
    await expect(loadTofuSplit(dir, 'holdout10')).rejects.toThrow(/holdout10\.json:2: invalid JSON \(.+\)$/);

    await write('full.json', `${good}\n[1, 2]\n`);
    await expect(loadTofuSplit(dir, 'full')).rejects.toThrow(/full\.json:2: expected a JSON object, got an array$/);

    await write('holdout05.json', `[${good}]`);
    await expect(loadTofuSplit(dir, 'holdout05')).rejects.toThrow(/holdout05\.json:1: expected JSON Lines \(one object per line\), found a JSON array$/);

    await write('forget05.json', '\n\n');
    await expect(loadTofuSplit(dir, 'forget05')).rejects.toThrow(/forget05\.json: no rows \(the file is empty\)$/);
  });

  it('nested fields and cross-field rules', async () => {
    const row = { question: 'q', answer: 'a', paraphrased_question: 'pq', paraphrased_answer: 'pa', perturbed_answer: ['x', 3] };
    await write('forget01_perturbed.json', JSON.stringify(row));
    await expect(loadTofuSplit(dir, 'forget01_perturbed')).rejects.toThrow(/forget01_perturbed\.json:1: field "perturbed_answer\[1\]" must be a string, got number$/);

    const options = { question: 'q', option1: 'a', option2: 'b', option3: 'c', option4: 'd', answer: 'e' };
    await write('world_facts.json', JSON.stringify(options));
    await expect(loadTofuSplit(dir, 'world_facts')).rejects.toThrow(/world_facts\.json:1: field "answer": must equal one of option1\.\.option4$/);
  });

  it('missing files and unknown split names', async () => {
    await expect(loadTofuSplit(dir, 'retain99')).rejects.toThrow(/retain99\.json: cannot read file \(ENOENT\)$/);
    // @ts-expect-error not a split name
    await expect(loadTofuSplit(dir, 'forget_all')).rejects.toThrow(/forget_all\.json: "forget_all" is not a TOFU split name/);
  });

  it('every message is a single line', async () => {
    await write('multi.json', '{"question": \n');
    const error = await loadQaJsonl(path.join(dir, 'multi.json')).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).not.toContain('\n');
  });

  it('generic QA JSONL reads named fields', async () => {
    const file = await write('custom.jsonl', [JSON.stringify({ prompt: 'p1', response: 'r1', id: 1 }), JSON.stringify({ prompt: 'p2', response: 'r2' })].join('\n'));
    expect(await loadQaJsonl(file, { questionField: 'prompt', answerField: 'response' })).toEqual([
      { question: 'p1', answer: 'r1' },
      { question: 'p2', answer: 'r2' },
    ]);
    await expect(loadQaJsonl(file)).rejects.toThrow(/custom\.jsonl:1: field "question" is missing$/);
  });

  it('refusal files: JSON string lines decoded, blank lines skipped', async () => {
    const file = await write('idk.jsonl', '"I don\'t know."\n\nNo idea.\n');
    expect(await loadIdkAnswers(file)).toEqual(["I don't know.", 'No idea.']);
    await write('idk-bad.jsonl', 'fine\n"broken\n');
    await expect(loadIdkAnswers(path.join(dir, 'idk-bad.jsonl'))).rejects.toThrow(/idk-bad\.jsonl:2: line starts with a quote but is not a JSON string$/);
  });
});
