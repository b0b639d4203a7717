import { setLogLevel } from "../../src/log";
import { createWebCallServer, WebCallServer } from "../../src/webcall/server";
import { NodeSigning } from "../signing/nodeSigning";
import { FakeNode, webcallConfig } from "./fakeNode";

setLogLevel("error");

export const SID = "session-aaaaaaaaaaaa";
export const TOKEN = "A".repeat(43);
export const EVENTS_PATH = `/webcall/sessions/${SID}/events`;
export const AUTH = { authorization: `Bearer ${TOKEN}` };

/** A WebCall listener on loopback over a FakeNode with one session (SID, TOKEN). */
export class Listener {
  private constructor(readonly node: FakeNode, readonly server: WebCallServer, readonly signing: NodeSigning, readonly base: string) {}

  static async start(config = webcallConfig()): Promise<Listener> {
    const node = new FakeNode();
    node.addSession(SID, TOKEN);
    const signing = await NodeSigning.open("node.test");
    const server = createWebCallServer(node, config, signing);
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
