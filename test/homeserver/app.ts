/** Assembles the express app: every route module under the prefixes Synapse serves it on. */
import express from "express";
import type { HomeserverCore } from "./core";
import { errorHandler, jsonBodies, notFoundHandler } from "./http";
import { Rooms } from "./rooms";
import { accountDataRouter } from "./routes/accountData";
import { appserviceRouter } from "./routes/appservice";
import type { Deps } from "./routes/deps";
import { directoryRouter } from "./routes/directory";
import { ephemeralRouter } from "./routes/ephemeral";
import { mediaRouter, miscRouter } from "./routes/misc";
import { openIdRouters } from "./routes/openid";
import { profileRouter } from "./routes/profile";
import { roomsRouter } from "./routes/rooms";
import { sessionRouter, versionsRouter } from "./routes/session";
import { syncRouter } from "./routes/sync";

export function createApp(core: HomeserverCore): { app: express.Express; rooms: Rooms } {
  const rooms = new Rooms(core);
  const deps: Deps = { core, rooms };
  const openId = openIdRouters(deps);
  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");
  const aboutUnreachableUser = (path: string): boolean =>
    core.unreachableUsers.size > 0 && [...core.unreachableUsers].some((userId) => decodeURIComponent(path).includes(userId));
  app.use((req, _res, next) => (core.unreachable || aboutUnreachableUser(req.path) ? req.socket.destroy() : next()));
  app.use(jsonBodies());

  app.use("/_matrix/client", versionsRouter());
  const clientApi = [
    sessionRouter(deps),
    profileRouter(deps),
    accountDataRouter(deps),
    roomsRouter(deps),
    directoryRouter(deps),
    ephemeralRouter(deps),
    miscRouter(deps),
    syncRouter(deps),
    openId.client,
  ];
  app.use(["/_matrix/client/v3", "/_matrix/client/r0"], ...clientApi);
  app.use("/_matrix/client/v1", appserviceRouter(deps));
  app.use(["/_matrix/client/v1/media", "/_matrix/media/v3"], mediaRouter(deps));
  app.use("/_matrix/federation/v1", openId.federation);

  app.use(notFoundHandler);
  app.use(errorHandler);
  return { app, rooms };
}
