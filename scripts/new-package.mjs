// Scaffolds packages/<name> with the project's package conventions (exports map, build, test, lint).
// Usage: node scripts/new-package.mjs <name> "<description>"
import fs from 'node:fs';
const [name, description = ''] = process.argv.slice(2);
if (!name) throw new Error('usage: node scripts/new-package.mjs <name> "<description>"');
const dir = `packages/${name}`;
if (fs.existsSync(`${dir}/package.json`)) throw new Error(`${dir} already exists`);
fs.mkdirSync(`${dir}/src`, { recursive: true });
const pkg = {
  name: `@unlearn/${name}`,
  version: '0.1.0',
  description,
  license: 'MIT',
  type: 'module',
  exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } },
  main: './dist/index.js',
  types: './dist/index.d.ts',
  files: ['dist', 'README.md'],
  sideEffects: false,
  scripts: { build: 'tsc -p tsconfig.json', test: 'vitest run', lint: 'tsc -p tsconfig.json --noEmit' },
  publishConfig: { access: 'public' },
};
fs.writeFileSync(`${dir}/package.json`, JSON.stringify(pkg, null, 2) + '\n');
fs.writeFileSync(`${dir}/tsconfig.json`, JSON.stringify({
  extends: '../../tsconfig.base.json',
  compilerOptions: { outDir: 'dist', rootDir: 'src' },
  include: ['src'],
  exclude: ['src/**/*.test.ts', 'src/**/test-utils/**'],
}, null, 2) + '\n');
fs.writeFileSync(`${dir}/vitest.config.ts`, "export { default } from '../../vitest.shared.js';\n");
if (!fs.existsSync(`${dir}/src/index.ts`)) fs.writeFileSync(`${dir}/src/index.ts`, 'export {};\n');
console.log(`created ${dir}`);
