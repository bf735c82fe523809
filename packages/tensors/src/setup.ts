// Side-effect module: makes tfjs-core usable for training in any runtime (plain Node, vitest, bundlers).
// Import order matters: tfjs-core first (it creates the engine), then the cpu backend, then the registrations.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../vendor/tfjs-registrations.js';
import { registerMissingGradients } from './gradients.js';

registerMissingGradients();

// The cpu backend greets its first tensor in Node with advice to install tfjs-node; initBackend() is where the
// choice of backend is made (and explained), so silence the banner.
const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
