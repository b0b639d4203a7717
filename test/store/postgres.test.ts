import { storeContract } from "./contract";
import { postgresEngine } from "./engines";

/** Needs PostgreSQL (WEBCALL_TEST_PG_URL, default postgresql://postgres@127.0.0.1:5432/test);
 *  fails, never skips, when it is unreachable. */
describe("store on PostgreSQL", () => storeContract(postgresEngine));
