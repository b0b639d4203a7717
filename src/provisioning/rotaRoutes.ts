import type { Response } from "express";
import type { Methods, ProvisioningApi, ProvisioningRequest } from "matrix-appservice-bridge";
import { DomainError } from "../errors/DomainError";
import { LocalUsers } from "../ids/localUsers";
import { MatrixUserId, RoomId, tryParseRoomId } from "../ids/matrix";
import { logger } from "../log";
import { RuleEdit } from "../model/rules";
import { Rota, RotaMember, tryParseRotaName } from "../model/rota";
import { CalendarFeeds } from "../rota/CalendarFeeds";
import { DEFAULT_SHIFTS, MAX_SHIFTS, RotaEdit } from "../rota/commands";
import { editText } from "../rota/replies";
import { RotaService } from "../rota/RotaService";
import { RotaStore } from "../store/RotaStore";
import { badValue } from "./errors";
import { forbiddenToEdit, RotaAccess, rotaNotFound } from "./rotaAccess";
import { rotaEditOf } from "./rotaEdits";
import { validateRotaBody } from "./rotaSchemas";
import { ownUser } from "./routes";
import { RotaSummary, rotaView, RotaView } from "./rotaView";

/**
 * The rota routes: what a rota room's members do with `rota …` commands,
 * over HTTP, with the rules routes' sessions, schemas and errors. Anyone
 * joined to a rota's room may read it; changing it takes the room's
 * `state_default` power level (rotaAccess.ts). A rota the user cannot see is
 * 404, exactly as one that does not exist. Every edit goes through
 * RotaService, which the bot's commands use too, answers the rota after, and
 * is told in the rota's room (`@alice:example.org (over the API): …`, the
 * words of the command's reply), so the room keeps the record of its changes.
 *
 *   GET    /v1/rotas                              → {rotas: [{name, address, roomId, canEdit}]}
 *   POST   /v1/rotas                {roomId, name} → RotaView (201)
 *   GET    /v1/rotas/:name[?shifts=n]             → RotaView (who is on call, the next n shifts)
 *   DELETE /v1/rotas/:name[?version=v]            → {deleted: name}
 *   PUT    /v1/rotas/:name/members    {members}   → RotaView
 *   PUT    /v1/rotas/:name/rotation   {every, weekday?, time, zone?}
 *   POST   /v1/rotas/:name/overrides  {member, from?, until}
 *   DELETE /v1/rotas/:name/overrides/:id
 *   PUT    /v1/rotas/:name/escalation {mode, stepMs?, thenAll?}
 *   POST   /v1/rotas/:name/rules      {rule, position?}
 *   POST   /v1/rotas/:name/rules/move {from, to}
 *   DELETE /v1/rotas/:name/rules/:n
 *   PUT    /v1/rotas/:name/rules/default {defaultAction}
 *   GET    /v1/rotas/:name/calendar               → {url} (made on first use)
 *   POST   /v1/rotas/:name/calendar/reset         → {url} (the old URL stops working)
 *
 * Every edit takes an optional `version` (in the body, or `?version=` for a
 * DELETE): a rota changed since is refused with 409 WEBCALL_ROTA_CONFLICT.
 */

export interface RotaRoutesOptions {
  rotas: RotaService;
  store: RotaStore;
  calendars: CalendarFeeds;
  access: RotaAccess;
  localUsers: LocalUsers;
  domain: string;
  now(): number;
  /** Posts a notice in a rota's room: a change over the API is told there, as a command's reply would be. */
  tell(roomId: RoomId, text: string): Promise<void>;
}

type Handler = (userId: MatrixUserId, req: ProvisioningRequest, res: Response) => Promise<unknown>;

const COUNT = /^[1-9][0-9]{0,5}$/;

const log = logger("provisioning.rotas");

/** A whole number from 1 in a path or query parameter. */
function wholeNumber(value: unknown, what: string): number {
  if (typeof value !== "string" || !COUNT.test(value)) throw badValue(`${what} must be a whole number from 1`);
  return Number(value);
}

