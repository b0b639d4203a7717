import { ClientRequest } from "node:http";

/**
 * Keep-alive pools against peers that close idle connections.
 *
 * A peer closes a pooled connection after its own idle timeout (Node's
 * server after 5 s, twisted or a proxy in front of a homeserver after
 * theirs), and says so only by closing it. A request can go out on such a
 * connection at the moment it closes (or while a busy event loop has not yet
 * seen the close) and be lost unanswered. Two defences, used by every pooled
 * client: the pool closes its own idle sockets first, and a request lost that
 * way is sent once more, at once, on a fresh connection.
 */

/** Free pooled sockets are closed after this long idle: below the 5 s that
 *  Node's server and many others use. (Node's Agent shortens it further for a
 *  peer that announces `Keep-Alive: timeout=N`; it applies to free sockets
 *  only, since nothing listens for the timeout of a socket in use.) */
export const IDLE_SOCKET_MS = 4_000;

/**
 * Whether a failed request was lost to a pooled connection the peer had
 * closed, and may be sent again on a fresh one: it went out on a reused
 * socket (Node's `request.reusedSocket`), the connection was reset or broken
 * (a "socket hang up" is ECONNRESET too), and no byte of an answer came. A
 * fresh connection failing, or an answer cut short, is a real failure and is
 * reported as such.
 */
export function lostToIdleClose(req: ClientRequest, error: NodeJS.ErrnoException, answered: boolean): boolean {
  return req.reusedSocket && !answered && (error.code === "ECONNRESET" || error.code === "EPIPE");
}
