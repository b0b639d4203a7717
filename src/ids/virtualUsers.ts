import { DomainError } from "../errors/DomainError";
import { Address, tryParseAddress } from "./address";
import { MatrixUserId, localpartOfUser, serverOfUser } from "./matrix";

/**
 * WebCall address ⇄ virtual Matrix user, with the reversible escaping the
 * Matrix spec suggests for foreign ids: `_` → `__`, an upper-case letter →
 * `_` + its lower case, anything else outside a Matrix localpart → `=xx`.
 *   alf@employer.com  ⇄  @webcall_alf=40employer.com:example.org
 *   Bob_B@x.org       ⇄  @webcall__bob___b=40x.org:example.org
 */
export class VirtualUsers {
  constructor(private readonly prefix: string, private readonly serverName: string) {}

  /** The virtual user that stands for anonymous callers (no `=40`, so it can
   *  never collide with an escaped address). */
  get anonymous(): MatrixUserId {
    return `@${this.prefix}anonymous:${this.serverName}` as MatrixUserId;
  }

  /** Throws 400 WEBCALL_BAD_ADDRESS for an address whose user id would be
   *  longer than Matrix allows (255: Synapse registers such a user but refuses every event it sends). */
  userIdFor(address: Address | null): MatrixUserId {
    if (address === null) return this.anonymous;
    const userId = `@${this.prefix}${escapeLocalpart(address)}:${this.serverName}`;
    if (userId.length > MAX_USER_ID_LENGTH) {
      throw new DomainError("WEBCALL_BAD_ADDRESS",
        `${address.length > 40 ? address.slice(0, 40) + "…" : address} is too long to be a Matrix user here: its user id would be ${userId.length} characters, at most ${MAX_USER_ID_LENGTH}`);
    }
    return userId as MatrixUserId;
  }

  isVirtual(userId: string): boolean {
    return userId.startsWith(`@${this.prefix}`) && userId.endsWith(`:${this.serverName}`);
  }

  /** The address a virtual user stands for; null for the anonymous user,
   *  undefined for anything that is not one of ours. */
  addressOf(userId: MatrixUserId): Address | null | undefined {
    if (!this.isVirtual(userId) || serverOfUser(userId) !== this.serverName) return undefined;
    if (userId === this.anonymous) return null;
    const unescaped = unescapeLocalpart(localpartOfUser(userId).slice(this.prefix.length));
    return unescaped === undefined ? undefined : tryParseAddress(unescaped);
  }

  /** The namespace regex for the registration file. */
  get namespaceRegex(): string {
    return `@${escapeRegex(this.prefix)}.*:${escapeRegex(this.serverName)}`;
  }
}

/** Matrix user ids are at most 255 bytes; escaped localparts are ASCII. */
const MAX_USER_ID_LENGTH = 255;

export function escapeLocalpart(input: string): string {
  let out = "";
  for (const ch of input) {
    if (/[a-z0-9.\-/+]/.test(ch)) out += ch;
    else if (ch === "_") out += "__";
    else if (/[A-Z]/.test(ch)) out += "_" + ch.toLowerCase();
    else out += Array.from(Buffer.from(ch, "utf8"), (b) => "=" + b.toString(16).padStart(2, "0")).join("");
  }
  return out;
}

export function unescapeLocalpart(escaped: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < escaped.length; i++) {
    const ch = escaped[i]!;
    if (ch === "_") {
      const next = escaped[i + 1];
      if (next === "_") bytes.push(0x5f);
      else if (next !== undefined && /[a-z]/.test(next)) bytes.push(next.toUpperCase().charCodeAt(0));
      else return undefined;
      i++;
    } else if (ch === "=") {
      const hex = escaped.slice(i + 1, i + 3);
      if (!/^[0-9a-f]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (/[a-z0-9.\-/+]/.test(ch)) {
      bytes.push(ch.charCodeAt(0));
    } else {
      return undefined;
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
