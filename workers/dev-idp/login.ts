// POST /dev/login: "log in" as a seeded user without a password and get an OIDC ID token, standing
// in for the SSO a real client does at the IdP (spec notes §2.2). auth_time is now and amr is the
// user's seeded method, which is what ema-edge's step-up condition (mfa, 12 h) reads.
import type { DevIdpConfig } from "./config";
import { DEFAULT_CLIENT_ID, findClient, findUser } from "./directory";
import type { Env } from "./env";
import { errorResponse, jsonNoStore } from "./errors";
import { readForm } from "./form";
import { ID_TOKEN_TTL_SECONDS, mintIdToken } from "./id-token";
import { loadSigningKey } from "./keys";
import { currentGroups, readUserState } from "./user-state";

export async function handleLogin(request: Request, env: Env, config: DevIdpConfig): Promise<Response> {
  const now = Math.floor(Date.now() / 1000);
  const params = await readForm(request);
  if (!params.ok) return errorResponse(params.error);
  const username = params.value.get("username");
  if (username === undefined) return errorResponse("login_username_missing");
  const user = findUser(username);
  if (user === undefined) return errorResponse("login_user_unknown");
  const clientId = params.value.get("client_id") ?? DEFAULT_CLIENT_ID;
  if (findClient(clientId) === undefined) return errorResponse("login_client_unknown");
  const state = await readUserState(env.IDP_STATE, user.name);
  if (!state.active) return errorResponse("login_user_deactivated");

  const key = await loadSigningKey(env);
  const idToken = await mintIdToken({ issuer: config.issuer, clientId, user, groups: currentGroups(user, state), now }, key);
  return jsonNoStore({ id_token: idToken, token_type: "Bearer", expires_in: ID_TOKEN_TTL_SECONDS });
}