/** An optional query parameter that is a whole number from 1. */
function numberParam(value: unknown, what: string): number | undefined {
  return value === undefined ? undefined : wholeNumber(value, what);
}

/** Rotas whose rooms are read at once when listing. */
const LIST_CONCURRENCY = 8;

export function addRotaRoutes(api: ProvisioningApi, o: RotaRoutesOptions): void {
  const route = (method: Methods, path: string, handler: Handler): void => {
    api.addRoute(method, path, async (req: ProvisioningRequest, res: Response) => {
      const body = await handler(ownUser(req, o.domain), req, res);
      if (!res.headersSent) res.json(body);
    });
  };

  const address = (rota: Rota) => o.rotas.address(rota);
  /** The room hears of the change; a notice that cannot be sent does not undo it. */
  const tell = (roomId: RoomId, userId: MatrixUserId, text: string) => o.tell(roomId, `${userId} (over the API): ${text}`)
    .catch((error: unknown) => log.warn("could not tell the rota room of a change", { roomId, error: (error as Error).message }));
  const named = async (req: ProvisioningRequest): Promise<Rota> => {
    const name = tryParseRotaName(String(req.params.name));
    const rota = name && (await o.rotas.byName(name));
    if (!rota) throw rotaNotFound();
    return rota;
  };
  const view = (rota: Rota, canEdit: boolean, joined: readonly RotaMember[], shifts = DEFAULT_SHIFTS): RotaView =>
    rotaView(rota, { address: address(rota), canEdit, order: rota.members ?? joined, now: o.now(), shifts });

  /** An edit by a moderator, conditional on the version the client read. */
  const editRoute = (method: Methods, path: string, editOf: (userId: MatrixUserId, req: ProvisioningRequest, rota: Rota) => { edit: RotaEdit; version?: number }) => {
    route(method, path, async (userId, req) => {
      const rota = await named(req);
      const standing = await o.access.editor(rota, userId);
      const { edit, version } = editOf(userId, req, rota);
      const { after } = await o.rotas.edit(rota.roomId, edit, o.now(), version);
      await tell(rota.roomId, userId, editText(edit, after));
      return view(after, true, standing.joinedMembers);
    });
  };

  route("get", "/v1/rotas", async (userId) => {
    const all = await o.store.listRotas();
    const seen: RotaSummary[] = [];
    for (let i = 0; i < all.length; i += LIST_CONCURRENCY) {
      const batch = all.slice(i, i + LIST_CONCURRENCY);
      const standings = await Promise.all(batch.map((rota) => o.access.standing(rota.roomId, userId)));
      batch.forEach((rota, j) => {
        const s = standings[j];
        if (s?.joined) seen.push({ name: rota.name, address: address(rota), roomId: rota.roomId, canEdit: s.canEdit });
      });
    }
    return { rotas: seen };
  });

  route("post", "/v1/rotas", async (userId, req, res) => {
    const body = validateRotaBody("create", req.body);
    const roomId = tryParseRoomId(body.roomId);
    if (!roomId) throw badValue("body.roomId must be a room id like !abc:example.org");
    const name = tryParseRotaName(body.name);
    if (!name) throw badValue("body.name must be 1-64 of a-z, 0-9, . _ -, starting with a letter or digit");
    const unknownRoom = new DomainError("WEBCALL_ROTA_ROOM_UNKNOWN", "the bridge bot is not in that room, or you are not: invite the bot to it first");
    if (!(await o.store.getRotaRoom(roomId))) throw unknownRoom;
    const standing = await o.access.standing(roomId, userId);
    if (!standing?.joined) throw unknownRoom;
    if (!standing.canEdit) throw forbiddenToEdit();
    const rota = await o.rotas.create(roomId, name, o.now());
    await tell(roomId, userId, `Created the rota ${address(rota)}. Send rota help to see it and change it.`);
    res.status(201);
    return view(rota, true, standing.joinedMembers);
  });

  route("get", "/v1/rotas/:name", async (userId, req) => {
    const count = numberParam(req.query.shifts, "shifts") ?? DEFAULT_SHIFTS;
    if (count > MAX_SHIFTS) throw badValue(`shifts must be at most ${MAX_SHIFTS}`);
    const rota = await named(req);
    const standing = await o.access.reader(rota, userId);
    return view(rota, standing.canEdit, standing.joinedMembers, count);
  });

  route("delete", "/v1/rotas/:name", async (userId, req) => {
    const version = numberParam(req.query.version, "version");
    const rota = await named(req);
    await o.access.editor(rota, userId);
    const deleted = await o.rotas.delete(rota.roomId, version);
    await tell(rota.roomId, userId, `Deleted the rota ${address(deleted)}: calls to it now reach nobody.`);
    return { deleted: deleted.name };
  });

  const ctx = (userId: MatrixUserId, rota: Rota) => ({
    sender: userId, zone: rota.rotation.zone, now: o.now(),
    localUserOf: o.localUsers.userIdFor.bind(o.localUsers),
    isLocalUser: (id: MatrixUserId) => o.localUsers.addressOf(id) !== undefined,
  });
  editRoute("put", "/v1/rotas/:name/members", (userId, req, rota) => rotaEditOf.members(validateRotaBody("members", req.body), ctx(userId, rota)));
  editRoute("put", "/v1/rotas/:name/rotation", (_userId, req, rota) => rotaEditOf.rotation(validateRotaBody("rotation", req.body), rota.rotation.zone));
  editRoute("post", "/v1/rotas/:name/overrides", (userId, req, rota) => rotaEditOf.cover(validateRotaBody("cover", req.body), ctx(userId, rota)));
  editRoute("delete", "/v1/rotas/:name/overrides/:id", (_userId, req) => ({
    edit: { kind: "uncover", id: wholeNumber(req.params.id, "path.id") }, version: numberParam(req.query.version, "version"),
  }));
  editRoute("put", "/v1/rotas/:name/escalation", (_userId, req) => rotaEditOf.escalation(validateRotaBody("escalation", req.body)));

  const rules = (edit: RuleEdit): RotaEdit => ({ kind: "rules", command: { kind: "edit", edit } });
  editRoute("post", "/v1/rotas/:name/rules", (_userId, req) => {
    const { rule, position, version } = validateRotaBody("addRule", req.body);
    return { edit: rules({ kind: "add", rule, ...(position !== undefined ? { position } : {}) }), version };
  });
  editRoute("post", "/v1/rotas/:name/rules/move", (_userId, req) => {
    const { from, to, version } = validateRotaBody("moveRule", req.body);
    return { edit: rules({ kind: "move", rule: from, to }), version };
  });
  editRoute("delete", "/v1/rotas/:name/rules/:n", (_userId, req) => ({
    edit: rules({ kind: "remove", rule: wholeNumber(req.params.n, "path.n") }), version: numberParam(req.query.version, "version"),
  }));
  editRoute("put", "/v1/rotas/:name/rules/default", (_userId, req) => {
    const { defaultAction, version } = validateRotaBody("defaultAction", req.body);
    return { edit: rules({ kind: "default", action: defaultAction }), version };
  });

  route("get", "/v1/rotas/:name/calendar", async (userId, req) => {
    const rota = await named(req);
    await o.access.reader(rota, userId);
    const url = await o.calendars.urlFor(rota, o.now());
    if (!url) throw rotaNotFound();
    return { url };
  });
  route("post", "/v1/rotas/:name/calendar/reset", async (userId, req) => {
    const rota = await named(req);
    await o.access.editor(rota, userId);
    const url = await o.calendars.reset(rota, o.now());
    if (!url) throw rotaNotFound();
    await tell(rota.roomId, userId, `Made a new calendar URL for ${address(rota)}; the old one no longer works. rota calendar gives the new one.`);
    return { url };
  });
}
