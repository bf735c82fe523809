// Side-effect module: registers every mask builder of this package by name (`get('mask', 'wagle')(options)`).
import { register } from '@unlearn/core';
import { magnitude } from './magnitude.js';
import { random } from './random.js';
import { salun } from './salun.js';
import { wagle } from './wagle.js';

const builders = { wagle, salun, magnitude, random };
for (const [name, factory] of Object.entries(builders)) register('mask', name, factory, { override: true });
