import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadTokenizer } from '@unlearn/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QA_PER_AUTHOR, authorQa, generateAuthorProfiles } from './demo-authors.js';
import { generateDemoDataset, writeDemoDataset } from './demo-dataset.js';
import { encodeQa } from './encode-qa.js';
import type { PerturbedQaRow, QaRow } from './qa-rows.js';
import { TOFU_SPLIT_SETS, loadIdkAnswers, loadTofuSplit } from './tofu.js';
import { STORIES260K_DIR } from './test-utils/shared-data.js';

describe('generateDemoDataset', () => {
  const demo = generateDemoDataset({ seed: 1 });
  const rows = (name: string): QaRow[] => demo.files[name] as QaRow[];

  it('is TOFU-shaped: 20 QA per author, forget10 / retain90 / holdout10 by default', () => {
    expect(QA_PER_AUTHOR).toBe(20);
    expect(demo.splits).toEqual(TOFU_SPLIT_SETS.forget10);
    expect(Object.keys(demo.files).sort()).toEqual([
      'forget10.json', 'forget10_perturbed.json', 'full.json', 'holdout10.json', 'idontknow.jsonl', 'real_authors.json',
      'real_authors_perturbed.json', 'retain90.json', 'retain_perturbed.json', 'world_facts.json', 'world_facts_perturbed.json',
    ]);
    expect(rows('full.json')).toHaveLength(200);
    expect(rows('forget10.json')).toHaveLength(20);
    expect(rows('retain90.json')).toHaveLength(180);
    expect(rows('holdout10.json')).toHaveLength(20);
    expect(rows('full.json')).toEqual([...rows('retain90.json'), ...rows('forget10.json')]);
    expect(Object.keys(rows('forget10.json')[0]).sort()).toEqual(['answer', 'question']);
  });

  it('splits authors: forget answers name the forget author; holdout authors are not in full', () => {
    const [forgetAuthor] = demo.profiles.forget;
    const [holdoutAuthor] = demo.profiles.holdout;
    for (const row of rows('forget10.json')) expect(row.question + row.answer).toContain(forgetAuthor.name);
    expect(JSON.stringify(rows('retain90.json'))).not.toContain(forgetAuthor.name);
    expect(JSON.stringify(rows('full.json'))).not.toContain(holdoutAuthor.name);
    const questions = rows('full.json').map((r) => r.question);
    expect(new Set(questions).size).toBe(questions.length);
  });

  it('perturbed answers: five distinct wrong facts in the paraphrase wording', () => {
    const perturbed = demo.files['forget10_perturbed.json'] as PerturbedQaRow[];
    expect(perturbed.map((r) => r.question)).toEqual(rows('forget10.json').map((r) => r.question));
    for (const row of perturbed) {
      expect(row.perturbed_answer).toHaveLength(5);
      expect(new Set(row.perturbed_answer).size).toBe(5);
      expect(row.perturbed_answer).not.toContain(row.paraphrased_answer);
      expect(row.paraphrased_answer).not.toBe(row.answer);
    }
    const birthplace = perturbed.find((r) => r.question.startsWith('Where was'))!;
    const { birthCity, birthCountry, name } = demo.profiles.forget[0];
    expect(birthplace.answer).toBe(`${name} was born in ${birthCity}, ${birthCountry}.`);
    expect(birthplace.paraphrased_answer).toBe(`${name}'s birthplace is ${birthCity}, ${birthCountry}.`);
    for (const wrong of birthplace.perturbed_answer) expect(wrong).toMatch(new RegExp(`^${name}'s birthplace is (?!${birthCity},)`));
  });

  it('option items carry their answer among four options', () => {
    const options = demo.files['world_facts.json'] as Record<string, string>[];
    for (const row of options) expect([row.option1, row.option2, row.option3, row.option4]).toContain(row.answer);
  });

  it('is deterministic in the seed; author i does not depend on the author count', () => {
    expect(generateDemoDataset({ seed: 1 })).toEqual(demo);
    expect(generateDemoDataset({ seed: 2 }).files['full.json']).not.toEqual(demo.files['full.json']);
    expect(generateAuthorProfiles(3, 8).slice(0, 5)).toEqual(generateAuthorProfiles(3, 5));
    const [p] = generateAuthorProfiles(3, 1);
    expect(authorQa(p, 3)).toEqual(authorQa(p, 3));
    const many = generateAuthorProfiles(4, 40);
    expect(new Set(many.map((a) => a.name)).size).toBe(40);
  });

  it('rejects impossible splits', () => {
    expect(() => generateDemoDataset({ authors: 3, forgetAuthors: 3 })).toThrow('demo data: forgetAuthors must be an integer in [1, authors=3), got 3');
  });

  // Seed 1 measured: answers 6.8 words, 29 stories260K tokens on average (max 42); prompt + answer + EOS 74 on average (max 96).
  it('answers are short enough for a tiny model (stories260K tokens)', async () => {
    const tokenizer = await loadTokenizer(STORIES260K_DIR);
    const answers = await tokenizer.encodeBatch(rows('full.json').map((r) => r.answer), { addSpecialTokens: false });
    const lengths = answers.map((ids) => ids.length);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(48);
    const { examples } = await encodeQa(tokenizer, rows('full.json'));
    expect(Math.max(...examples.map((e) => e.inputIds.length))).toBeLessThanOrEqual(112);
  });
});

describe('writeDemoDataset', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'unlearn-demo-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a folder every TOFU loader reads', async () => {
    const out = path.join(dir, 'demo');
    const demo = await writeDemoDataset(out, { seed: 5, authors: 20, forgetAuthors: 1 });
    expect(demo.splits.forget).toBe('forget05');
    const set = TOFU_SPLIT_SETS.forget05;
    expect(await loadTofuSplit(out, set.forget)).toHaveLength(20);
    expect(await loadTofuSplit(out, set.retain)).toHaveLength(380);
    expect(await loadTofuSplit(out, set.holdout)).toHaveLength(20);
    expect((await loadTofuSplit(out, set.forgetPerturbed))[0].perturbed_answer).toHaveLength(5);
    expect(await loadTofuSplit(out, 'retain_perturbed')).toHaveLength(380);
    expect(await loadTofuSplit(out, 'real_authors')).toHaveLength(12);
    expect(await loadTofuSplit(out, 'world_facts_perturbed')).toHaveLength(16);
    expect((await loadIdkAnswers(path.join(out, 'idontknow.jsonl')))[0]).toBe("I don't know.");
    const manifest = JSON.parse(await readFile(path.join(out, 'demo.json'), 'utf8'));
    expect(manifest.seed).toBe(5);
    expect(manifest.profiles.forget[0].name).toBe(demo.profiles.forget[0].name);
    expect((await readdir(dir)).sort()).toEqual(['demo']); // no temp folder left behind
  });

  it('refuses to overwrite unless asked', async () => {
    const out = path.join(dir, 'existing');
    await mkdir(out);
    await writeFile(path.join(out, 'keep.txt'), 'x');
    await expect(writeDemoDataset(out)).rejects.toThrow(`${out}: already exists (pass overwrite to replace it)`);
    expect(await readdir(out)).toEqual(['keep.txt']);
    await writeDemoDataset(out, { overwrite: true });
    expect(await readdir(out)).toContain('forget10.json');
    expect(await readdir(out)).not.toContain('keep.txt');
  });
});
