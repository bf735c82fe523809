// @unlearn/test-utils (private): what several packages' tests share — the two toy LMs and the README-snippet runner.
export { createToyLM, toyWeights, tokenBatch, disposeUnlearnBatch, meanNll, toyGA, toyGradDiff } from './mean-toy-lm.js';
export type { ToyWeights } from './mean-toy-lm.js';
export { ToyLM, fixtureBatch, disposeBatch, disposeBatches } from './fixture-toy-lm.js';
export type { FixtureTensor, FixtureTokens } from './fixture-toy-lm.js';
export { runReadmeSnippet, REPO_ROOT } from './readme-snippet.js';
export type { SnippetOptions } from './readme-snippet.js';
export { useTestBackend, SHARED_DIR, STORIES260K_DIR, TOFU_DIR } from './backend.js';
export { useLeakCheckedBackend } from './leak-check.js';
