import { RuleError, Weekday } from "../model/rules";

/**
 * The words of one bot command, read left to right. Keywords are compared
 * lower-cased; the words themselves keep their case (addresses' local parts
 * are case-sensitive). Every complaint quotes the word and the whole command,
 * so users see exactly which part was not understood.
 */
export class Words {
  private at = 0;

  constructor(readonly text: string, private readonly words: readonly string[]) {}

  /** Splits a command into words. `mon, wed` and `09:00 - 17:00` are the
   *  same as `mon,wed` and `09:00-17:00`; dashes may be typographic. */
  static of(text: string): Words {
    const normal = text
      .replace(/[\u2013\u2014]/g, "-")
      .replace(/\s*,\s*/g, ",")
      .replace(/\s+-\s*|\s*-\s+/g, "-")
      .trim();
    return new Words(text.trim(), normal === "" ? [] : normal.split(/\s+/));
  }

  peek(ahead = 0): string | undefined {
    return this.words[this.at + ahead];
  }

  /** The next word lower-cased, for comparing with keywords. */
  keyword(ahead = 0): string | undefined {
    return this.peek(ahead)?.toLowerCase();
  }

  next(): string | undefined {
    const word = this.words[this.at];
    if (word !== undefined) this.at++;
    return word;
  }

  done(): boolean {
    return this.at >= this.words.length;
  }

  /** The words not read yet. */
  rest(): string[] {
    return this.words.slice(this.at);
  }

  /** Complains about `word` (the next one unless given; given as undefined:
   *  nothing was there), or that the command ended where something was expected. */
  fail(expected: string, ...given: [word?: string | undefined]): never {
    const word = given.length > 0 ? given[0] : this.peek();
    if (word === undefined) {
      throw new RuleError(`"${this.text}" stops too soon: expected ${expected}.`);
    }
    throw new RuleError(`I don't understand "${word}" in "${this.text}": expected ${expected}.`, word);
  }

  /** Complains about the first word left over, if any. */
  end(expected = "nothing more"): void {
    if (!this.done()) this.fail(expected);
  }
}

const DAY_NAMES: Readonly<Record<string, Weekday>> = {
  mon: "mon", monday: "mon",
  tue: "tue", tues: "tue", tuesday: "tue",
  wed: "wed", wednesday: "wed",
  thu: "thu", thur: "thu", thurs: "thu", thursday: "thu",
  fri: "fri", friday: "fri",
  sat: "sat", saturday: "sat",
  sun: "sun", sunday: "sun",
};

/** `Mon`, `monday`, … → `mon`; anything else → undefined. */
export function dayByName(word: string): Weekday | undefined {
  return Object.hasOwn(DAY_NAMES, word.toLowerCase()) ? DAY_NAMES[word.toLowerCase()] : undefined;
}

/** `9:00` / `09:00` → `09:00`; `24:00` only when `endOfDay`; else undefined. */
export function parseClock(word: string | undefined, endOfDay = false): string | undefined {
  const m = /^(\d{1,2}):(\d{2})$/.exec(word ?? "");
  if (!m) return undefined;
  const hours = Number(m[1]);
  const minutes = Number(m[2]);
  if (endOfDay && hours === 24 && minutes === 0) return "24:00";
  if (hours > 23 || minutes > 59) return undefined;
  return `${String(hours).padStart(2, "0")}:${m[2]}`;
}
