import http from "node:http";
import https from "node:https";
import { randomBytes } from "node:crypto";
import { MatrixUserId, RoomId, EventId } from "../ids/matrix";
import { IDLE_SOCKET_MS, lostToIdleClose } from "../util/keepAlive";

/** A failed client-server request, with the homeserver's errcode. */
export class MatrixRequestError extends Error {
  constructor(readonly status: number, readonly errcode: string, message: string) {
    super(message);
    this.name = "MatrixRequestError";
  }
}

export interface HomeserverClientOptions {
  baseUrl: string;
  asToken: string;
  timeoutMs: number;
}

const MAX_RESPONSE_BYTES = 1024 * 1024;
/** The least an upload is given (see uploadMedia). */
const UPLOAD_TIMEOUT_MS = 30_000;

/**
 * The client-server calls the bridge makes, as the appservice, masquerading
 * as its virtual users with `user_id`. Deliberately thin: one keep-alive
 * connection pool and one request per call, because the warm call path has
 * a 2 ms budget over a bare homeserver send. A request the homeserver's (or
 * its proxy's) idle close lost on a pooled connection is sent again on a
 * fresh one (src/util/keepAlive.ts).
 */
export class HomeserverClient {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  private txnCounter = 0;
  private readonly txnPrefix = randomBytes(6).toString("base64url");

  constructor(private readonly options: HomeserverClientOptions) {
    this.base = new URL(options.baseUrl);
    this.transport = this.base.protocol === "https:" ? https : http;
    this.agent = new this.transport.Agent({ keepAlive: true, maxSockets: 64, timeout: IDLE_SOCKET_MS });
  }

  close(): void {
    this.agent.destroy();
  }

  /** A transaction id unique to this process; pass a stable one to make a retried send idempotent. */
  newTxnId(): string {
    return `${this.txnPrefix}.${++this.txnCounter}`;
  }

  async registerVirtualUser(localpart: string): Promise<void> {
    try {
      await this.request("POST", "/_matrix/client/v3/register", undefined, {
        type: "m.login.application_service", username: localpart, inhibit_login: true,
      });
    } catch (err) {
      if (err instanceof MatrixRequestError && err.errcode === "M_USER_IN_USE") return;
      throw err;
    }
  }

  async setDisplayName(as: MatrixUserId, displayname: string): Promise<void> {
    await this.request("PUT", `/_matrix/client/v3/profile/${enc(as)}/displayname`, as, { displayname });
  }

  /**
   * Whether a local user exists. Asks for the display name field, not the
   * whole profile: Synapse (handlers/profile.py) answers `GET /profile/{id}`
   * 404 for a real user with neither name nor avatar, but the field 200
   * (`displayname: null`) for any user with a profile row, which registration
   * always creates, and 404 only when there is none. `register/available` is
   * no help (403 whenever registration is closed, and one request per 2 s per
   * IP), nor is an invite (Synapse invites users who do not exist).
   * With `limit_profile_requests_to_users_who_share_rooms` Synapse answers
   * 403 for everyone it shares no room with, existing or not, and keeps the
   * answer from all but its admins: the callee is then taken to exist, so
   * that such a homeserver's users can be called at all.
   */
  async userExists(userId: MatrixUserId): Promise<boolean> {
    try {
      await this.request("GET", `/_matrix/client/v3/profile/${enc(userId)}/displayname`, undefined);
      return true;
    } catch (err) {
      if (err instanceof MatrixRequestError && err.status === 404) return false;
      if (err instanceof MatrixRequestError && err.status === 403) return true;
      throw err;
    }
  }

  /** A user's display name, or undefined when they have none, do not exist
   *  or the homeserver will not say (403). */
  async displayName(userId: MatrixUserId): Promise<string | undefined> {
    try {
      const res = await this.request("GET", `/_matrix/client/v3/profile/${enc(userId)}/displayname`, undefined);
      return typeof res.displayname === "string" && res.displayname !== "" ? res.displayname : undefined;
    } catch (err) {
      if (err instanceof MatrixRequestError && (err.status === 404 || err.status === 403)) return undefined;
      throw err;
    }
  }

  /** Uploads a file to the media repository as `as`; returns its mxc:// URI. */
  async uploadMedia(as: MatrixUserId, contentType: string, filename: string, bytes: Buffer): Promise<string> {
    const url = new URL(`/_matrix/media/v3/upload?filename=${enc(filename)}`, this.base);
    url.searchParams.set("user_id", as);
    // Synapse makes an image's thumbnails before it answers the upload, which
    // on a busy homeserver takes longer than a plain request is given.
    const res = await this.send("POST", "/_matrix/media/v3/upload", url, bytes, false, contentType, Math.max(this.options.timeoutMs, UPLOAD_TIMEOUT_MS));
    if (typeof res.content_uri !== "string" || !res.content_uri.startsWith("mxc://")) {
      throw new MatrixRequestError(502, "M_UNKNOWN", "POST /_matrix/media/v3/upload: no content_uri in the answer");
    }
    return res.content_uri;
  }

  async createRoom(as: MatrixUserId, body: Record<string, unknown>): Promise<RoomId> {
    const res = await this.request("POST", "/_matrix/client/v3/createRoom", as, body);
    return res.room_id as RoomId;
  }

  async invite(as: MatrixUserId, roomId: RoomId, userId: MatrixUserId): Promise<void> {
    await this.request("POST", `/_matrix/client/v3/rooms/${enc(roomId)}/invite`, as, { user_id: userId, is_direct: true } as Record<string, unknown>);
  }

