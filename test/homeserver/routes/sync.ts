/** GET /sync: builds the response and, when there is nothing new, long-polls until woken or timed out. */
import { Router } from "express";
import { authenticate } from "../auth";
import { MatrixError, notFound } from "../errors";
import { route } from "../http";
import { buildSync, parseSyncToken } from "../sync";
import type { Json } from "../types";
import type { Deps } from "./deps";

/** Synapse's default timeline limit when the filter sets none. */
const DEFAULT_TIMELINE_LIMIT = 10;

export function syncRouter({ core, rooms }: Deps): Router {
  const r = Router();

  route(r, "get", "/sync", async (req, res) => {
    const who = authenticate(core, req);
    const filter = resolveFilter(core.users.require(who.userId).filters, req.query["filter"]);
    const roomFilter = (filter["room"] ?? {}) as Json;
    const timelineFilter = (roomFilter["timeline"] ?? {}) as Json;
    const limit = typeof timelineFilter["limit"] === "number" ? Math.max(0, timelineFilter["limit"]) : DEFAULT_TIMELINE_LIMIT;
    const since = parseSyncToken(typeof req.query["since"] === "string" ? req.query["since"] : undefined);
    const fullState = req.query["full_state"] === "true";
    const timeout = Math.max(0, Number(req.query["timeout"] ?? 0) || 0);

    const syncReq = {
      userId: who.userId,
      deviceId: who.deviceId ?? "",
      deviceKey: who.deviceKey,
      since,
      fullState,
      timelineLimit: limit,
      includeLeave: roomFilter["include_leave"] === true,
    };
    let result = buildSync(core, rooms, syncReq);
    if (since === undefined || fullState || timeout === 0) return result.body;

    const aborted = new AbortController();
    res.on("close", () => aborted.abort());
    const deadline = Date.now() + timeout;
    while (result.empty && !aborted.signal.aborted && !core.notifier.isClosed) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await core.notifier.wait(who.userId, left, aborted.signal);
      result = buildSync(core, rooms, syncReq);
    }
    return result.body;
  });

  return r;
}

function resolveFilter(stored: Json[], q: unknown): Json {
  if (typeof q !== "string" || q === "") return {};
  if (q.startsWith("{")) {
    try {
      return JSON.parse(q) as Json;
    } catch {
      throw new MatrixError(400, "M_NOT_JSON", "Invalid filter JSON");
    }
  }
  const f = stored[Number(q)];
  if (!f) throw notFound("No such filter");
  return f;
}

