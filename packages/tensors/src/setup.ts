// Side-effect module: makes tfjs-core usable for training in any runtime (plain Node, vitest, bundlers).
// Import order matters: tfjs-core first (it creates the engine), then the cpu backend, then the registrations.
import '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../vendor/tfjs-registrations.js';
import { registerMissingGradients } from './gradients.js';

registerMissingGradients();
