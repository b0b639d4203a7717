import { Request } from "express";
import { isIPv6 } from "node:net";

/** Rate-limit key: the client address, IPv6 clients by /64 (one host's share). */
export function clientKey(req: Request): string {
  const ip = req.ip ?? req.socket.remoteAddress ?? "unknown";
  if (ip.startsWith("::ffff:") && ip.includes(".")) return ip.slice(7);
  if (!isIPv6(ip)) return ip;
  const [head = "", tail = ""] = ip.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = ip.includes("::") ? [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t] : h;
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(":")}::/64`;
}
