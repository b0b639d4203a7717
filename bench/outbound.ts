/**
 * Outbound overhead: from a Matrix user's m.call.invite (sent to the
 * homeserver) to the callee's node receiving POST /webcall, on a warm path
 * (the node is known, so no discovery request). The floor is the homeserver's
 * own push time: another appservice receives the same event in the same kind
 * of transaction (on the in-process homeserver a probe joined to the room, on
 * Synapse its test observer, interested in every room), and its arrival is
 * timed the same way.
 */
import express from "express";
import http from "node:http";
import { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { summary } from "./stats";

type Waiters = Map<string, (at: number) => void>;

function listen(app: express.Express): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer(app);
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () =>
    resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server })));
}

/** The callee's node: records when each setup arrives, and each hangup. */
export async function startRemoteNode(): Promise<{ url: string; setups: Waiters; hangups: Waiters; close(): void }> {
  const setups: Waiters = new Map(), hangups: Waiters = new Map();
  const app = express();
  app.use(express.json({ limit: "1mb" }));
  app.post("/webcall", (req, res) => {
    const at = performance.now();
    res.json({ status: "success", sessionId: req.body.sessionId, token: req.body.token });
    setups.get(req.body.sessionId)?.(at);
  });
  app.post("/webcall/sessions/:id/events", (req, res) => {
    res.json({});
    if (req.body.events.some((e: { type: string }) => e.type === "hangup")) hangups.get(req.params.id)?.(performance.now());
  });
  const { url, server } = await listen(app);
  return { url: `${url}/webcall`, setups, hangups, close: () => { server.closeAllConnections(); server.close(); } };
}

function arrival(waiters: Waiters, key: string): Promise<number> {
  return new Promise((resolve) => waiters.set(key, (at) => { waiters.delete(key); resolve(at); }));
}

/** Where the homeserver's pushes of m.call.invite events are seen (by call_id): the floor. */
export type InvitePushes = Waiters;

interface OutboundRun {
  hsUrl: string; serverName: string; remoteDomain: string; iterations: number; warmup?: number;
  node: Awaited<ReturnType<typeof startRemoteNode>>;
  offer: { type: "offer"; sdp: string };
}

/** On the in-process homeserver: a probe appservice, joined to bob's DM, receives the floor's pushes. */
export async function measureOutbound(opts: OutboundRun & { hsCall: (cmd: string, payload?: object) => Promise<any> }) {
  const { hsUrl, serverName, hsCall } = opts;
  const probeId = `@probe:${serverName}`;
  const probeToken = randomBytes(16).toString("hex");
  const pushes: InvitePushes = new Map();
  const probeApp = express();
  probeApp.use(express.json({ limit: "10mb" }));
  probeApp.put("/_matrix/app/v1/transactions/:txn", (req, res) => {
    const at = performance.now();
    res.json({});
    for (const e of req.body.events ?? []) if (e.type === "m.call.invite") pushes.get(e.content.call_id)?.(at);
  });
  const probe = await listen(probeApp);
  await hsCall("registerAppservice", { reg: { id: "probe", url: probe.url, as_token: probeToken, hs_token: randomBytes(16).toString("hex"), sender_localpart: "probe", rate_limited: false, namespaces: { users: [{ exclusive: true, regex: `@probe:${serverName.replace(/\./g, "\\.")}` }] } } });
  const bob = await hsCall("createUser", { localpart: "bob" });
  try {
    return await measureOutboundPath({ ...opts, bob, pushes, joinFloor: async (roomPath, asBob) => {
      await asBob("POST", `${roomPath}/invite`, { user_id: probeId });
      await fetch(`${hsUrl}${roomPath}/join?user_id=${encodeURIComponent(probeId)}`, { method: "POST", headers: { authorization: `Bearer ${probeToken}`, "content-type": "application/json" }, body: "{}" });
    } });
  } finally {
    probe.server.closeAllConnections();
    probe.server.close();
  }
}

/** bob calls the remote caller's virtual user in a DM; each invite's arrival
 *  at the remote node is timed against its push into `pushes`. `joinFloor`
 *  lets the floor's receiver into the DM, when it needs to be a member. */
export async function measureOutboundPath(opts: OutboundRun & {
  bob: { accessToken: string }; pushes: InvitePushes;
  joinFloor?: (roomPath: string, asBob: (method: string, path: string, body?: object) => Promise<any>) => Promise<void>;
}) {
  const { hsUrl, serverName, node, bob, pushes } = opts;
  const warmup = opts.warmup ?? 30;
  const virtual = `@webcall_alf=40${opts.remoteDomain}:${serverName}`;
  const asBob = (method: string, path: string, body?: object) => fetch(`${hsUrl}${path}`, {
    method, headers: { authorization: `Bearer ${bob.accessToken}`, "content-type": "application/json" }, body: body ? JSON.stringify(body) : undefined,
  }).then((r) => r.json() as Promise<any>);
  const room: string = (await asBob("POST", "/_matrix/client/v3/createRoom", { preset: "trusted_private_chat", is_direct: true, invite: [virtual] })).room_id;
  const roomPath = `/_matrix/client/v3/rooms/${encodeURIComponent(room)}`;
  for (let i = 0; i < 500; i++) {
    const members = await asBob("GET", `${roomPath}/joined_members`);
    if (members.joined?.[virtual]) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  await opts.joinFloor?.(roomPath, asBob);

  const via: number[] = [], floor: number[] = [];
  for (let i = 0; i < opts.iterations + warmup; i++) {
    const callId = `ob-${i}-${randomBytes(8).toString("hex")}`;
    const atNode = arrival(node.setups, callId), pushed = arrival(pushes, callId);
    const t0 = performance.now();
    await asBob("PUT", `${roomPath}/send/m.call.invite/${callId}`, { call_id: callId, party_id: "BOB", version: "1", lifetime: 60000, invitee: virtual, offer: opts.offer });
    const [t1, t2] = await Promise.all([atNode, pushed]);
    const hungUp = arrival(node.hangups, callId);
    await asBob("PUT", `${roomPath}/send/m.call.hangup/${callId}-h`, { call_id: callId, party_id: "BOB", version: "1", reason: "user_hangup" });
    await hungUp;
    if (i >= warmup) { via.push(t1 - t0); floor.push(t2 - t0); }
  }
  return { via: summary(via), floor: summary(floor) };
}
