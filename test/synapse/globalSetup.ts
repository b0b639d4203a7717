import { synapsePython } from "./install";

/** Installs the pinned Synapse once, before any worker starts one (or fails at once, saying what is missing). */
export default function globalSetup(): void {
  synapsePython();
}
