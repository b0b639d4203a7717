/** The bridge in its own process, as in production: the bench driver's clients
 *  then never share its event loop. Driven over IPC by bench/run.ts. */
import { runBridge, RunningBridge } from "../src/bridge";
import { parseConfig } from "../src/config/load";

let bridge: RunningBridge | undefined;

process.on("message", async (msg: { id: number; cmd: string; config?: string; registration?: any }) => {
  try {
    if (msg.cmd === "start") {
      bridge = await runBridge(parseConfig(msg.config!, "bench"), msg.registration, 0);
      process.send!({ id: msg.id, result: { appservicePort: bridge.appservicePort, webcallPort: bridge.webcallPort } });
    } else if (msg.cmd === "memory") {
      const gc = (globalThis as { gc?: () => void }).gc;
      for (let i = 0; i < 3; i++) { gc?.(); await new Promise((r) => setTimeout(r, 100)); }
      process.send!({ id: msg.id, result: { ...process.memoryUsage(), gc: Boolean(gc) } });
    } else if (msg.cmd === "stop") {
      await bridge?.stop();
      process.send!({ id: msg.id });
      process.exit(0);
    }
  } catch (err) {
    process.send!({ id: msg.id, error: (err as Error).message });
  }
});
process.send!({ ready: true });
