// tfjs-core's CommonJS build (what plain Node loads) registers no gradients and no chained ops, and its ESM files use
// extensionless imports Node cannot resolve. Bundle tfjs-core's own registration modules into one ESM file.
// The copy shares the engine and the kernel/gradient registries with the real tfjs-core: tfjs keeps them on the
// global object precisely so that several copies cooperate.
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import path from 'node:path';
const require = createRequire(import.meta.url);
const coreDist = path.dirname(require.resolve('@tensorflow/tfjs-core/package.json')) + '/dist';
await build({
  stdin: {
    contents: [
      `import '${coreDist}/register_all_gradients.js';`,
      `import '${coreDist}/public/chained_ops/register_all_chained_ops.js';`,
    ].join('\n'),
    resolveDir: coreDist,
    sourcefile: 'tfjs-registrations.js',
  },
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  mainFields: ['module', 'main'],
  outfile: new URL('../vendor/tfjs-registrations.js', import.meta.url).pathname,
  logLevel: 'warning',
  legalComments: 'none',
});
