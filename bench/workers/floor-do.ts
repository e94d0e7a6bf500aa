// The design's floor: the floor (workers/floor.ts: read the form, verify the ID-JAG, sign one
// access token) plus the two things ema-edge's design adds that no implementation of it can skip:
// one strongly consistent Durable Object round trip that spends the jti (SQLite, in one of 64
// objects per issuer, as SubjectShard shards), and one JSON audit line. No client auth, no
// policy, no revocation lookup, no hashing of identifiers: those are ema-edge's own cost.
import { DurableObject } from "cloudflare:workers";
import { SignJWT, importJWK, jwtVerify, type CryptoKey } from "jose";

interface Env {
  ISSUER: string;
  IDP_JWKS: string;
  AT_SIGNING_KEYS: string;
  JTI_SHARD: DurableObjectNamespace<JtiShard>;
}

/** Spends a jti once: INSERT into a primary-keyed table, as ema-edge's ledger does. */
export class JtiShard extends DurableObject {
  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env as never);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS jti (key TEXT PRIMARY KEY, forget_after INTEGER NOT NULL)");
  }

  spend(jti: string, forgetAfter: number): boolean {
    // RETURNING, read out: a cursor's rowsWritten is only known once it has been consumed.
    return this.ctx.storage.sql.exec("INSERT INTO jti (key, forget_after) VALUES (?, ?) ON CONFLICT (key) DO NOTHING RETURNING key", jti, forgetAfter).toArray().length === 1;
  }
}

interface Keys {
  verify: CryptoKey;
  sign: CryptoKey;
  kid: string;
}
let keys: Promise<Keys> | undefined;

async function importKeys(env: Env): Promise<Keys> {
  const idp = (JSON.parse(env.IDP_JWKS) as { keys: JsonWebKey[] }).keys[0]!;
  const at = JSON.parse(env.AT_SIGNING_KEYS) as { current: string; keys: (JsonWebKey & { kid: string })[] };
  const current = at.keys.find((k) => k.kid === at.current)!;
  return {
    verify: (await importJWK(idp as Parameters<typeof importJWK>[0], "ES256")) as CryptoKey,
    sign: (await importJWK(current as Parameters<typeof importJWK>[0], "ES256")) as CryptoKey,
    kid: current.kid,
  };
}

/** 64 objects per issuer, like SUBJECT_SHARD_COUNT, with a cheap non-cryptographic spread. */
function shardName(iss: string, sub: string): string {
  let h = 0;
  for (let i = 0; i < sub.length; i++) h = (h * 31 + sub.charCodeAt(i)) | 0;
  return `${iss}\n${(h >>> 0) % 64}`;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const k = await (keys ??= importKeys(env));
    const form = new URLSearchParams(await request.text());
    const now = Math.floor(Date.now() / 1000);
    let claims;
    try {
      ({ payload: claims } = await jwtVerify(form.get("assertion") ?? "", k.verify, { typ: "oauth-id-jag+jwt", algorithms: ["ES256"], audience: env.ISSUER }));
    } catch {
      return Response.json({ error: "invalid_grant" }, { status: 400 });
    }
    const shard = env.JTI_SHARD.get(env.JTI_SHARD.idFromName(shardName(claims.iss!, claims.sub!)));
    if (!(await shard.spend(`${claims.sub}\n${claims.jti}`, claims.exp! + 60))) return Response.json({ error: "invalid_grant" }, { status: 400 });
    const jti = crypto.randomUUID();
    const token = await new SignJWT({ client_id: claims.client_id, scope: claims.scope, idp: claims.iss })
      .setProtectedHeader({ alg: "ES256", kid: k.kid, typ: "at+jwt" })
      .setIssuer(env.ISSUER)
      .setSubject(claims.sub!)
      .setAudience(String(claims.resource))
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .setJti(jti)
      .sign(k.sign);
    // About the size of ema-edge's granted audit line.
    console.log(
      JSON.stringify({ type: "ema.token", time: now, decision: "granted", client_id: claims.client_id, iss: claims.iss, sub: claims.sub, act: claims.act, jti: claims.jti, resource: claims.resource, scopes: String(claims.scope).split(" "), access_token_jti: jti, access_token_exp: now + 300 }),
    );
    return Response.json(
      { access_token: token, token_type: "Bearer", expires_in: 300, scope: claims.scope, resource: claims.resource },
      { headers: { "cache-control": "no-store" } },
    );
  },
} satisfies ExportedHandler<Env>;
