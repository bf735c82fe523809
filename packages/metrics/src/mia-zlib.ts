// ZLib membership-inference attack (Carlini et al. 2021, §5.1): mean NLL divided by the zlib-compressed length (bytes)
// of the answer text's UTF-8, so text that is merely easy to predict is not mistaken for memorised.
// open-unlearning `ZLIBAttack`: len(zlib.compress(text.encode("utf-8"))) at zlib's default level; pako is a
// byte-exact port of zlib, so the lengths equal Python's (checked on every TOFU answer in the tests).
import { deflate } from 'pako';

const utf8 = new TextEncoder();

/** Byte length of zlib.compress(text.encode('utf-8')) at the default level (6). */
export function zlibCompressedLength(text: string): number {
  return deflate(utf8.encode(text)).length;
}

export function zlibScore(avgLoss: number, text: string): number {
  return avgLoss / zlibCompressedLength(text);
}
