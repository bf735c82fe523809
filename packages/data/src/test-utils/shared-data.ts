// Paths of the real data beside the checkout (../shared): TOFU, stories260K, corpora. Never copied into the repo.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const SHARED = path.resolve(repoRoot, '../shared');
export const TOFU_DIR = path.join(SHARED, 'data/tofu');
export const STORIES260K_DIR = path.join(SHARED, 'models/stories260K');
export const CORPORA_DIR = path.join(SHARED, 'data/corpora');
