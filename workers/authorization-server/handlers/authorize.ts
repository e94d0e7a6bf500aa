// The authorization endpoint we publish but do not run: ema-edge issues tokens only for ID-JAGs,
// never through a browser redirect. Every request gets the RFC 6749 §4.1.2.1 error as JSON, never
// a redirect: redirecting to a `redirect_uri` no client registered would make this an open redirector.
import { jsonNoStore } from "../oauth/errors";

export function refuseAuthorization(): Response {
  return jsonNoStore(
    { error: "unsupported_response_type", error_description: "This server issues tokens only for ID-JAGs at its token endpoint (jwt-bearer grant); it has no interactive authorization." },
    400,
  );
}
