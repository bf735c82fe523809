// ZLib membership-inference attack (Carlini et al. 2021, §5.1): mean NLL divided by the zlib-compressed length (bytes)
// of the answer text's UTF-8, so text that is merely easy to predict is not mistaken for memorised.
// open-unlearning `ZLIBAttack`: len(zlib.compress(text.encode("utf-8"))) at zlib's default level. pako (a port of
// zlib 1.2.8) is NOT byte-exact with the zlib 1.2.13 Python links: on the 800 TOFU forget10 + holdout10 answers the
// compressed lengths differ by 1.0 % on average (6.7 % at most), so ZLib scores differ from open-unlearning's by
// that factor per sample; test/stats.test.ts bounds the difference (mean < 1.5 %, max ≤ 7 %).
import { deflate } from 'pako';

const utf8 = new TextEncoder();

/** Byte length of zlib.compress(text.encode('utf-8')) at the default level (6). */
export function zlibCompressedLength(text: string): number {
  return deflate(utf8.encode(text)).length;
}

export function zlibScore(avgLoss: number, text: string): number {
  return avgLoss / zlibCompressedLength(text);
}
