// Runs the first ```js block of a package README as written, in plain Node against the built packages (as a user
// would): the script is written inside the package, so `@unlearn/<pkg>` resolves to dist through the exports map.
import { execFile } from 'node:child_process';
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface SnippetOptions {
  /** Packages (folder names under packages/) whose dist must be built first. */
  built: readonly string[];
  /** README to read (default: `<packageDir>/README.md`). */
  readme?: string;
  /** Milliseconds before the script is killed (default 100 s). */
  timeout?: number;
  /** Extra environment variables for the script. */
  env?: Record<string, string>;
}

/** The README's first ```js block, run with `node` from the repository root; resolves to its stdout. */
export async function runReadmeSnippet(packageDir: string, o: SnippetOptions): Promise<string> {
  for (const pkg of o.built) {
    const dist = path.join(REPO_ROOT, 'packages', pkg, 'dist/index.js');
    if (!existsSync(dist)) throw new Error(`${dist} is missing: build first (pnpm build)`);
  }
  const readme = o.readme ?? path.join(packageDir, 'README.md');
  const snippet = /```js\n([\s\S]*?)```/.exec(readFileSync(readme, 'utf8'))?.[1];
  if (!snippet) throw new Error(`${readme}: no \`\`\`js snippet`);
  const script = path.join(packageDir, `.readme-snippet-${process.pid}-${Date.now()}.mjs`);
  await fsp.writeFile(script, snippet);
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [script], {
      cwd: REPO_ROOT, timeout: o.timeout ?? 100_000, env: { ...process.env, ...o.env }, maxBuffer: 1 << 24,
    });
    return stdout;
  } finally {
    await fsp.rm(script, { force: true });
  }
}
