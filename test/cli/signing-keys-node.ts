// Loads a key set with the Worker's own parser, from Node.
import { loadSigningKeys } from "../../workers/authorization-server/tokens/signing-keys";

export const loadSigningKeysForTests = (set: unknown) => loadSigningKeys(JSON.stringify(set));
