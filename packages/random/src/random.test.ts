import { describe, expect, it } from 'vitest';
import { deriveSeed, mulberry32, seededRandom } from './index.js';

describe('seededRandom', () => {
  it('is mulberry32: the reference C implementation gives these outputs for seed 0', () => {
    // mulberry32 (Tommy Ettinger): z = (s += 0x6D2B79F5); z = (z ^ z>>15)·(z|1); z ^= z + (z ^ z>>7)·(z|61); z ^ z>>14
    // first outputs for s = 0, computed by hand-porting the C with 32-bit arithmetic (Python below in the comment):
    //   def m(s): s=(s+0x6D2B79F5)&M; z=s; z=((z^(z>>15))*(z|1))&M; z^=(z+((z^(z>>7))*(z|61)))&M; return s,(z^(z>>14))&M
    const r = seededRandom(0);
    const outs = [r.uint32(), r.uint32(), r.uint32()];
    expect(outs).toEqual([1144304738, 1416247, 958946056]);
    expect(seededRandom(0).next()).toBe(1144304738 / 4294967296);
    expect(mulberry32(0)()).toBe(1144304738 / 4294967296);
  });

  it('continues a stream from its state, and shuffles / samples deterministically', () => {
    const a = seededRandom(42);
    a.uint32();
    const b = seededRandom(a.state);
    expect(b.uint32()).toBe(a.uint32());
    expect(seededRandom(5).shuffle([1, 2, 3, 4, 5, 6])).toEqual(seededRandom(5).shuffle([1, 2, 3, 4, 5, 6]));
    expect(seededRandom(5).shuffle([1, 2, 3, 4, 5, 6]).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => seededRandom(1).sample([1], 2)).toThrow('seededRandom.sample: asked for 2 of 1 items');
    expect(deriveSeed(1, 'a')).not.toBe(deriveSeed(1, 'b'));
    expect(deriveSeed(1, 'epoch', 2)).toBe(deriveSeed(1, 'epoch', 2));
  });
});
