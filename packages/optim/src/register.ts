// Side-effect module: registers every optimizer of this package by name (`get('optimizer', 'sophia')(options)`).
import { register } from '@unlearn/core';
import { adamw } from './adamw.js';
import { influence } from './influence.js';
import { sgd } from './sgd.js';
import { sophia } from './sophia.js';
import { zoAdam } from './zo-adam.js';
import { zoSgd } from './zo-sgd.js';
import { zoSignSgd } from './zo-sign-sgd.js';

const optimizers = { sgd, adamw, sophia, influence, 'zo-sgd': zoSgd, 'zo-adam': zoAdam, 'zo-sign-sgd': zoSignSgd };
for (const [name, factory] of Object.entries(optimizers)) register('optimizer', name, factory as (o?: unknown) => ReturnType<typeof sgd>, { override: true });
