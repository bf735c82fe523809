export { seededRandom, deriveSeed, mulberry32 } from './seeded-random.js';
export type { SeededRandom } from './seeded-random.js';
export { tfjsSeed } from './tfjs-seed.js';
