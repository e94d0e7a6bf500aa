// The mutable half of a user (deactivated, groups removed, sessions cleared), kept in IDP_STATE so
// it survives a `wrangler dev` restart. Missing means "as seeded". Pure helpers compute the
// effective groups and whether an ID token's login predates a session clear.
import type { DirectoryUser } from "./directory";

export interface UserState {
  active: boolean;
  /** Seeded groups an admin removed. */
  removedGroups: string[];
  /** Epoch seconds of the last deactivate or clear-sessions; logins at or before it are void. */
  sessionsClearedAt: number | null;
}

const INITIAL: UserState = { active: true, removedGroups: [], sessionsClearedAt: null };

const stateKey = (name: string) => `user:v1:${name}`;

export async function readUserState(kv: KVNamespace, name: string): Promise<UserState> {
  const stored = await kv.get<Partial<UserState>>(stateKey(name), "json");
  if (stored === null || typeof stored !== "object") return { ...INITIAL, removedGroups: [] };
  return {
    active: stored.active !== false,
    removedGroups: Array.isArray(stored.removedGroups) ? stored.removedGroups.filter((g): g is string => typeof g === "string") : [],
    sessionsClearedAt: typeof stored.sessionsClearedAt === "number" ? stored.sessionsClearedAt : null,
  };
}

export async function writeUserState(kv: KVNamespace, name: string, state: UserState): Promise<void> {
  await kv.put(stateKey(name), JSON.stringify(state));
}

/** Forgets every change: back to the seeded directory. */
export async function resetUserState(kv: KVNamespace, name: string): Promise<void> {
  await kv.delete(stateKey(name));
}

/** The groups the user is in now: seeded minus removed. */
export function currentGroups(user: DirectoryUser, state: UserState): string[] {
  return user.groups.filter((g) => !state.removedGroups.includes(g));
}

/**
 * Whether a login at `authTime` was ended by a later session clear. At or before, not only before:
 * ema-edge refuses tokens whose iat ≤ revoked_before, and the IdP must not be laxer in that second.
 */
export function isSessionCleared(state: UserState, authTime: number): boolean {
  return state.sessionsClearedAt !== null && authTime <= state.sessionsClearedAt;
}

/** The user as GET /dev/users and the admin answers show it: no secrets, nothing mutable hidden. */
export function describeUser(user: DirectoryUser, state: UserState) {
  return {
    name: user.name,
    sub: user.sub,
    email: user.email,
    display_name: user.displayName,
    amr: user.amr,
    active: state.active,
    groups: currentGroups(user, state),
    seeded_groups: user.groups,
    removed_groups: state.removedGroups,
    sessions_cleared_at: state.sessionsClearedAt,
  };
}
