/**
 * Glare: two calls between the same parties cross. Matrix (and WebCall/1 §3)
 * keep the call with the lexicographically lesser id, except that a call
 * arriving while the other side's own call is still being prepared wins.
 */
export function lesserWins(a: string, b: string): string {
  return a < b ? a : b;
}
