/** What every route module gets. */
import type { HomeserverCore } from "../core";
import type { Rooms } from "../rooms";

export interface Deps {
  core: HomeserverCore;
  rooms: Rooms;
}
