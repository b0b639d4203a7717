import { Address, domainOf, localPartOf } from "./address";
import { MatrixUserId, localpartOfUser, serverOfUser, tryParseMatrixUserId } from "./matrix";

/** The homeserver's own users ⇄ addresses on its domain:
 *  @alice:example.org ⇄ alice@example.org. */
export class LocalUsers {
  constructor(private readonly serverName: string, private readonly isVirtual: (userId: string) => boolean) {}

  /** The Matrix user an address reaches on this homeserver, if any could exist. */
  userIdFor(address: Address): MatrixUserId | undefined {
    if (domainOf(address) !== this.serverName.toLowerCase()) return undefined;
    const userId = tryParseMatrixUserId(`@${localPartOf(address)}:${this.serverName}`);
    return userId && !this.isVirtual(userId) ? userId : undefined;
  }

  addressOf(userId: MatrixUserId): Address | undefined {
    if (serverOfUser(userId) !== this.serverName || this.isVirtual(userId)) return undefined;
    return `${localpartOfUser(userId)}@${this.serverName.toLowerCase()}` as Address;
  }
}
