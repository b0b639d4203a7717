import { NodeDiscovery } from "../net/discovery";

/**
 * Which node speaks for a domain: the node of that very domain, or the node
 * the domain's configuration or /.well-known/webcall names (so one node can
 * serve many domains). Answers come from NodeDiscovery's cache.
 */
export class Authority {
  constructor(private readonly discovery: NodeDiscovery) {}

  async speaksFor(node: string, domain: string): Promise<boolean> {
    if (node === domain) return true;
    const [theirs, its] = await Promise.all([
      this.discovery.endpointFor(domain).catch(() => null),
      this.discovery.endpointFor(node).catch(() => null),
    ]);
    return theirs !== null && its !== null && normalise(theirs) === normalise(its);
  }
}

function normalise(endpoint: string): string {
  return endpoint.replace(/\/+$/, "");
}
