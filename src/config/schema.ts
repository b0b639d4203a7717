import { FromSchema } from "json-schema-to-ts";

/**
 * The configuration, described once. The TypeScript type, the start-up
 * validation and config.sample.yaml (with its comments) are all derived from
 * this object; `npm run config:sample` rewrites the sample and CI checks it
 * is current.
 */
export const configSchema = {
  type: "object",
  additionalProperties: false,
  required: ["homeserver", "webcall"],
  properties: {
    homeserver: {
      type: "object",
      description: "The Matrix homeserver this bridge serves.",
      additionalProperties: false,
      required: ["url", "domain"],
      properties: {
        url: { type: "string", format: "uri", description: "Client-server API base URL the bridge talks to.", examples: ["http://localhost:8008"] },
        domain: { type: "string", minLength: 1, description: "The homeserver's server name; its users are reachable as user@domain.", examples: ["example.org"] },
        requestTimeoutMs: { type: "integer", minimum: 100, maximum: 120000, default: 10000, description: "Total time allowed for one request to the homeserver." },
        openIdUrl: { type: "string", format: "uri", description: "Where the provisioning API checks OpenID tokens (GET …/_matrix/federation/v1/openid/userinfo). Synapse serves that only on a listener with the `openid` or `federation` resource; when that is not the listener at `url`, name it here. Absent = `url`.", examples: ["http://localhost:8448"] },
      },
    },
    appservice: {
      type: "object",
      default: {},
      description: "The appservice listener that the homeserver pushes events to.",
      additionalProperties: false,
      properties: {
        bind: { type: "string", default: "127.0.0.1", description: "Address the appservice listener binds to (the port comes from -p or the registration URL)." },
        maxBodyBytes: { type: "integer", minimum: 1024, default: 10485760, description: "Largest transaction the homeserver may push." },
      },
    },
    bridge: {
      type: "object",
      default: {},
      description: "How the bridge appears in Matrix.",
      additionalProperties: false,
      properties: {
        userPrefix: { type: "string", pattern: "^[a-z0-9._=\\-/]+$", default: "webcall_", description: "Localpart prefix of virtual users (one per WebCall address)." },
        botLocalpart: { type: "string", pattern: "^[a-z0-9._=\\-/]+$", default: "webcall", description: "Localpart of the bridge bot (the registration's sender_localpart)." },
      },
    },
    webcall: {
      type: "object",
      description: "The public WebCall/1 listener (never the appservice port).",
      additionalProperties: false,
      required: ["publicUrl"],
      properties: {
        bind: { type: "string", default: "0.0.0.0", description: "Address the WebCall listener binds to." },
        port: { type: "integer", minimum: 0, maximum: 65535, default: 9040, description: "Port of the WebCall listener (0 picks a free one)." },
        publicUrl: { type: "string", format: "uri", description: "The endpoint as others reach it; publish it at https://{domain}/.well-known/webcall.", examples: ["https://webcall.example.org/webcall"] },
        maxBodyBytes: { type: "integer", minimum: 1024, maximum: 1048576, default: 65536, description: "Largest request body accepted (the protocol says 64 KiB)." },
        requestTimeoutMs: { type: "integer", minimum: 1000, default: 15000, description: "Time allowed for one setup or event request to be answered." },
        pollTimeoutMs: { type: "integer", minimum: 1000, maximum: 120000, default: 30000, description: "How long a long poll waits for events before answering empty." },
        rateLimit: {
          type: "object",
          default: {},
          description: "Per-client request rate limit; excess requests get 429 with Retry-After.",
          additionalProperties: false,
          properties: {
            windowMs: { type: "integer", minimum: 100, default: 10000, description: "Length of the rate window." },
            max: { type: "integer", minimum: 1, default: 100, description: "Requests one client address may make per window." },
          },
        },
        trustProxy: { type: "boolean", default: false, description: "Take the client address from X-Forwarded-For (only behind a reverse proxy you run)." },
      },
    },
    callPage: {
      type: "object",
      default: {},
      description: "The call link page: GET /call/{who} on the WebCall listener, a page anyone can open to call a user or rota of this homeserver from a browser (docs/call-link.md).",
      additionalProperties: false,
      properties: {
        enabled: { type: "boolean", default: true, description: "Serve the call link page at /call/{who} (its callers are anonymous: a callee's rules must let anonymous callers through, `allow anonymous`)." },
        linkBaseUrl: { type: "string", format: "uri", pattern: "^[Hh][Tt][Tt][Pp][Ss]?://", description: "Where people open the page: links are {linkBaseUrl}/{localpart}. Absent: /call on the origin of webcall.publicUrl.", examples: ["https://example.org/call"] },
        iceServers: {
          type: "array",
          default: [],
          maxItems: 16,
          description: "STUN and TURN servers given to the page's browser. A TURN server with sharedSecret gets credentials made per call as Synapse's turn_shared_secret does (username `<expiry>:<tag>`, credential base64(HMAC-SHA1(secret, username))); the Matrix side keeps using the homeserver's own TURN.",
          examples: [[{ urls: ["stun:turn.example.org:3478"] }, { urls: ["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349"], sharedSecret: "the coturn static-auth-secret" }]],
          items: {
            type: "object",
            additionalProperties: false,
            required: ["urls"],
            properties: {
              urls: { type: "array", minItems: 1, maxItems: 8, items: { type: "string", pattern: "^(stun|stuns|turn|turns):[^\\s]{1,500}$" }, description: "stun:, stuns:, turn: or turns: URLs." },
              sharedSecret: { type: "string", minLength: 1, description: "TURN REST shared secret (coturn's static-auth-secret, Synapse's turn_shared_secret): per-call credentials." },
              username: { type: "string", minLength: 1, description: "A fixed TURN username (instead of sharedSecret)." },
              credential: { type: "string", minLength: 1, description: "The fixed TURN password that goes with username." },
            },
          },
        },
        turnCredentialLifetimeMs: { type: "integer", minimum: 60000, maximum: 86400000, default: 3600000, description: "How long per-call TURN credentials stay valid (Synapse's turn_user_lifetime is 1 h)." },
        rateLimit: {
          type: "object",
          default: {},
          description: "Per-client limits on the page (on top of webcall.rateLimit); excess requests get 429 with Retry-After.",
          additionalProperties: false,
          properties: {
            windowMs: { type: "integer", minimum: 1000, default: 60000, description: "Length of the page's rate window." },
            max: { type: "integer", minimum: 1, default: 60, description: "Page, card and ICE requests one client address may make per window." },
            callsWindowMs: { type: "integer", minimum: 1000, default: 600000, description: "Length of the window anonymous calls are counted in." },
            calls: { type: "integer", minimum: 1, default: 20, description: "Anonymous, unsigned call setups (the page's calls) one client address may make per callsWindowMs." },
          },
        },
      },
    },
    calls: {
      type: "object",
      default: {},
      description: "Call handling.",
      additionalProperties: false,
      properties: {
        defaultLifetimeMs: { type: "integer", minimum: 5000, default: 90000, description: "How long a call rings when the caller names no lifetime (the Matrix spec recommends at least 90 s)." },
        maxLifetimeMs: { type: "integer", minimum: 5000, default: 120000, description: "Longest a call may ring, whatever the caller asks." },
        neutralAnswerMs: { type: "integer", minimum: 0, maximum: 10000, default: 300, description: "Every could_not_attend setup answer is sent this long after the request arrived (and a callee not confirmed by then is not rung), so a refused, unknown or offline callee look alike in timing too." },
        candidateBatchMs: { type: "integer", minimum: 0, maximum: 2000, default: 50, description: "ICE candidates are gathered for this long and sent as one event." },
      },
    },
    rules: {
      type: "object",
      default: {},
      description: "Receiver chooses: each user's own rules decide who rings, who is refused and where calls are forwarded.",
      additionalProperties: false,
      properties: {
        defaultAction: { type: "string", enum: ["ring", "refuse", "ring_verified"], default: "ring_verified", description: "What happens to a call when the callee has no rule that matches and chose no default of their own: ring, refuse, or ring_verified (ring callers verified by a signature from their own node, refuse the rest)." },
        defaultTimeZone: { type: "string", minLength: 1, default: "UTC", description: "IANA time zone for rules written without one, until the user sets their own." },
        maxRulesPerUser: { type: "integer", minimum: 1, maximum: 10000, default: 1000, description: "Most rules one user may have." },
        maxForwardHops: { type: "integer", minimum: 1, maximum: 20, default: 5, description: "Longest chain of nodes (the protocol's via) a forwarded call may travel; longer ends as could_not_attend." },
      },
    },
    provisioning: {
      type: "object",
      default: {},
      description: "HTTP API for web front ends to manage a user's rules, authenticated with a Matrix OpenID token.",
      additionalProperties: false,
      properties: {
        enabled: { type: "boolean", default: false, description: "Serve the provisioning API." },
        bind: { type: "string", default: "127.0.0.1", description: "Address the provisioning listener binds to." },
        port: { type: "integer", minimum: 0, maximum: 65535, default: 9041, description: "Port of the provisioning listener (0 picks a free one)." },
        prefix: { type: "string", pattern: "^/", default: "/_matrix/provision", description: "Path prefix of the API." },
        sessionLifetimeMs: { type: "integer", minimum: 60000, default: 86400000, description: "How long a session exchanged for an OpenID token lasts." },
        maxBodyBytes: { type: "integer", minimum: 1024, maximum: 16777216, default: 524288, description: "Largest request body accepted (a whole rule set of rules.maxRulesPerUser rules must fit)." },
        rateLimit: {
          type: "object",
          default: {},
          description: "Per-client request rate limit; excess requests get 429.",
          additionalProperties: false,
          properties: {
            windowMs: { type: "integer", minimum: 100, default: 60000, description: "Length of the rate window." },
            max: { type: "integer", minimum: 1, default: 60, description: "Requests one client address may make per window." },
          },
        },
      },
    },
    signing: {
      type: "object",
      default: {},
      description: "Ed25519 signatures between WebCall nodes (docs/webcall-signing.md): this node's key, and the keys of others.",
      additionalProperties: false,
      properties: {
        rotateAfterDays: { type: "integer", minimum: 0, default: 90, description: "Rotate this node's signing key once it is this many days old (0 = never). The old key stays published, so calls in flight keep working." },
        oldKeyRetentionDays: { type: "integer", minimum: 1, default: 7, description: "How long a retired key is still published at {endpoint}/keys." },
        publishForMs: { type: "integer", minimum: 60000, default: 86400000, description: "How long other nodes may cache this node's keys (valid_until)." },
        peerKeyCacheMs: { type: "integer", minimum: 60000, default: 3600000, description: "Longest time another node's keys are cached, whatever its valid_until says." },
        peerKeyCacheSize: { type: "integer", minimum: 1, default: 1000, description: "Most nodes whose keys are cached at once." },
        replayCacheSize: { type: "integer", minimum: 1000, default: 100000, description: "Most request signatures remembered (for 10 minutes each) to refuse replays. When it is full of live ones, signed requests get 503 until some expire." },
      },
    },
    outbound: {
      type: "object",
      default: {},
      description: "Requests the bridge makes to other WebCall nodes: discovery, calls out, session events.",
      additionalProperties: false,
      properties: {
        allowHttp: { type: "boolean", default: false, description: "Allow plain http:// endpoints (tests and private networks only)." },
        allowPrivateNetworks: { type: "boolean", default: false, description: "Allow loopback, private and link-local addresses (so a caller cannot make the bridge probe its own network)." },
        trustedHosts: { type: "array", default: [], items: { type: "string", minLength: 1 }, description: "Hosts (name, or name:port) that may be reached over plain http and at private addresses, e.g. a node on your own network. Everything else must be https and public." },
        nodes: { type: "object", default: {}, additionalProperties: { type: "string", format: "uri" }, description: "WebCall endpoints per domain, used before /.well-known/webcall discovery. An entry for this homeserver's own domain is ignored: calls to its addresses are set up in-process.", examples: [{ "partner.example": "https://webcall.partner.example/webcall" }] },
        discoveryCacheMs: { type: "integer", minimum: 0, default: 300000, description: "How long a discovered endpoint is remembered." },
        discoveryFailureCacheMs: { type: "integer", minimum: 0, default: 60000, description: "How long a domain with no endpoint is remembered." },
        discoveryCacheSize: { type: "integer", minimum: 1, default: 10000, description: "Most domains remembered at once." },
        timeoutMs: { type: "integer", minimum: 100, maximum: 60000, default: 5000, description: "Total time allowed for one outbound request." },
        maxResponseBytes: { type: "integer", minimum: 1024, default: 65536, description: "Largest response body read from another node." },
      },
    },
    database: {
      type: "object",
      default: {},
      description: "Where the bridge keeps rooms, mappings and call state.",
      additionalProperties: false,
      properties: {
        url: { type: "string", description: "PostgreSQL connection URL. Absent: the embedded PGlite store under dataDir.", examples: ["postgresql://webcall@localhost/webcall"] },
        dataDir: { type: "string", default: "./data", description: "Directory of the embedded store (used when url is absent)." },
        maxConnections: { type: "integer", minimum: 1, default: 10, description: "PostgreSQL pool size." },
      },
    },
    logging: {
      type: "object",
      default: {},
      description: "Logging (JSON lines on stderr).",
      additionalProperties: false,
      properties: {
        level: { type: "string", enum: ["error", "warn", "info", "debug"], default: "info", description: "Least severe level written." },
      },
    },
  },
} as const;

export type Config = FromSchema<typeof configSchema, { keepDefaultedPropertiesOptional: false }>;
