/**
 * An appservice the tests register with Synapse beside the bridge, interested
 * in every room (`rooms: .*`, not exclusive): Synapse pushes it each event as
 * it is persisted, which is how a test sees everything the bridge sent,
 * through the real homeserver's own delivery.
 */
import { EventEmitter } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import type { AppserviceRegistrationLike, RoomEvent } from "../homeserver/types";

export class EventObserver extends EventEmitter<{ event: [RoomEvent] }> {
  readonly hsToken = randomBytes(16).toString("hex");
  private constructor(private readonly server: http.Server, readonly port: number) {
    super();
  }

  static async start(): Promise<EventObserver> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const observer = new EventObserver(server, (server.address() as AddressInfo).port);
    server.on("request", (req, res) => observer.handle(req, res));
    return observer;
  }

  registration(serverName: string): AppserviceRegistrationLike {
    return {
      id: "test-observer", url: `http://127.0.0.1:${this.port}`, as_token: randomBytes(16).toString("hex"), hs_token: this.hsToken,
      sender_localpart: "test-observer", rate_limited: false,
      namespaces: { users: [{ exclusive: true, regex: `@test-observer:${serverName.replace(/\./g, "\\.")}` }], rooms: [{ exclusive: false, regex: ".*" }] },
    };
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let body = "";
    req.on("data", (d) => { body += String(d); });
    req.on("end", () => {
      const authorised = req.headers.authorization === `Bearer ${this.hsToken}`;
      const reply = (status: number, json: object) => { res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json)); };
      if (!authorised) return reply(403, { errcode: "M_FORBIDDEN" });
      if (req.method === "PUT" && req.url?.startsWith("/_matrix/app/v1/transactions/")) {
        const events = (JSON.parse(body || "{}").events ?? []) as RoomEvent[];
        for (const ev of events) this.emit("event", ev);
        return reply(200, {});
      }
      if (req.method === "POST" && req.url === "/_matrix/app/v1/ping") return reply(200, {});
      reply(404, { errcode: "M_NOT_FOUND" });
    });
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
