export { startProvisioning } from "./server";
export type { ProvisioningServer, RotaApi } from "./server";
