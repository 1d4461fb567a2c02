/**
 * The PDP's default policy, for development only: everything is allowed. A deployment gives its own
 * document (`ReferencePdp({ policy })`, or `readPolicyFile(path)`), in which nothing is allowed that
 * a statement does not allow.
 */
import type { PolicyDocument } from "./policy.js";

export const DEV_POLICY: PolicyDocument = {
  statements: [{ sid: "dev-allow-everything", effect: "allow", actions: ["*"] }],
};
