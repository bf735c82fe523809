import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { learningRate, RunLog, type RunEvent } from '@unlearn/pipeline';
import { progressPrinter } from './progress.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _e: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('run log and progress', () => {
  it('writes one JSON object per line, hands the same objects to listeners, and prints plain progress lines off a terminal', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'unlearn-log-'));
    dirs.push(dir);
    const stream = new Capture();
    const seen: RunEvent[] = [];
    const log = new RunLog({ file: path.join(dir, 'sub', 'log.jsonl'), onEvent: [(e) => void seen.push(e), progressPrinter({ stream })] });
    log.info('hello');
    log.event('step', { label: 'unlearn', step: 1, total: 2, loss: 1.5, parts: { forget: -2, retain: 0.5 }, tokens: 100 });
    log.event('step', { label: 'unlearn', step: 2, total: 2, loss: 1.25, tokens: 50 });
    log.event('progress-end', { label: 'unlearn', seconds: 0.1, tokens: 150 });
    const events = (await readFile(path.join(dir, 'sub', 'log.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => e.event)).toEqual(['info', 'step', 'step', 'progress-end']);
    expect(events[1]).toMatchObject({ label: 'unlearn', step: 1, loss: 1.5, parts: { forget: -2, retain: 0.5 }, tokens: 100 });
    expect(events[3]).toMatchObject({ label: 'unlearn', tokens: 150 });
    expect(seen).toEqual(events);
    expect(stream.text).toMatch(/^hello\nunlearn 1\/2 \| ETA \d+s \| loss 1\.5000 \(forget -2\.0000, retain 0\.5000\) \| \d+ tok\/s\nunlearn 2\/2 /);
  });

  it('--quiet: nothing on the stream, the log still written', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'unlearn-log-'));
    dirs.push(dir);
    const stream = new Capture();
    const log = new RunLog({ file: path.join(dir, 'log.jsonl'), onEvent: progressPrinter({ stream, quiet: true }) });
    log.info('hidden');
    log.event('step', { label: 'x', step: 1, total: 1, loss: 0 });
    log.event('progress-end', { label: 'x', seconds: 0, tokens: 0 });
    expect(stream.text).toBe('');
    expect((await readFile(path.join(dir, 'log.jsonl'), 'utf8')).split('\n').filter(Boolean)).toHaveLength(3);
  });
});

describe('learning-rate schedules', () => {
  it('warm up linearly, then hold, decay linearly or by cosine to 0', () => {
    expect([0, 1, 2, 3].map((s) => learningRate('constant', 1, s, 4, 2))).toEqual([0.5, 1, 1, 1]);
    expect([0, 1, 2, 3, 4].map((s) => learningRate('linear', 1, s, 4))).toEqual([1, 0.75, 0.5, 0.25, 0]);
    // cosine: ½(1 + cos(π·t/T)) at t = 0, 1, 2 of T = 2 → 1, ½, 0
    expect([0, 1, 2].map((s) => learningRate('cosine', 2, s, 2))).toEqual([2, 1, 0]);
  });

  it('prints warnings (a corrupt checkpoint skipped, a stale lock taken over) even off a terminal', () => {
    const stream = new Capture();
    const log = new RunLog({ onEvent: progressPrinter({ stream }) });
    log.event('warning', { message: 'runs/x/checkpoints/step-000010/model.safetensors: SHA-256 does not match' });
    expect(stream.text).toBe('warning: runs/x/checkpoints/step-000010/model.safetensors: SHA-256 does not match\n');
    const quiet = new Capture();
    new RunLog({ onEvent: progressPrinter({ stream: quiet, quiet: true }) }).event('warning', { message: 'm' });
    expect(quiet.text).toBe('');
  });
});
