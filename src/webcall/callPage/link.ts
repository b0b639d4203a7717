import { Config } from "../../config/schema";

/** Where a user's call link points: `{callPage.linkBaseUrl}/{localpart}`,
 *  or /call on the origin of the WebCall endpoint. Undefined when the page
 *  is not served. */
export function callLinkBase(callPage: Config["callPage"], publicUrl: string): string | undefined {
  if (!callPage.enabled) return undefined;
  return (callPage.linkBaseUrl ?? new URL("/call", publicUrl).toString()).replace(/\/+$/, "");
}

export function callLink(base: string, localpart: string): string {
  return `${base}/${encodeURIComponent(localpart)}`;
}
