/** Express plumbing: JSON bodies with Matrix errcodes, async handlers, the error and 404 answers. */
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import { MatrixError, badJson, missingParam, unrecognized } from "./errors";
import type { Json } from "./types";

export type Handler = (req: Request, res: Response) => Json | unknown[] | Promise<Json | unknown[]>;

/** Registers a handler whose return value is the 200 JSON body and whose throws become Matrix errors. */
export function route(router: Router, method: "get" | "put" | "post" | "delete", path: string, handler: Handler): void {
  router[method](path, (req: Request, res: Response, next: NextFunction) => {
    Promise.resolve()
      .then(() => handler(req, res))
      .then((body) => {
        if (!res.headersSent) res.status(200).json(body);
      })
      .catch(next);
  });
}

/** Reads raw bodies and parses JSON ourselves so bad input gets M_NOT_JSON like Synapse. */
export function jsonBodies(): express.RequestHandler[] {
  return [
    express.raw({ type: () => true, limit: "50mb" }),
    (req, _res, next) => {
      const raw = req.body as Buffer | undefined;
      if (!Buffer.isBuffer(raw) || raw.length === 0) {
        req.body = undefined;
        return next();
      }
      try {
        req.body = JSON.parse(raw.toString("utf8"));
        next();
      } catch {
        next(new MatrixError(400, "M_NOT_JSON", "Content not JSON."));
      }
    },
  ];
}

/** The request body as a JSON object; an empty body counts as {} where Synapse allows it. */
export function body(req: Request, allowEmpty = false): Json {
  const b: unknown = req.body;
  if (b === undefined && allowEmpty) return {};
  if (b === undefined) throw new MatrixError(400, "M_NOT_JSON", "Content not JSON.");
  if (typeof b !== "object" || b === null || Array.isArray(b)) throw badJson("Content must be a JSON object.");
  return b as Json;
}

export function requireString(obj: Json, key: string): string {
  const v = obj[key];
  if (v === undefined) throw missingParam(`Missing params: ['${key}']`);
  if (typeof v !== "string") throw badJson(`${key} must be a string`);
  return v;
}

export function param(req: Request, name: string): string {
  return (req.params as Record<string, string>)[name] ?? "";
}

export function notFoundHandler(_req: Request, res: Response): void {
  res.status(404).json(unrecognized().body());
}

export function errorHandler(err: unknown, _req: Request, res: Response, _next: NextFunction): void {
  if (res.headersSent) return;
  if (err instanceof MatrixError) {
    res.status(err.status).json(err.body());
    return;
  }
  const status = (err as { status?: number; type?: string }).status;
  if (status === 413) {
    res.status(413).json({ errcode: "M_TOO_LARGE", error: "Request too large" });
    return;
  }
  res.status(500).json({ errcode: "M_UNKNOWN", error: err instanceof Error ? err.message : "Internal server error" });
}
