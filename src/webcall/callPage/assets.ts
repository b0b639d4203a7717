import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { Request, Response } from "express";

/**
 * The page's files (assets/: page.html, call.css, call.js, call.svg), static
 * and shipped as they are: no build step, nothing from another origin. They
 * are read once at start-up and kept in memory with their brotli and gzip
 * forms, so a page load costs no disk read and no compression.
 */

/** One file, ready to send. */
export interface Asset {
  name: string;
  type: string;
  raw: Buffer;
  gzip: Buffer;
  brotli: Buffer;
  etag: string;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
};

export const ASSET_NAMES = ["page.html", "call.css", "call.js", "call.svg"] as const;
export type AssetName = typeof ASSET_NAMES[number];

/** Run from source, the files sit beside this one; from the package (dist/
 *  has only compiled code), in its `src/webcall/callPage/assets`, as the SQL
 *  migrations are found. */
export function assetsDir(): string {
  const candidates = [
    path.join(__dirname, "assets"),
    path.resolve(__dirname, "..", "..", "..", "..", "src", "webcall", "callPage", "assets"),
  ];
  const found = candidates.find((dir) => existsSync(path.join(dir, "page.html")));
  if (!found) throw new Error(`the call page's files were not found; looked in ${candidates.join(", ")}`);
  return found;
}

export function loadAssets(dir: string = assetsDir()): Map<AssetName, Asset> {
  return new Map(ASSET_NAMES.map((name) => {
    const raw = readFileSync(path.join(dir, name));
    return [name, {
      name,
      type: TYPES[path.extname(name)]!,
      raw,
      gzip: gzipSync(raw, { level: 9 }),
      brotli: brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length } }),
      etag: `"${createHash("sha256").update(raw).digest("base64url").slice(0, 27)}"`,
    }];
  }));
}

/** Sends `asset` in the best encoding the client accepts (brotli, gzip, none). */
export function sendAsset(req: Request, res: Response, asset: Asset): void {
  res.setHeader("Content-Type", asset.type);
  res.setHeader("ETag", asset.etag);
  res.setHeader("Vary", "Accept-Encoding");
  if (req.get("if-none-match") === asset.etag) {
    res.status(304).end();
    return;
  }
  const accepts = req.acceptsEncodings("br", "gzip", "identity");
  const [body, encoding] = accepts === "br" ? [asset.brotli, "br"] : accepts === "gzip" ? [asset.gzip, "gzip"] : [asset.raw, undefined];
  if (encoding) res.setHeader("Content-Encoding", encoding);
  res.setHeader("Content-Length", String(body.length));
  res.status(200).end(req.method === "HEAD" ? undefined : body);
}
