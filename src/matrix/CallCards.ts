import { Address, tryParseAddress } from "../ids/address";
import { LocalUsers } from "../ids/localUsers";
import { RulesService } from "../rules/RulesService";
import { CallCard, CallPageDirectory } from "../webcall/callPage/routes";
import { HomeserverClient } from "./HomeserverClient";

/**
 * What the call link page shows about the person a link names: the address
 * always, and a display name only for a user who takes link calls, that is
 * whose rules, asked about an anonymous caller now, ring. Everyone else
 * (unknown names, rotas, users who refuse anonymous callers, users with no
 * display name) gets the same card, the address alone, so the page tells a
 * visitor nothing the callee did not choose to publish by allowing
 * anonymous callers. The listener holds every card answer to one time, so
 * the homeserver lookup does not show either.
 */
export class CallCards implements CallPageDirectory {
  constructor(private readonly homeserver: HomeserverClient, private readonly rules: RulesService,
    private readonly localUsers: LocalUsers, private readonly now: () => number = Date.now) {}

  async card(address: string): Promise<CallCard> {
    const parsed = tryParseAddress(address);
    const userId = parsed && this.localUsers.userIdFor(parsed as Address);
    if (!userId) return { address };
    const decision = await this.rules.decide(userId, { caller: null, verified: false, at: this.now() });
    if (decision.action !== "ring") return { address };
    const displayName = await this.homeserver.displayName(userId);
    return displayName === undefined ? { address } : { address, displayName: displayName.slice(0, 256) };
  }
}
