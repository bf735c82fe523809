import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkSpecification, get, list, parseOptions, register, unregister } from './registry.js';
import type { Objective } from './interfaces.js';

const fakeObjective = (name: string) => (): Objective => ({ name, specificationVersion: 'v1', needs: {}, loss: () => { throw new Error('not used'); } });

describe('registry', () => {
  it('registers, lists sorted and gets factories by name', () => {
    register('objective', 'zz-test', fakeObjective('zz-test'));
    register('objective', 'aa-test', fakeObjective('aa-test'));
    expect(list('objective').filter((n) => n.endsWith('-test'))).toEqual(['aa-test', 'zz-test']);
    expect(get('objective', 'zz-test')().name).toBe('zz-test');
    unregister('objective', 'zz-test');
    unregister('objective', 'aa-test');
  });

  it('fails on an unknown name with the list of known names', () => {
    register('optimizer', 'known-opt', () => { throw new Error('not used'); });
    expect(() => get('optimizer', 'nope')).toThrow(/unknown optimizer "nope"; known optimizers: .*known-opt/);
    unregister('optimizer', 'known-opt');
    expect(() => get('mask', 'x')).toThrow(/\(none registered\)|known masks/);
  });

  it('refuses duplicates unless overriding, and bad names', () => {
    register('metric', 'm1', () => ({ name: 'a', specificationVersion: 'v1', compute: async () => 1 }));
    expect(() => register('metric', 'm1', () => ({ name: 'b', compute: async () => 2 }))).toThrow(/already registered/);
    register('metric', 'm1', () => ({ name: 'b', specificationVersion: 'v1', compute: async () => 2 }), { override: true });
    expect(get('metric', 'm1')().name).toBe('b');
    unregister('metric', 'm1');
    expect(() => register('metric', 'has space', () => ({ name: 'x', compute: async () => 0 }))).toThrow(/invalid metric name/);
  });

  it('refuses implementations whose specificationVersion is missing or another one, in one line', () => {
    // a product without a version: get() hands back a factory that refuses it
    register('objective', 'old-plugin', (() => ({ name: 'old-plugin', needs: {}, loss: () => { throw new Error('x'); } })) as never);
    expect(() => get('objective', 'old-plugin')()).toThrowError(
      /^objective "old-plugin" has no specificationVersion; this @unlearn\/core implements "v1" \(add specificationVersion: 'v1' or rebuild it against this version\)$/,
    );
    unregister('objective', 'old-plugin');
    register('optimizer', 'v2-plugin', (() => ({ name: 'v2-plugin', specificationVersion: 'v2' })) as never);
    expect(() => get('optimizer', 'v2-plugin')()).toThrowError(/^optimizer "v2-plugin" has specificationVersion "v2"; this @unlearn\/core implements "v1"/);
    unregister('optimizer', 'v2-plugin');
    // a factory that declares another version is refused at registration, and nothing is registered
    const declared = Object.assign(fakeObjective('declared'), { specificationVersion: 'v0' });
    expect(() => register('objective', 'declared', declared)).toThrowError(/^objective factory "declared" has specificationVersion "v0"/);
    expect(list('objective')).not.toContain('declared');
    // a current one passes through unchanged
    register('objective', 'current', fakeObjective('current'));
    expect(get('objective', 'current')().specificationVersion).toBe('v1');
    unregister('objective', 'current');
    expect(() => checkSpecification('mask "m"', { name: 'm' })).toThrowError(/^mask "m" has no specificationVersion/);
  });
});

describe('parseOptions', () => {
  const schema = z.object({ beta: z.number().positive().default(0.1), name: z.string().optional() }).strict();
  it('fills defaults, and names every problem on one line', () => {
    expect(parseOptions('npo', schema, undefined)).toEqual({ beta: 0.1 });
    expect(parseOptions('npo', schema, { beta: 2 })).toEqual({ beta: 2 });
    expect(() => parseOptions('npo', schema, { betta: 1 })).toThrowError(/^npo: invalid options: unknown option "betta"$/);
    expect(() => parseOptions('npo', schema, { beta: -1, name: 3 })).toThrowError(
      /^npo: invalid options: beta: Number must be greater than 0; name: Expected string, received number$/,
    );
  });
});
