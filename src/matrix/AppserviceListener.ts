import express, { NextFunction, Request, Response } from "express";
import http from "node:http";
import { DomainError } from "../errors/DomainError";
import { Store } from "../store/Store";
import { LISTENER_TIMEOUTS, ListenerTimeouts, listenerServer } from "../util/listenerServer";
import { authorise, jsonBody, matrixErrors } from "./appserviceDoor";
import { EventHandlers, Transactions } from "./transactions";

export type { PushedEvent } from "./transactions";

export interface AppserviceListenerOptions extends EventHandlers {
  hsToken: string;
  bind: string;
  port: number;
  maxBodyBytes: number;
  /** The homeserver asks whether a user in our namespace exists (e.g. before
   *  someone invites it); true once it has been provisioned. */
  onUserQuery: (userId: string) => Promise<boolean>;
  /** GET /health: what the bridge knows of its link with the homeserver (no token needed). */
  health: () => Record<string, unknown>;
  /** Header and whole-request timeouts; the WebCall listener's by default (tests lower them). */
  timeouts?: Partial<ListenerTimeouts>;
}

/**
 * The appservice API the homeserver pushes to. Unlike the bridge library's
 * AppService, a transaction is acknowledged only after its events were
 * handled, each on its own (transactions.ts), and the door (appserviceDoor.ts)
 * checks the homeserver token before it reads a byte of the body.
 */
export class AppserviceListener {
  private server?: http.Server;
  readonly app = express();
  private readonly transactions: Transactions;

  constructor(private readonly options: AppserviceListenerOptions, store: Store) {
    this.transactions = new Transactions(options, store);
    const app = this.app;
    app.disable("x-powered-by");
    app.set("etag", false);
    app.get("/health", (_req, res) => { res.json(options.health()); });
    app.use(authorise(options.hsToken));
    const body = jsonBody(options.maxBodyBytes);
    const transaction = (req: Request, res: Response, next: NextFunction) => {
      this.transactions.handle(String(req.params.txnId), req.body, Date.now()).then(() => res.json({}), next);
    };
    app.put(["/_matrix/app/v1/transactions/:txnId", "/transactions/:txnId"], ...body, transaction);
    app.post("/_matrix/app/v1/ping", ...body, (_req, res) => { res.json({}); });
    app.get(["/_matrix/app/v1/users/:userId", "/users/:userId"], (req, res, next) => {
      options.onUserQuery(String(req.params.userId)).then((exists) => exists ? void res.json({}) : next(notFound()), next);
    });
    app.get(["/_matrix/app/v1/rooms/:alias", "/rooms/:alias"], (_req, _res, next) => { next(notFound()); });
    app.use((_req: Request, _res: Response, next: NextFunction) => next(new DomainError("M_UNRECOGNIZED", "Unrecognized request")));
    app.use(matrixErrors());
  }

  async listen(): Promise<number> {
    await this.transactions.load();
    const server = listenerServer(this.app, { ...LISTENER_TIMEOUTS, ...this.options.timeouts });
    this.server = server;
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.options.port, this.options.bind, () => {
        server.off("error", reject);
        resolve();
      });
    });
    return (server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function notFound(): DomainError {
  return new DomainError("M_NOT_FOUND", "No such user or room");
}
