// What the bench deploys and sends: keys, the realistic policy and client records (in the formats of
// kv-schemas/ and workers/authorization-server/client/secret.ts), and pre-minted ID-JAGs. Runs in
// Node, before any timed region; signing uses node:crypto (ES256, about 50 µs per assertion).
import crypto from "node:crypto";

export const ISSUER = "https://as.bench.test";
export const IDP_ISSUER = "https://idp.bench.test";
export const IDP_JWKS_URI = "https://idp.bench.test/oauth2/v1/keys";
export const RESOURCE = "https://mcp.bench.test/mcp";
export const CLIENT_ID = "bench-client";
export const CLIENT_SECRET = "bench-secret-0123456789abcdefghijklmnopqrstuvw";
export const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** Distinct users the assertions are spread over (so over many SubjectShards). */
export const SUBJECTS = 512;

const b64url = (buf) => Buffer.from(buf).toString("base64url");

function es256Key(kid) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { kid, privateKey, privateJwk: { ...privateKey.export({ format: "jwk" }), kid, alg: "ES256" }, publicJwk: { ...publicKey.export({ format: "jwk" }), kid, alg: "ES256", use: "sig" } };
}

export function makeKeys() {
  const idp = es256Key("bench-idp-ec-1");
  const at = es256Key("bench-at-1");
  return {
    idp,
    idpJwks: JSON.stringify({ keys: [idp.publicJwk, es256Key("bench-idp-ec-0").publicJwk] }),
    atSigningKeys: JSON.stringify({ current: at.kid, keys: [at.privateJwk] }),
    asJwks: JSON.stringify({ keys: [at.publicJwk] }),
  };
}

function signJwt(header, claims, key) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const sig = crypto.sign("sha256", Buffer.from(input), { key: key.privateKey, dsaEncoding: "ieee-p1363" });
  return `${input}.${b64url(sig)}`;
}

/** `n` ID-JAGs, each with a fresh jti, issued now and valid 300 s (the lifetime ceiling). */
export function mintAssertions(key, n) {
  const now = Math.floor(Date.now() / 1000);
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const u = i % SUBJECTS;
    out[i] = signJwt(
      { alg: "ES256", kid: key.kid, typ: "oauth-id-jag+jwt" },
      {
        iss: IDP_ISSUER,
        sub: `00u${String(u).padStart(6, "0")}bench`,
        aud: ISSUER,
        client_id: CLIENT_ID,
        jti: crypto.randomUUID(),
        iat: now,
        exp: now + 300,
        resource: RESOURCE,
        scope: "notes.read notes.write",
        email: `user${u}@bench.example`,
        groups: u % 4 === 0 ? ["sales", "everyone"] : ["engineering", "everyone", "staff-2024"],
        amr: ["pwd", "mfa"],
        auth_time: now - 600,
        act: { sub: "wlp-agent-7", sub_profile: "ai_agent" },
      },
      key,
    );
  }
  return out;
}

/** ema-edge's stored secret form: `sha256:<salt>:<SHA-256(salt ‖ secret)>` (client/secret.ts). */
function hashClientSecret(secret) {
  const salt = crypto.randomBytes(16);
  return `sha256:${b64url(salt)}:${b64url(crypto.createHash("sha256").update(Buffer.concat([salt, Buffer.from(secret)])).digest())}`;
}

export function emaClientRecord() {
  return {
    client_id: CLIENT_ID,
    name: "Bench MCP client",
    status: "active",
    token_endpoint_auth_methods: ["client_secret_basic", "client_secret_post"],
    client_secrets: [{ hash: hashClientSecret(CLIENT_SECRET), created_at: "2026-11-01T00:00:00Z" }],
    grant_types: [JWT_BEARER],
    allowed_resources: [RESOURCE, "https://tickets.bench.test/mcp", "https://wiki.bench.test/mcp"],
  };
}

/** workers-oauth-provider's client record (`client:{id}`, secret as hex SHA-256). */
export function peerClientRecord() {
  return {
    clientId: CLIENT_ID,
    redirectUris: [],
    clientName: "Bench MCP client",
    grantTypes: [JWT_BEARER],
    responseTypes: [],
    registrationDate: Math.floor(Date.now() / 1000),
    tokenEndpointAuthMethod: "client_secret_basic",
    clientSecret: crypto.createHash("sha256").update(CLIENT_SECRET).digest("hex"),
  };
}

