import { MatrixUserId, RoomId } from "../../src/ids/matrix";
import { HomeserverClient, MatrixRequestError } from "../../src/matrix/HomeserverClient";
import { DmRoom, Store } from "../../src/store/Store";

/** The DM part of the store, in memory. */
export function dmStore() {
  const rows = new Map<string, DmRoom>();
  const store = {
    async getDmRoom(m: MatrixUserId, v: MatrixUserId) { return [...rows.values()].find((r) => r.matrixUserId === m && r.virtualUserId === v); },
    async getDmRoomById(roomId: RoomId) { return rows.get(roomId); },
    async putDmRoom(room: DmRoom) {
      for (const [id, r] of rows) if (r.matrixUserId === room.matrixUserId && r.virtualUserId === room.virtualUserId) rows.delete(id);
      rows.set(room.roomId, { ...room });
    },
    async setMatrixUserJoined(roomId: RoomId, joined: boolean) { const r = rows.get(roomId); if (r) r.matrixUserJoined = joined; },
    async deleteDmRoom(roomId: RoomId) { rows.delete(roomId); },
  };
  return { store: store as unknown as Store, rows };
}

export interface Call { method: string; args: unknown[] }

/**
 * The homeserver client's room methods, scripted: each records its call;
 * `state` answers stateEvent by type, `members` answers joinedMembers, and
 * `fail` makes a method throw the homeserver's error.
 */
export function fakeHomeserver() {
  const calls: Call[] = [];
  const state = new Map<string, object>();
  let members: string[] = [];
  const failures = new Map<string, MatrixRequestError>();
  let rooms = 0;
  const record = (method: string, args: unknown[]) => {
    calls.push({ method, args });
    const failure = failures.get(method);
    if (failure) throw failure;
  };
  const client = {
    async createRoom(...args: unknown[]) { record("createRoom", args); return `!created${++rooms}:example.org` as RoomId; },
    async stateEvent(...args: unknown[]) { record("stateEvent", args); return state.get(args[2] as string); },
    async sendState(...args: unknown[]) { record("sendState", args); return "$state"; },
    async sendEvent(...args: unknown[]) { record("sendEvent", args); return "$event"; },
    async invite(...args: unknown[]) { record("invite", args); },
    async join(...args: unknown[]) { record("join", args); },
    async leave(...args: unknown[]) { record("leave", args); },
    async joinedMembers(...args: unknown[]) { record("joinedMembers", args); return members; },
  };
  return {
    client: client as unknown as HomeserverClient,
    calls,
    state,
    setMembers(list: string[]) { members = list; },
    fail(method: string, status: number, errcode: string) { failures.set(method, new MatrixRequestError(status, errcode, `${method}: ${errcode}`)); },
    called(method: string) { return calls.filter((c) => c.method === method).map((c) => c.args); },
  };
}
