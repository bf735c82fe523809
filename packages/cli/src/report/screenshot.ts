// Renders an HTML file to PNG in headless Chromium (Debian's `chromium`), with a throwaway profile and no network
// side traffic. Used by the report screenshot test and `unlearn report --screenshot`.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/** The first Chromium on PATH (or $CHROMIUM), or null. */
export async function findChromium(): Promise<string | null> {
  const names = process.env.CHROMIUM ? [process.env.CHROMIUM] : CANDIDATES;
  for (const name of names) {
    try {
      await run(name, ['--version'], { timeout: 30_000 });
      return name;
    } catch {
      /* try the next one */
    }
  }
  return null;
}

export async function screenshotHtml(
  htmlFile: string,
  pngFile: string,
  options: { width?: number; height?: number; chromium?: string } = {},
): Promise<string> {
  const chromium = options.chromium ?? (await findChromium());
  if (!chromium) throw new Error('no Chromium found (apt-get install -y chromium, or set $CHROMIUM)');
  const profile = await mkdtemp(path.join(os.tmpdir(), 'unlearn-chromium-'));
  try {
    await run(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        `--window-size=${options.width ?? 1200},${options.height ?? 900}`,
        `--screenshot=${path.resolve(pngFile)}`,
        pathToFileURL(path.resolve(htmlFile)).href,
      ],
      { timeout: 90_000 },
    );
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
  const s = await stat(pngFile).catch(() => null);
  if (!s || s.size === 0) throw new Error(`${chromium} wrote no screenshot to ${pngFile}`);
  return pngFile;
}

/** The page's DOM as headless Chromium parsed and laid it out (`--dump-dom`): what a browser really shows. */
export async function dumpDom(htmlFile: string, options: { chromium?: string } = {}): Promise<string> {
  const chromium = options.chromium ?? (await findChromium());
  if (!chromium) throw new Error('no Chromium found (apt-get install -y chromium, or set $CHROMIUM)');
  const profile = await mkdtemp(path.join(os.tmpdir(), 'unlearn-chromium-'));
  try {
    const { stdout } = await run(
      chromium,
      ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run',
        `--user-data-dir=${profile}`, '--dump-dom', pathToFileURL(path.resolve(htmlFile)).href],
      { timeout: 90_000, maxBuffer: 64 * 2 ** 20 },
    );
    return stdout;
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}
