import { storeContract } from "./contract";
import { pgliteEngine } from "./engines";

describe("store on PGlite", () => storeContract(pgliteEngine));
