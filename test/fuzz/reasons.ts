// Every refusal reason a fuzzed parser may answer with, as runtime sets. Each is written as a
// Record over the reason union, so the compiler fails here when a reason is added or renamed.
import type { AssertionDefect } from "../../workers/authorization-server/client/assertion";
import type { ClaimRefusal, ClientRefusal, StructureRefusal } from "../../workers/authorization-server/oauth/refusal";
import type { SetReason } from "../../workers/authorization-server/webhooks/set-errors";
import { reasonSet } from "./support";

export const STRUCTURE_REASONS = reasonSet<StructureRefusal["reason"]>({
  jws_malformed: true, jwe_unsupported: true, duplicate_json_member: true, typ_invalid: true, alg_not_allowed: true, crit_unsupported: true,
});

export const CLAIM_REASONS = reasonSet<ClaimRefusal["reason"]>({
  claim_missing: true, claim_type_invalid: true, aud_mismatch: true, aud_multiple: true, client_id_mismatch: true, expired: true,
  not_yet_valid: true, issued_in_future: true, lifetime_too_long: true, jti_invalid: true, cnf_unsupported: true,
  authorization_details_unsupported: true,
});

export const CLIENT_REASONS = reasonSet<ClientRefusal["reason"]>({
  client_auth_missing: true, client_auth_multiple_methods: true, client_auth_malformed: true, client_unknown: true,
  client_disabled: true, client_secret_mismatch: true, client_auth_method_not_allowed: true, client_assertion_invalid: true,
  client_assertion_replayed: true, client_not_authorized_for_grant: true, client_resource_not_allowed: true,
});

/** The `detail` of client_assertion_invalid: a fixed vocabulary, so nothing of the token reaches a log. */
export const ASSERTION_DEFECTS = reasonSet<AssertionDefect>({
  client_assertion_type: true, too_large: true, malformed: true, jwe: true, duplicate_member: true, alg: true, typ: true, crit: true,
  kid: true, iss_sub: true, client_id: true, key_unknown: true, key_ambiguous: true, key_unusable: true, signature: true, aud: true,
  exp: true, expired: true, nbf: true, not_yet_valid: true, iat: true, iat_future: true, lifetime: true, jti: true,
});

export const SET_REASONS = reasonSet<SetReason>({
  method_not_allowed: true, stream_unknown: true, body_too_large: true, config_unavailable: true, jwks_unavailable: true,
  store_unavailable: true, content_type_invalid: true, authorization_invalid: true, jws_malformed: true, jwe_unsupported: true,
  duplicate_json_member: true, typ_invalid: true, crit_unsupported: true, alg_not_allowed: true, kid_missing: true, kid_unknown: true,
  key_ambiguous: true, signature_invalid: true, iss_mismatch: true, aud_mismatch: true, claim_missing: true, claim_invalid: true,
  claim_forbidden: true, events_invalid: true, events_multiple: true, subject_missing: true, subject_invalid: true,
  event_time_invalid: true, event_invalid: true, stream_subject_mismatch: true, subject_foreign: true,
});
