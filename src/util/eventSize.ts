/**
 * Synapse refuses an event whose canonical PDU JSON is over 65,536 bytes
 * (event_auth.py `_check_size_limits`: 413 M_TOO_LARGE). The bridge measures
 * only the content it sends; the rest of the PDU (room, sender and ids of up
 * to 255 characters each, auth and prev events, hashes, the signature) is
 * given 4 KiB. Content is counted as canonical JSON counts it: UTF-8 bytes
 * after JSON escaping ("\r\n" is four bytes).
 */
export const MAX_PDU_BYTES = 65_536;
export const PDU_ENVELOPE_BYTES = 4_096;
export const MAX_CONTENT_JSON_BYTES = MAX_PDU_BYTES - PDU_ENVELOPE_BYTES;

/** The bytes of `value` as JSON (no whitespace, as canonical JSON) in UTF-8. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), "utf8");
}

/**
 * Splits `items`, in order, into runs whose `bytesOf` sum stays within
 * `budget` and that hold at most `maxItems` each. An item over the budget on
 * its own is a run of its own: it cannot be cut, and dropping it would lose it.
 */
export function splitByBytes<T>(items: readonly T[], budget: number, bytesOf: (item: T) => number, maxItems = Infinity): T[][] {
  const runs: T[][] = [];
  let run: T[] = [];
  let used = 0;
  for (const item of items) {
    const bytes = bytesOf(item);
    if (run.length > 0 && (used + bytes > budget || run.length >= maxItems)) {
      runs.push(run);
      run = [];
      used = 0;
    }
    run.push(item);
    used += bytes;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}
