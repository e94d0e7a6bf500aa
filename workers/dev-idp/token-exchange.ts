// POST /oauth2/token: the RFC 8693 exchange of an ID token for an ID-JAG (spec notes §2.3, ID-JAG
// §4.3), laid out as its steps. The IdP mints for any active user whose login is still valid; who
// gets what is ema-edge's policy, not this IdP's (carol, in no group, gets an ID-JAG and is refused there).
import type { DevIdpConfig } from "./config";
import { authenticateClient } from "./client-auth";
import { findUserBySub } from "./directory";
import type { Env } from "./env";
import { errorResponse, jsonNoStore } from "./errors";
import { readExchangeRequest, ID_JAG_TOKEN_TYPE } from "./exchange-request";
import { readForm } from "./form";
import { mintIdJag, ID_JAG_TTL_SECONDS } from "./id-jag";
import { verifyIdToken } from "./id-token";
import { loadSigningKey } from "./keys";
import { currentGroups, isSessionCleared, readUserState } from "./user-state";

export async function handleTokenExchange(request: Request, env: Env, config: DevIdpConfig): Promise<Response> {
  const now = Math.floor(Date.now() / 1000);

  // 1. A capped form body, one value per parameter.
  const params = await readForm(request);
  if (!params.ok) return errorResponse(params.error);

  // 2. The client, before anything it sent is looked at further (ID-JAG §4.3: client authentication MUST be enforced).
  const client = await authenticateClient(request.headers.get("authorization"), params.value);
  if (!client.ok) return errorResponse(client.error);

  // 3. The request: grant, token types, audience, resource, scope.
  const exchange = readExchangeRequest(params.value, config.emaEdgeIssuer);
  if (!exchange.ok) return errorResponse(exchange.error);

  // 4. The subject token: this IdP's ID token, issued to this client, unexpired.
  const key = await loadSigningKey(env);
  const idToken = await verifyIdToken(exchange.value.subjectToken, key, { issuer: config.issuer, clientId: client.value }, now);
  if (!idToken.ok) return errorResponse(idToken.error);

  // 5. The person now: still known, still active, and not logged out by an admin since this login.
  const user = findUserBySub(idToken.value.sub);
  if (user === undefined) return errorResponse("user_unknown");
  const state = await readUserState(env.IDP_STATE, user.name);
  if (!state.active) return errorResponse("user_deactivated");
  if (isSessionCleared(state, idToken.value.authTime)) return errorResponse("session_cleared");

  // 6. The ID-JAG, with groups as they are now (an ID token's groups may predate a removal).
  const { resource, scope, audience } = exchange.value;
  const idJag = await mintIdJag(
    {
      issuer: config.issuer,
      sub: user.sub,
      audience,
      clientId: client.value,
      ...(resource !== undefined && { resource }),
      ...(scope !== undefined && { scope }),
      groups: currentGroups(user, state),
      email: user.email,
      authTime: idToken.value.authTime,
      amr: user.amr,
      now,
    },
    key,
  );
  // RFC 8693 §2.2.1 names the field access_token although this is a grant; token_type N_A says so.
  return jsonNoStore({
    access_token: idJag,
    issued_token_type: ID_JAG_TOKEN_TYPE,
    token_type: "N_A",
    expires_in: ID_JAG_TTL_SECONDS,
    ...(scope !== undefined && { scope }),
    // ID-JAG -05: present exactly when the ID-JAG carries a resource, and equal to it.
    ...(resource !== undefined && { resource }),
  });
}
