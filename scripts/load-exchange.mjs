#!/usr/bin/env node
// A bounded local load test of the token exchange against a running `npm run dev` (127.0.0.1:8787,
// seeded with config/dev-policy.json). It stands in for the dev IdP on localhost:8788 (a real
// RS256/ES256 signer serving its JWKS), pre-mints every ID-JAG outside the timed region (each is
// single use), and drives `wrk` (Debian package) with a Lua script that sends one per request.
//   node scripts/load-exchange.mjs [--requests 4000] [--connections 8] [--seconds 10] [--alg ES256]
// Loopback only; stops by itself.
import { createServer } from "node:http";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { exportJWK, generateKeyPair, SignJWT } from "jose";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const REQUESTS = Number(arg("requests", 4000));
const CONNECTIONS = Number(arg("connections", 8));
const SECONDS = Number(arg("seconds", 10));
const ALG = arg("alg", "ES256");
const AS = "http://127.0.0.1:8787";
const IDP = "http://localhost:8788";

const { privateKey, publicKey } = await generateKeyPair(ALG);
const KID = `load-${crypto.randomUUID().slice(0, 8)}`; // a new kid per run: cached key sets of earlier runs must not match
const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: KID, alg: ALG, use: "sig" }] });
const servers = ["127.0.0.1", "::1"].map((host) =>
  createServer((req, res) => {
    res.writeHead(req.url === "/.well-known/jwks.json" ? 200 : 404, { "content-type": "application/json", "cache-control": "max-age=3600" });
    res.end(req.url === "/.well-known/jwks.json" ? jwks : "{}");
  }).listen(8788, host),
);

const now = Math.floor(Date.now() / 1000);
const bodies = [];
for (let i = 0; i < REQUESTS; i++) {
  const assertion = await new SignJWT({ client_id: "demo-client", resource: "http://localhost:8789/mcp", scope: "notes.read notes.write", groups: ["engineering"], amr: ["pwd", "mfa"], auth_time: now - 60 })
    .setProtectedHeader({ alg: ALG, kid: KID, typ: "oauth-id-jag+jwt" })
    .setIssuer(IDP).setSubject(`user-${i % 50}`).setAudience("http://localhost:8787")
    .setIssuedAt(now).setExpirationTime(now + 300).setJti(crypto.randomUUID())
    .sign(privateKey);
  bodies.push(`grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=${assertion}`);
}
writeFileSync("/tmp/ema-edge-load-bodies.txt", bodies.join("\n") + "\n");
writeFileSync("/tmp/ema-edge-load.lua", `
local bodies, n = {}, 0
for line in io.lines("/tmp/ema-edge-load-bodies.txt") do n = n + 1; bodies[n] = line end
local i, ok, bad = 0, 0, 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ="
request = function()
  i = i + 1
  if i > n then wrk.thread:stop() end
  return wrk.format(nil, "/oauth2/token", nil, bodies[((i - 1) % n) + 1])
end
response = function(status) if status == 200 then ok = ok + 1 else bad = bad + 1 end end
done = function() end
`);

// Warm-up: the first exchange fetches the JWKS and fills the caches.
const warm = await fetch(`${AS}/oauth2/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", authorization: "Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=" }, body: bodies.shift() });
console.log(`warm-up exchange: ${warm.status}`);
writeFileSync("/tmp/ema-edge-load-bodies.txt", bodies.join("\n") + "\n");
const wrk = spawnSync("wrk", ["-t1", `-c${CONNECTIONS}`, `-d${SECONDS}s`, "--latency", "-s", "/tmp/ema-edge-load.lua", AS], { encoding: "utf8" });
console.log(wrk.stdout || wrk.stderr);
for (const s of servers) s.close();