  async join(as: MatrixUserId, roomId: RoomId): Promise<void> {
    await this.request("POST", `/_matrix/client/v3/rooms/${enc(roomId)}/join`, as, {});
  }

  async leave(as: MatrixUserId, roomId: RoomId, reason?: string): Promise<void> {
    await this.request("POST", `/_matrix/client/v3/rooms/${enc(roomId)}/leave`, as, reason ? { reason } : {});
  }

  async sendEvent(as: MatrixUserId, roomId: RoomId, type: string, content: object, txnId = this.newTxnId()): Promise<EventId> {
    const res = await this.request("PUT",
      `/_matrix/client/v3/rooms/${enc(roomId)}/send/${enc(type)}/${enc(txnId)}`, as, content);
    return res.event_id as EventId;
  }

  /** Asks the homeserver to ping this appservice (Matrix 1.7); the round trip it measured, in ms. */
  async pingAppservice(appserviceId: string, transactionId: string): Promise<number> {
    const res = await this.request("POST", `/_matrix/client/v1/appservice/${enc(appserviceId)}/ping`, undefined, { transaction_id: transactionId });
    return Number(res.duration_ms);
  }

  /** Whether `as` already sent an event of `type` for this call among the
   *  room's latest `limit` such events. For a resend after a crash: Synapse
   *  forgets send txn ids when it restarts, so they cannot make it a no-op. */
  async sentCallEvent(as: MatrixUserId, roomId: RoomId, type: string, callId: string, limit = 50): Promise<boolean> {
    const filter = encodeURIComponent(JSON.stringify({ types: [type], senders: [as] }));
    const res = await this.request("GET", `/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&limit=${limit}&filter=${filter}`, as);
    const chunk = Array.isArray(res.chunk) ? res.chunk as Array<{ type?: unknown; sender?: unknown; content?: { call_id?: unknown } }> : [];
    return chunk.some((e) => e.type === type && e.sender === as && e.content?.call_id === callId);
  }

  async sendState(as: MatrixUserId, roomId: RoomId, type: string, content: object, stateKey = ""): Promise<void> {
    await this.request("PUT", `/_matrix/client/v3/rooms/${enc(roomId)}/state/${enc(type)}/${enc(stateKey)}`, as, content);
  }

  /** A state event's content, or undefined when the room has none. */
  async stateEvent(as: MatrixUserId, roomId: RoomId, type: string, stateKey = ""): Promise<Record<string, unknown> | undefined> {
    try {
      return await this.request("GET", `/_matrix/client/v3/rooms/${enc(roomId)}/state/${enc(type)}/${enc(stateKey)}`, as);
    } catch (err) {
      if (err instanceof MatrixRequestError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** The room's whole current state, as events (sender, state_key, content,
   *  origin_server_ts): power levels, the create event and every membership in one request. */
  async roomState(as: MatrixUserId, roomId: RoomId): Promise<Array<Record<string, unknown>>> {
    const res = await this.request("GET", `/_matrix/client/v3/rooms/${enc(roomId)}/state`, as) as unknown;
    return Array.isArray(res) ? res as Array<Record<string, unknown>> : [];
  }

  async joinedMembers(as: MatrixUserId, roomId: RoomId): Promise<string[]> {
    const res = await this.request("GET", `/_matrix/client/v3/rooms/${enc(roomId)}/joined_members`, as);
    return Object.keys((res.joined ?? {}) as object);
  }

  private request(method: string, path: string, as: MatrixUserId | undefined, body?: object): Promise<Record<string, unknown>> {
    const url = new URL(path, this.base);
    if (as) url.searchParams.set("user_id", as);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return this.send(method, path, url, payload);
  }

  /** `fresh`: on a new connection outside the pool, for the one resend of a request an idle close lost. */
  private send(method: string, path: string, url: URL, payload: Buffer | undefined, fresh = false,
    contentType = "application/json", timeoutMs = this.options.timeoutMs): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      let answered = false;
      const req = this.transport.request(url, {
        method,
        agent: fresh ? false : this.agent,
        timeout: timeoutMs,
        headers: {
          authorization: `Bearer ${this.options.asToken}`,
          ...(payload ? { "content-type": contentType, "content-length": payload.length } : {}),
        },
      }, (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) req.destroy(new MatrixRequestError(502, "M_TOO_LARGE", "homeserver response too large"));
          else chunks.push(chunk);
        });
        res.on("end", () => {
          let parsed: Record<string, unknown> = {};
          try {
            parsed = chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : {};
          } catch {
            return reject(new MatrixRequestError(res.statusCode ?? 502, "M_NOT_JSON", `${method} ${path}: homeserver sent invalid JSON`));
          }
          const status = res.statusCode ?? 502;
          if (status >= 200 && status < 300) return resolve(parsed);
          reject(new MatrixRequestError(status, String(parsed.errcode ?? "M_UNKNOWN"),
            `${method} ${path}: ${String(parsed.error ?? `HTTP ${status}`)}`));
        });
        res.on("error", reject);
      });
      const deadline = setTimeout(() => req.destroy(new MatrixRequestError(504, "M_TIMEOUT", `${method} ${path}: timed out`)), timeoutMs);
      req.on("close", () => clearTimeout(deadline));
      req.on("timeout", () => req.destroy(new MatrixRequestError(504, "M_TIMEOUT", `${method} ${path}: timed out`)));
      req.on("error", (error: NodeJS.ErrnoException) => {
        if (!fresh && lostToIdleClose(req, error, answered)) resolve(this.send(method, path, url, payload, true, contentType, timeoutMs));
        else reject(error);
      });
      req.end(payload);
    });
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}
