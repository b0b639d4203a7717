export { startProvisioning } from "./server";
export type { ProvisioningServer } from "./server";
