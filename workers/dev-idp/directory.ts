// The seeded directory of the development IdP: people, groups and the one OAuth client, as plain
// data. What changes at run time (deactivation, removed groups, cleared sessions) is user-state.ts's.
// Ids look like Okta's (20 characters, `00u` users, `00g` groups) so hooks resemble real deliveries.

export interface DirectoryUser {
  /** The login name, and the name in /dev/users/{name}/… */
  name: string;
  /** Stable subject: `sub` of ID tokens and ID-JAGs, `target[].id` of Okta events. */
  sub: string;
  email: string;
  displayName: string;
  /** Groups before any admin removal. */
  groups: readonly string[];
  /** How this person logs in. ema-edge's example policy wants mfa|hwk for notes.write. */
  amr: readonly string[];
}

export interface DirectoryGroup {
  name: string;
  id: string;
}

export interface DirectoryClient {
  clientId: string;
  /** Development only: compared in constant time (client-auth.ts), never echoed. */
  secret: string;
}

export const USERS: readonly DirectoryUser[] = [
  // engineering → notes.read + notes.write at ema-edge; logs in with MFA, so the step-up holds.
  { name: "alice", sub: "00ualiceDEVIDP000001", email: "alice@example.com", displayName: "Alice Engineer", groups: ["engineering"], amr: ["pwd", "mfa"] },
  // sales → notes.read only; password only.
  { name: "bob", sub: "00ubobDEVIDP00000002", email: "bob@example.com", displayName: "Bob Sales", groups: ["sales"], amr: ["pwd"] },
  // No group: the IdP still mints for her; ema-edge's policy is what must refuse.
  { name: "carol", sub: "00ucarolDEVIDP000003", email: "carol@example.com", displayName: "Carol Contractor", groups: [], amr: ["pwd"] },
];

export const GROUPS: readonly DirectoryGroup[] = [
  { name: "engineering", id: "00gengineeringDEV001" },
  { name: "sales", id: "00gsalesDEVIDP000001" },
];

/** The MCP client registered here; the same client_id is registered at ema-edge. */
export const CLIENTS: readonly DirectoryClient[] = [{ clientId: "demo-client", secret: "demo-secret" }];

export const DEFAULT_CLIENT_ID = "demo-client";

/** The administrator named as `actor` of the Okta events the admin actions emit. */
export const ADMIN_ACTOR = { id: "00uadminDEVIDP000000", type: "User", alternateId: "admin@example.com", displayName: "Dev IdP Admin" } as const;

// Lookups go through Maps, so a name such as "constructor" or "__proto__" finds nothing.
const byName = new Map(USERS.map((u) => [u.name, u]));
const bySub = new Map(USERS.map((u) => [u.sub, u]));
const groupsByName = new Map(GROUPS.map((g) => [g.name, g]));
const clientsById = new Map(CLIENTS.map((c) => [c.clientId, c]));

export const findUser = (name: string): DirectoryUser | undefined => byName.get(name);
export const findUserBySub = (sub: string): DirectoryUser | undefined => bySub.get(sub);
export const findGroup = (name: string): DirectoryGroup | undefined => groupsByName.get(name);
export const findClient = (clientId: string): DirectoryClient | undefined => clientsById.get(clientId);
