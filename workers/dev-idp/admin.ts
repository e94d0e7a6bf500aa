// Development-only admin actions: POST /dev/users/{name}/{deactivate|remove-group|clear-sessions|
// reactivate}, GET /dev/users, POST /dev/reset. Each action stores the new state first, then pushes
// the Okta delivery and the SET to ema-edge, so a failed push never leaves the IdP and its own
// answer disagreeing; the answer is 502 when a push failed, with what each push got.
import type { DevIdpConfig } from "./config";
import { CLIENTS, findGroup, findUser, USERS, type DirectoryGroup, type DirectoryUser } from "./directory";
import type { Env } from "./env";
import { errorResponse, jsonNoStore, type Reason } from "./errors";
import { buildOktaDelivery, buildSetClaims, type AdminAction } from "./events";
import { readFormOrJson } from "./form";
import { loadSigningKey } from "./keys";
import { pushOktaDelivery, pushSet, pushTimeoutMs, type PushTarget } from "./pushes";
import { currentGroups, describeUser, readUserState, resetUserState, writeUserState, type UserState } from "./user-state";

const ACTIONS: ReadonlySet<string> = new Set<AdminAction>(["deactivate", "remove-group", "clear-sessions", "reactivate"]);

export const isAdminAction = (value: string): value is AdminAction => ACTIONS.has(value);

export async function handleListUsers(env: Env): Promise<Response> {
  const users = await Promise.all(USERS.map(async (u) => describeUser(u, await readUserState(env.IDP_STATE, u.name))));
  return jsonNoStore({ users, clients: CLIENTS.map((c) => ({ client_id: c.clientId })) });
}

/** Back to the seeded directory, without pushes: restoring never un-revokes at ema-edge anyway. */
export async function handleReset(env: Env): Promise<Response> {
  await Promise.all(USERS.map((u) => resetUserState(env.IDP_STATE, u.name)));
  return handleListUsers(env);
}

export async function handleAdminAction(request: Request, env: Env, config: DevIdpConfig, name: string, action: AdminAction): Promise<Response> {
  const nowMs = Date.now();
  const params = await readFormOrJson(request);
  if (!params.ok) return errorResponse(params.error);
  const user = findUser(name);
  if (user === undefined) return errorResponse("admin_user_unknown");
  const before = await readUserState(env.IDP_STATE, user.name);

  const change = applyAction(action, user, before, params.value.get("group"), Math.floor(nowMs / 1000));
  if (!change.ok) return errorResponse(change.reason);
  await writeUserState(env.IDP_STATE, user.name, change.state);

  const key = await loadSigningKey(env);
  const target: PushTarget = { base: config.emaEdgeBase, idpId: config.idpId, hookSecret: env.OKTA_HOOK_SECRET, timeoutMs: pushTimeoutMs(env.PUSH_TIMEOUT_MS) };
  const input = {
    action,
    issuer: config.issuer,
    user,
    ...(change.group !== undefined && { group: change.group }),
    groupsAfter: currentGroups(user, change.state),
    nowMs,
    ids: { uuid: crypto.randomUUID(), eventId: crypto.randomUUID(), jti: crypto.randomUUID(), transaction: crypto.randomUUID() },
  };
  const pushes = await Promise.all([
    pushOktaDelivery(target, buildOktaDelivery(input)),
    pushSet(target, buildSetClaims({ ...input, audience: config.emaEdgeIssuer }), key),
  ]);
  const delivered = pushes.every((p) => p.ok);
  return jsonNoStore({ action, user: describeUser(user, change.state), delivered, pushes }, delivered ? 200 : 502);
}

type Change = { ok: true; state: UserState; group?: DirectoryGroup } | { ok: false; reason: Reason };

/**
 * The new state. Pure. Deactivation also ends sessions, as at Okta: a reactivated person logs in
 * again, and ID tokens from before stay void. Repeating an action is allowed and pushes again, so
 * a revocation drill can be rerun after ema-edge was down.
 */
export function applyAction(action: AdminAction, user: DirectoryUser, state: UserState, groupName: string | undefined, now: number): Change {
  switch (action) {
    case "deactivate":
      return { ok: true, state: { ...state, active: false, sessionsClearedAt: now } };
    case "clear-sessions":
      return { ok: true, state: { ...state, sessionsClearedAt: now } };
    case "reactivate":
      return { ok: true, state: { ...state, active: true } };
    case "remove-group": {
      if (groupName === undefined) return { ok: false, reason: "admin_group_missing" };
      const group = findGroup(groupName);
      if (group === undefined || !currentGroups(user, state).includes(group.name)) return { ok: false, reason: "admin_group_not_member" };
      return { ok: true, state: { ...state, removedGroups: [...state.removedGroups, group.name] }, group };
    }
  }
}
