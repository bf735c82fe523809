// Builds the Node-API addon with node-gyp (offline: Node's own headers). If it cannot build (no g++/make/python3,
// no headers), print one line and exit 0, so the monorepo build goes on; registerNativeBackend() then throws why,
// and initBackend('auto') falls back to wasm.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
if (process.env.UNLEARN_NATIVE_SKIP_BUILD === '1') {
  console.log('@unlearn/backend-native: addon build skipped (UNLEARN_NATIVE_SKIP_BUILD=1)');
  process.exit(0);
}
// Up to date (addon newer than every source): keep it — a rebuild deletes build/ first, which would break any
// process loading the addon meanwhile.
const addonFile = path.join(pkgDir, 'build', 'Release', 'unlearn_native.node');
const sources = [path.join(pkgDir, 'binding.gyp'), ...readdirSync(path.join(pkgDir, 'native')).map((f) => path.join(pkgDir, 'native', f))];
if (process.env.UNLEARN_NATIVE_REBUILD !== '1' && existsSync(addonFile) &&
    sources.every((f) => statSync(f).mtimeMs <= statSync(addonFile).mtimeMs)) {
  console.log('@unlearn/backend-native: addon up to date (UNLEARN_NATIVE_REBUILD=1 forces a rebuild)');
  process.exit(0);
}
const args = [require.resolve('node-gyp/bin/node-gyp.js'), 'rebuild', '--loglevel=error'];
// Use the headers of the running Node when they sit beside it (distro and official builds both ship them), so
// node-gyp never tries to download them.
const prefix = path.resolve(path.dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
}
const t0 = Date.now();
const r = spawnSync(process.execPath, args, { cwd: pkgDir, encoding: 'utf8', env: { ...process.env, JOBS: '2' } });
const addon = path.join(pkgDir, 'build', 'Release', 'unlearn_native.node');
if (r.status === 0 && existsSync(addon)) {
  console.log(`@unlearn/backend-native: addon built in ${((Date.now() - t0) / 1000).toFixed(1)} s (${path.relative(pkgDir, addon)})`);
} else {
  const lines = `${r.stderr ?? ''}\n${r.stdout ?? ''}\n${r.error?.message ?? ''}`.split('\n').map((l) => l.trim());
  const why = lines.find((l) => /error|not found|ERR!/i.test(l) && !/gyp ERR! (stack|System|command|cwd|node -v|node-gyp -v|not ok)/.test(l)) ?? `node-gyp exited with ${r.status}`;
  rmSync(path.join(pkgDir, 'build'), { recursive: true, force: true }); // nothing half-built left behind
  console.log(`@unlearn/backend-native: addon NOT built, the native backend will be unavailable (${why.slice(0, 200)})`);
}
