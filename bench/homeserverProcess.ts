/** The test homeserver in its own process, so the bridge's CPU and memory are
 *  measured alone. Driven over IPC by bench/run.ts. */
import { TestHomeserver } from "../test/homeserver";

type Command =
  | { id: number; cmd: "registerAppservice"; reg: Parameters<TestHomeserver["registerAppservice"]>[0] }
  | { id: number; cmd: "createUser"; localpart: string }
  | { id: number; cmd: "unreachableUser"; userId: string; down: boolean }
  | { id: number; cmd: "stop" };

async function main(): Promise<void> {
  const hs = await TestHomeserver.start({ serverName: process.env.BENCH_SERVER_NAME ?? "example.org" });
  process.send!({ ready: true, url: hs.url });
  process.on("message", async (msg: Command) => {
    try {
      if (msg.cmd === "registerAppservice") { hs.registerAppservice(msg.reg); process.send!({ id: msg.id }); }
      if (msg.cmd === "createUser") process.send!({ id: msg.id, result: await hs.createUser(msg.localpart) });
      // Drops every request about one user, as an offline homeserver would (bench/neutral.ts).
      if (msg.cmd === "unreachableUser") { hs.unreachableUser(msg.userId, msg.down); process.send!({ id: msg.id }); }
      if (msg.cmd === "stop") { await hs.stop(); process.send!({ id: msg.id }); process.exit(0); }
    } catch (err) {
      process.send!({ id: msg.id, error: (err as Error).message });
    }
  });
}

void main();
