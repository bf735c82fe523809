// What the CLI suites share: `main` run in process with captured output, the tiny Llama config and generated data
// they train on, and SIGKILLing a child run at a chosen moment.
import type { ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateDemoDataset, writeDemoDataset } from '@unlearn/data';
import { buildWordTokenizer } from '@unlearn/pipeline';
import { Writable } from 'node:stream';
import { main } from '../src/cli.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

/** Runs `unlearn …argv` in this process; resolves with its exit code and what it wrote. */
export async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await main(argv, { stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** A 1-layer Llama small enough for a run in a second (HF config.json content). */
export const tinyLlama = {
  model_type: 'llama', hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2,
  num_key_value_heads: 1, max_position_embeddings: 96, tie_word_embeddings: true, bos_token_id: 1, eos_token_id: 2, pad_token_id: 3,
};

/** SIGKILLs `proc` as soon as `ready()` holds (polled every 5 ms: the kill lands anywhere, mid-write included). */
export function killWhen(proc: ChildProcess, ready: () => boolean): Promise<{ signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (ready()) {
        proc.kill('SIGKILL');
        clearInterval(timer);
      }
    }, 5);
    proc.on('exit', (_code, signal) => {
      clearInterval(timer);
      resolve({ signal });
    });
  });
}

/** Generated TOFU-format data (3 authors, the first forgotten) in `dir`/data and a word tokenizer over every text the
 *  runs will encode (prompt template included) in `dir`/tok. */
export async function writeTinyRunAssets(dir: string): Promise<{ dataDir: string; tokDir: string }> {
  const dataDir = path.join(dir, 'data');
  await writeDemoDataset(dataDir, { seed: 1, authors: 3, forgetAuthors: 1 });
  const files = generateDemoDataset({ seed: 1, authors: 3, forgetAuthors: 1 }).files;
  const texts = Object.values(files).flatMap((rows) => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r).replace(/[{}":,[\]]/g, ' '))));
  texts.push('Question: Answer: \n ? . , \' -');
  const tok = buildWordTokenizer(texts);
  const tokDir = path.join(dir, 'tok');
  await mkdir(tokDir, { recursive: true });
  await writeFile(path.join(tokDir, 'tokenizer.json'), tok.tokenizerJson);
  await writeFile(path.join(tokDir, 'tokenizer_config.json'), tok.tokenizerConfig);
  return { dataDir, tokDir };
}
