// Guard: the library code of @unlearn/core, @unlearn/train and @unlearn/optim never reads tensors synchronously (`.dataSync()`,
// `.arraySync()` throw on WebGPU in Node: no OffscreenCanvas) and never calls tf.addN (tfjs-backend-webgpu 4.22's AddN
// ignores the storage-buffer limit: ≥ 8 inputs silently drop the command batch; use sumScalars / addAll instead).
// Tests and test-utils may read synchronously: they run on cpu.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packagesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ROOTS = ['core/src', 'train/src', 'optim/src'];

function librarySources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'test-utils' ? [] : librarySources(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [full] : [];
  });
}

/** `file:line: text` for every line of the library sources matching `pattern`. */
function offenders(pattern: RegExp): string[] {
  return ROOTS.flatMap((root) => librarySources(path.join(packagesDir, root))).flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((line, i) => (pattern.test(line) ? [`${path.relative(packagesDir, file)}:${i + 1}: ${line.trim()}`] : [])),
  );
}

describe('no synchronous readback in core/train/optim library code', () => {
  it('scans the library sources (and would see a call)', () => {
    const files = ROOTS.flatMap((root) => librarySources(path.join(packagesDir, root)));
    expect(files.some((f) => f.endsWith(path.join('train', 'src', 'trainer.ts')))).toBe(true);
    expect(files.some((f) => f.endsWith(path.join('optim', 'src', 'sophia.ts')))).toBe(true);
    expect(files.some((f) => f.includes('test-utils') || f.endsWith('.test.ts'))).toBe(false);
    expect(/\.(dataSync|arraySync)\(/.test('const v = t.dataSync()[0];')).toBe(true);
  });

  it('has no .dataSync( or .arraySync( (use `await t.data()`)', () => {
    expect(offenders(/\.(dataSync|arraySync)\(/)).toEqual([]);
  });

  it('has no tf.addN( (use sumScalars / addAll: webgpu AddN breaks at 8 inputs)', () => {
    expect(offenders(/\btf\.addN\(/)).toEqual([]);
  });
});
