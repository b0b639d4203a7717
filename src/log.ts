import winston from "winston";

/** One root logger; every module takes a child with its own name, and
 *  callers add structured fields (request id, session id) per message. */
const root = winston.createLogger({
  level: process.env.WEBCALL_LOG_LEVEL ?? "info",
  format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
  transports: [new winston.transports.Console({ stderrLevels: ["error", "warn", "info", "debug"] })],
});

export type Logger = winston.Logger;

export function logger(module: string): Logger {
  return root.child({ module });
}

export function setLogLevel(level: string): void {
  root.level = level;
}
