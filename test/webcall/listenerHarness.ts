import { MatrixUserId } from "../../src/ids/matrix";
import { setLogLevel } from "../../src/log";
import { renderCalendar } from "../../src/rota/icalendar";
import { CalendarSource } from "../../src/webcall/calendarRoute";
import { createWebCallServer, WebCallServer } from "../../src/webcall/server";
import { NodeSigning } from "../signing/nodeSigning";
import { FakeNode, webcallConfig } from "./fakeNode";

setLogLevel("error");

export const SID = "session-aaaaaaaaaaaa";
export const TOKEN = "A".repeat(43);
export const EVENTS_PATH = `/webcall/sessions/${SID}/events`;
export const AUTH = { authorization: `Bearer ${TOKEN}` };
/** The one calendar feed the listener serves: its path, and what it holds. */
export const CALENDAR_SECRET = "C".repeat(43);
export const CALENDAR_PATH = `/webcall/calendar/on-call/${CALENDAR_SECRET}.ics`;
export const CALENDAR_SHIFTS = [{ member: { kind: "matrix", userId: "@bob:node.test" as MatrixUserId }, from: Date.UTC(2026, 11, 7, 9), until: Date.UTC(2026, 11, 14, 9) }] as const;

/** A calendar source with one rota, on-call, whose secret is CALENDAR_SECRET
 *  (the feeds themselves are CalendarFeeds' and are tested over the store). */
export const fakeCalendar: CalendarSource = async (name, secret, weeks) => {
  if (name !== "on-call" || secret !== CALENDAR_SECRET) return undefined;
  const body = renderCalendar({ address: "on-call@node.test", zone: "UTC", shifts: CALENDAR_SHIFTS.slice(0, weeks ?? 1), stamp: Date.now() });
  return { body, etag: `W/"${weeks ?? 1}"` };
};

/** A WebCall listener on loopback over a FakeNode with one session (SID, TOKEN). */
export class Listener {
  private constructor(readonly node: FakeNode, readonly server: WebCallServer, readonly signing: NodeSigning, readonly base: string) {}

  static async start(config = webcallConfig()): Promise<Listener> {
    const node = new FakeNode();
    node.addSession(SID, TOKEN);
    const signing = await NodeSigning.open("node.test");
    const server = createWebCallServer(node, config, signing, { calendar: fakeCalendar });
    const { port } = await server.listen();
    return new Listener(node, server, signing, `http://127.0.0.1:${port}`);
  }

  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.base}${path}`, init);
  }

  async stop(): Promise<void> {
    await this.server.close();
    await this.signing.close();
  }
}
