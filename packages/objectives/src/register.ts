// Side-effect module: registers every objective of this package by name (`get('objective', 'npo')(options)`).
import { register } from '@unlearn/core';
import { ga } from './ga.js';
import { graddiff } from './graddiff.js';
import { idk } from './idk.js';
import { idkdpo } from './idkdpo.js';
import { kl } from './kl.js';
import { npo } from './npo.js';
import { rmu } from './rmu.js';
import { simnpo } from './simnpo.js';

const objectives = { ga, graddiff, kl, npo, simnpo, idk, idkdpo, rmu };
for (const [name, factory] of Object.entries(objectives)) register('objective', name, factory, { override: true });
