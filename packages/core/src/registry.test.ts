import { describe, expect, it } from 'vitest';
import { get, list, register, unregister } from './registry.js';
import type { Objective } from './interfaces.js';

const fakeObjective = (name: string) => (): Objective => ({ name, needs: {}, loss: () => { throw new Error('not used'); } });

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
    register('metric', 'm1', () => ({ name: 'a', compute: async () => 1 }));
    expect(() => register('metric', 'm1', () => ({ name: 'b', compute: async () => 2 }))).toThrow(/already registered/);
    register('metric', 'm1', () => ({ name: 'b', compute: async () => 2 }), { override: true });
    expect(get('metric', 'm1')().name).toBe('b');
    unregister('metric', 'm1');
    expect(() => register('metric', 'has space', () => ({ name: 'x', compute: async () => 0 }))).toThrow(/invalid metric name/);
  });
});
