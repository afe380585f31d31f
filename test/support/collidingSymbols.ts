/**
 * Two valid symbols that client order id scheme 1 gave one id: the same first 12 characters (the part of
 * a long symbol that scheme wrote out) and the same 32-bit FNV-1a over the whole symbol. Found by a
 * birthday search over `COLLIDEPREFX` and six more characters: about 2^16 candidates, a fraction of a
 * second.
 */
const fnv1a32 = (text: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

export const PREFIX = "COLLIDEPREFX"

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

/**
 * Suffixes drawn from a fixed-seed xorshift, so every run of the test finds the same pair: a counter's
 * suffixes, alike but for their last characters, collide far later (FNV-1a's last steps are one-to-one).
 */
export const findCollidingSymbols = (): readonly [string, string] => {
  const seen = new Map<number, string>()
  let state = 0x2545f491
  const next = () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) % ALPHABET.length
  }
  for (let n = 0; n < 10_000_000; n++) {
    let symbol = PREFIX
    for (let k = 0; k < 6; k++) symbol += ALPHABET[next()]
    const h = fnv1a32(symbol)
    const other = seen.get(h)
    if (other !== undefined && other !== symbol) return [other, symbol]
    seen.set(h, symbol)
  }
  throw new Error("no collision among 10,000,000 candidates")
}