const governance = (reason) => ({ owner: "platform@bench.example", approved_by: "security@bench.example", reason, review_by: "2027-06-30" });

/** A realistic policy: three IdPs, four MCP resources with sensitive scopes, nine group rules. */
export function benchPolicy() {
  const otherJwks = (host) => `https://${host}/oauth2/v1/keys`;
  return {
    version: 7,
    pushed_at: "2026-11-22T00:00:00Z",
    pushed_by: "bench@bench.example",
    audience_aliases: ["https://as.bench.test/"],
    issuers: [
      { id: "acme-okta", issuer: IDP_ISSUER, jwks_uri: IDP_JWKS_URI, algorithms: ["RS256", "ES256"], groups_claim: "groups", default_resource: RESOURCE, max_assertion_lifetime_seconds: 300 },
      { id: "contoso-entra", issuer: "https://login.contoso.bench.test/v2.0", jwks_uri: otherJwks("login.contoso.bench.test"), algorithms: ["RS256"], groups_claim: "roles" },
      { id: "globex-okta", issuer: "https://globex.okta.bench.test", jwks_uri: otherJwks("globex.okta.bench.test"), algorithms: ["RS256"], default_resource: "https://tickets.bench.test/mcp" },
    ],
    resources: [
      {
        resource: RESOURCE,
        name: "Notes",
        access_token_ttl_seconds: 300,
        default_scopes: ["notes.read"],
        scopes: [
          { name: "notes.read", description: "Read notes" },
          { name: "notes.write", description: "Write notes", sensitive: true, conditions: { amr_any_of: ["mfa", "hwk"], max_auth_age_seconds: 43200 } },
          { name: "notes.admin", description: "Administer notes", sensitive: true, conditions: { amr_any_of: ["hwk"], max_auth_age_seconds: 3600 } },
        ],
      },
      { resource: "https://tickets.bench.test/mcp", name: "Tickets", scopes: [{ name: "tickets.read" }, { name: "tickets.write", sensitive: true, conditions: { amr_any_of: ["mfa"] } }], default_scopes: ["tickets.read"] },
      { resource: "https://wiki.bench.test/mcp", name: "Wiki", scopes: [{ name: "wiki.read" }, { name: "wiki.edit" }], access_token_ttl_seconds: 600 },
      { resource: "https://crm.bench.test/mcp", name: "CRM", scopes: [{ name: "crm.read" }, { name: "crm.export", sensitive: true, conditions: { amr_any_of: ["hwk"] } }] },
    ],
    rules: [
      { id: "eng-notes", issuers: ["acme-okta"], groups: ["engineering"], resources: [RESOURCE], scopes: ["notes.read", "notes.write"], ...governance("Engineers keep design notes.") },
      { id: "sales-notes-read", issuers: ["acme-okta"], groups: ["sales"], resources: [RESOURCE], scopes: ["notes.read"], ...governance("Sales reads product notes.") },
      { id: "notes-admins", issuers: ["acme-okta"], groups: ["notes-admins"], resources: [RESOURCE], scopes: "*", ...governance("Notes administrators.") },
      { id: "eng-tickets", issuers: ["acme-okta", "globex-okta"], groups: ["engineering", "support"], resources: ["https://tickets.bench.test/mcp"], scopes: "*", ...governance("Engineering and support work tickets.") },
      { id: "everyone-wiki", issuers: ["acme-okta"], groups: ["everyone"], resources: ["https://wiki.bench.test/mcp"], scopes: ["wiki.read"], ...governance("Everyone reads the wiki.") },
      { id: "writers-wiki", issuers: ["acme-okta"], groups: ["tech-writers"], email_domains: ["bench.example"], resources: ["https://wiki.bench.test/mcp"], scopes: "*", ...governance("Writers edit the wiki.") },
      { id: "contoso-crm", issuers: ["contoso-entra"], groups: ["crm-users"], resources: ["https://crm.bench.test/mcp"], scopes: ["crm.read"], ...governance("Contoso partners read the CRM.") },
      { id: "contoso-crm-export", issuers: ["contoso-entra"], groups: ["crm-admins"], clients: [CLIENT_ID], resources: ["https://crm.bench.test/mcp"], scopes: "*", ...governance("CRM admins export.") },
      { id: "globex-tickets-read", issuers: ["globex-okta"], resources: ["https://tickets.bench.test/mcp"], scopes: ["tickets.read"], ...governance("Globex staff read tickets.") },
    ],
  };
}
