/** Local accounts: profiles, devices and access tokens, per-user account data, filters and to-device inboxes. */
import { MatrixError } from "./errors";
import { newAccessToken, newDeviceId } from "./ids";
import type { Json } from "./types";

export interface Session {
  token: string;
  userId: string;
  deviceId: string;
}

export interface AccountDataEntry {
  type: string;
  content: Json;
  stream: number;
}

export interface ToDeviceMessage {
  stream: number;
  deviceId: string;
  event: Json;
}

export interface UserRecord {
  userId: string;
  localpart: string;
  displayName?: string;
  avatarUrl?: string;
  password?: string;
  devices: Set<string>;
  accountData: Map<string, AccountDataEntry>;
  roomAccountData: Map<string, Map<string, AccountDataEntry>>;
  filters: Json[];
  /** Every room the user has a member event in (any membership), so sync never scans all rooms. */
  rooms: Set<string>;
  toDevice: ToDeviceMessage[];
}

export class UserStore {
  private readonly users = new Map<string, UserRecord>();
  private readonly sessions = new Map<string, Session>();
  /** Rooms per user id, kept even before the account exists (an invite can precede registration). */
  private readonly memberRooms = new Map<string, Set<string>>();

  constructor(private readonly serverName: string) {}

  get(userId: string): UserRecord | undefined {
    return this.users.get(userId);
  }

  require(userId: string): UserRecord {
    const u = this.users.get(userId);
    if (!u) throw new MatrixError(404, "M_NOT_FOUND", "User not found");
    return u;
  }

  /** Creates the account; Synapse gives new accounts their localpart as display name. */
  create(localpart: string, displayName?: string): UserRecord {
    const userId = `@${localpart}:${this.serverName}`;
    if (this.users.has(userId)) throw new MatrixError(400, "M_USER_IN_USE", "User ID already taken.");
    const rec: UserRecord = {
      userId,
      localpart,
      displayName: displayName ?? localpart,
      devices: new Set(),
      accountData: new Map(),
      roomAccountData: new Map(),
      filters: [],
      rooms: this.roomsOf(userId),
      toDevice: [],
    };
    this.users.set(userId, rec);
    return rec;
  }

  roomsOf(userId: string): Set<string> {
    let set = this.memberRooms.get(userId);
    if (!set) this.memberRooms.set(userId, (set = new Set()));
    return set;
  }

  /** Logs a device in: a new access token, and a new device unless one is named. */
  login(userId: string, deviceId?: string): Session {
    const user = this.require(userId);
    const session: Session = { token: newAccessToken(), userId, deviceId: deviceId ?? newDeviceId() };
    user.devices.add(session.deviceId);
    this.sessions.set(session.token, session);
    return session;
  }

  logout(token: string): void {
    this.sessions.delete(token);
  }

  session(token: string): Session | undefined {
    return this.sessions.get(token);
  }
}
