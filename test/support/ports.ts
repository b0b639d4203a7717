import net from "node:net";
import { readFileSync } from "node:fs";

/**
 * A TCP port free on loopback right now, for a server that must know its
 * port before it starts (a bridge told another's URL, Synapse's config).
 *
 * Not one the kernel picks for `listen(0)`: those come from the ephemeral
 * range, the same range every outgoing connection takes its local port from,
 * so between this check and the server's listen a connection to Synapse or
 * PostgreSQL could take it (EADDRINUSE in a CI run). A random port below that
 * range is never taken by an outgoing connection; only another test's
 * listener could, and the pick is random over some twenty thousand ports.
 */
export async function freePort(): Promise<number> {
  const [low, high] = belowEphemeral();
  for (let tries = 0; tries < 50; tries++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await bindable(port)) return port;
  }
  return kernelPick();
}

/** [low, high): the ports under the kernel's ephemeral range, from 10000. */
function belowEphemeral(): [number, number] {
  let start = 32768;
  try {
    start = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || start;
  } catch {
    // Not Linux: the IANA ephemeral range starts at 49152; 32768 is below it too.
  }
  return [10_000, Math.max(10_001, start)];
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

function kernelPick(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
