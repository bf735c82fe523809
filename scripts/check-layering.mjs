// The import arrows of the monorepo read one way: a package may depend on (and import) packages of LOWER layers only.
//   0  core, random, backend-native       the spec; a PRNG; a backend (tfjs only)
//   1  tensors, data, objectives           backend setup + codec; data → batches; objectives
//   2  models, optim, attribution, metrics
//   3  train                               the Trainer, curvature probe, checkpoints
//   4  pipeline                            finetune / unlearn / evaluate as an API
//   5  cli                                 the `unlearn` command
// test-utils is private and may only appear in devDependencies. Checked: each package.json's dependencies,
// peerDependencies and optionalDependencies, and every @unlearn/* import in src/ (tests excluded) — which must also be
// declared. Usage: node scripts/check-layering.mjs (exit 1 with one line per violation).
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const LAYERS = {
  core: 0, random: 0, 'backend-native': 0,
  tensors: 1, data: 1, objectives: 1,
  models: 2, optim: 2, attribution: 2, metrics: 2,
  train: 3,
  robustness: 3, // quantizers, prompt attacks, Q/R scores: no Trainer needed, so the relearn loop lives in pipeline/src/attack.ts
  pipeline: 4,
  cli: 5,
};

function sourceFiles(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'test-utils' && name !== 'node_modules') out.push(...sourceFiles(p));
    } else if (/\.(ts|mts|js|mjs)$/.test(name) && !/\.test\.[mc]?[tj]s$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Packages a package loads at run time only when installed (a dynamic import in a try), without declaring them. */
export const OPTIONAL_PLUGINS = { tensors: ['@unlearn/backend-native'] };

/** Violations (one line each) of the layering in `packagesDir`. */
export function checkLayering(packagesDir, layers = LAYERS) {
  const problems = [];
  for (const dir of readdirSync(packagesDir).sort()) {
    const manifest = path.join(packagesDir, dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
    const short = pkg.name.replace(/^@unlearn\//, '');
    const runtime = { ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies };
    if (short === 'test-utils') {
      if (!pkg.private) problems.push(`${manifest}: @unlearn/test-utils must be "private": true`);
      continue;
    }
    const mine = layers[short];
    if (mine === undefined) {
      problems.push(`${manifest}: ${pkg.name} has no layer (add it to LAYERS in scripts/check-layering.mjs)`);
      continue;
    }
    const check = (dep, where) => {
      const other = dep.replace(/^@unlearn\//, '');
      if (other === short) return;
      if (other === 'test-utils') problems.push(`${where}: ${pkg.name} uses @unlearn/test-utils outside its tests`);
      else if (layers[other] === undefined) problems.push(`${where}: ${dep} has no layer`);
      else if (layers[other] >= mine) problems.push(`${where}: ${pkg.name} (layer ${mine}) depends on ${dep} (layer ${layers[other]}); arrows must point down`);
    };
    for (const dep of Object.keys(runtime).filter((d) => d.startsWith('@unlearn/'))) check(dep, manifest);
    for (const file of sourceFiles(path.join(packagesDir, dir, 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](@unlearn\/[a-z-]+)(?:\/[a-z-]+)?['"]/g)) {
        const dep = m[1];
        if (dep === pkg.name) continue;
        check(dep, file);
        if (!(dep in runtime) && !(OPTIONAL_PLUGINS[short] ?? []).includes(dep)) problems.push(`${file}: imports ${dep}, which ${manifest} does not declare as a dependency`);
      }
    }
  }
  return [...new Set(problems)];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../packages');
  const problems = checkLayering(root);
  for (const p of problems) console.error(p);
  if (problems.length) process.exit(1);
  console.log(`layering: ${Object.keys(LAYERS).length} packages, every arrow points down`);
}
