import { Config } from "./schema";

/**
 * What config.sample.yaml says, where a real deployment must say something
 * else. Only `webcall.publicUrl` decides that the sample is untouched: no
 * deployment can be reached at the sample's URL, while example.org and
 * localhost:8008 are also what test and local setups legitimately use.
 */
const SAMPLE = {
  publicUrl: "https://webcall.example.org/webcall",
  domain: "example.org",
  homeserverUrl: "http://localhost:8008",
} as const;

/**
 * The keys of an untouched sample config, each with what to set it to; none
 * for a config that was edited. Refused for both writing a registration
 * (its namespace is built from homeserver.domain) and running.
 */
export function sampleLeftovers(config: Config): string[] {
  if (config.webcall.publicUrl !== SAMPLE.publicUrl) return [];
  const problems = [
    `webcall.publicUrl is still the sample's ${SAMPLE.publicUrl}: set it to the URL other WebCall nodes and callers reach ` +
      `this bridge's WebCall listener at (port ${config.webcall.port}, or a reverse proxy in front of it), ` +
      "such as https://webcall.your.domain/webcall",
  ];
  if (config.homeserver.domain === SAMPLE.domain) {
    problems.push(`homeserver.domain is still the sample's ${SAMPLE.domain}: set it to your homeserver's server name (the part after ":" in @you:your.domain)`);
  }
  if (config.homeserver.url === SAMPLE.homeserverUrl) {
    problems.push(`homeserver.url is the sample's ${SAMPLE.homeserverUrl}: keep it only if your homeserver's client-server API is there`);
  }
  if (config.webcall.bind === "0.0.0.0") {
    problems.push("webcall.bind is 0.0.0.0 (every interface): keep it if callers reach webcall.port directly, or set 127.0.0.1 behind a reverse proxy on this machine");
  }
  problems.push("this is still the sample configuration: edit these keys and start again (config.sample.yaml explains every key)");
  return problems;
}
