/** Registered appservices: namespace matching and the interest rules Synapse applies to events. */
import type { Room } from "./room";
import type { AppserviceRegistrationLike, NamespaceEntry, StoredEvent } from "./types";

interface CompiledNamespace {
  exclusive: boolean;
  regex: RegExp;
}

/** Synapse compiles namespaces with Python's re.match: anchored at the start only. */
function compile(entries: NamespaceEntry[] | undefined): CompiledNamespace[] {
  return (entries ?? []).map((e) => ({ exclusive: e.exclusive, regex: new RegExp(`^(?:${e.regex})`) }));
}

function matches(ns: CompiledNamespace[], s: string): CompiledNamespace | undefined {
  return ns.find((n) => n.regex.test(s));
}

export class Appservice {
  readonly senderId: string;
  private readonly users: CompiledNamespace[];
  private readonly rooms: CompiledNamespace[];
  private readonly aliases: CompiledNamespace[];

  constructor(
    readonly reg: AppserviceRegistrationLike,
    serverName: string,
  ) {
    this.senderId = `@${reg.sender_localpart}:${serverName}`;
    this.users = compile(reg.namespaces.users);
    this.rooms = compile(reg.namespaces.rooms);
    this.aliases = compile(reg.namespaces.aliases);
  }

  get id(): string {
    return this.reg.id;
  }

  isUserInNamespace(userId: string): boolean {
    return matches(this.users, userId) !== undefined;
  }

  /** Namespace users plus the sender_localpart user. */
  isInterestedInUser(userId: string): boolean {
    return userId === this.senderId || this.isUserInNamespace(userId);
  }

  isExclusiveUser(userId: string): boolean {
    return userId === this.senderId || matches(this.users, userId)?.exclusive === true;
  }

  isAliasInNamespace(alias: string): boolean {
    return matches(this.aliases, alias) !== undefined;
  }

  /** Room id or alias in namespace, or any *joined* member of interest (Synapse checks joined local users only). */
  isInterestedInRoom(room: Room): boolean {
    const cached = room.appserviceInterest.get(this.id);
    if (cached !== undefined) return cached;
    let interested = matches(this.rooms, room.roomId) !== undefined;
    if (!interested) for (const a of room.aliases) if (this.isAliasInNamespace(a)) interested = true;
    if (!interested) for (const u of room.joined) if (this.isInterestedInUser(u)) interested = true;
    room.appserviceInterest.set(this.id, interested);
    return interested;
  }

  isInterestedInEvent(ev: StoredEvent, room: Room): boolean {
    if (this.isInterestedInUser(ev.sender)) return true;
    if (ev.type === "m.room.member" && ev.state_key !== undefined && this.isInterestedInUser(ev.state_key)) return true;
    return this.isInterestedInRoom(room);
  }
}
