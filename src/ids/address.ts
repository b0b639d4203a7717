import { Brand } from "./brand";
import { DomainError } from "../errors/DomainError";

/** A WebCall address, `local@domain`, with the domain lower-cased. */
export type Address = Brand<string, "Address">;

const LOCAL_PART = /^[A-Za-z0-9._=+/-]{1,255}$/;
// Hostname labels; no ports, no IP literals: a domain names a WebCall namespace.
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Parses an address, or returns undefined. The local part is case-sensitive;
 *  the domain is compared case-insensitively, so it is lower-cased here. */
export function tryParseAddress(input: unknown): Address | undefined {
  if (typeof input !== "string") return undefined;
  const at = input.lastIndexOf("@");
  if (at <= 0) return undefined;
  const local = input.slice(0, at);
  const domain = input.slice(at + 1).toLowerCase();
  if (!LOCAL_PART.test(local) || !DOMAIN.test(domain)) return undefined;
  return `${local}@${domain}` as Address;
}

export function parseAddress(input: unknown, field = "address"): Address {
  const address = tryParseAddress(input);
  if (!address) {
    throw new DomainError("WEBCALL_BAD_ADDRESS",
      `${field} must be an address of the form local@domain (local part 1-255 of A-Z a-z 0-9 . _ = + / -)`);
  }
  return address;
}

export function localPartOf(address: Address): string {
  return address.slice(0, address.lastIndexOf("@"));
}

export function domainOf(address: Address): string {
  return address.slice(address.lastIndexOf("@") + 1);
}
