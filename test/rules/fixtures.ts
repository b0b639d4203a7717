import { Address, parseAddress } from "../../src/ids/address";
import { MatrixUserId } from "../../src/ids/matrix";
import { CallFacts, Rule, UserRules } from "../../src/model/rules";

/** A user's rules with everything but `rules` defaulted. */
export function userRules(rules: Rule[], more: Partial<UserRules> = {}): UserRules {
  return {
    userId: "@alice:example.org" as MatrixUserId,
    rules,
    defaultAction: null,
    timeZone: null,
    notifyRefused: true,
    version: 3,
    ...more,
  };
}

export function address(text: string): Address {
  return parseAddress(text);
}

/** A call at an ISO time (give it an offset or Z). */
export function call(caller: string | null, iso: string, verified = false): CallFacts {
  return { caller: caller === null ? null : address(caller), verified, at: Date.parse(iso) };
}
