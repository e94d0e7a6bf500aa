// One structured audit line per token-endpoint decision (a JSON log line, picked up by Workers
// Logs / Logpush). It carries who, what and why, and never a token, assertion or secret: the jti
// is hashed, claims appear only once the signature has verified them.

export interface AuditEvent {
  type: "ema.token";
  request_id: string;
  time: number;
  decision: "granted" | "refused";
  /** The precise refusal reason (oauth/refusal.ts), or absent when granted. */
  reason?: string;
  /** Extra detail of the refusal (never token material). */
  detail?: Record<string, unknown>;
  client_id?: string;
  client_auth_method?: string;
  iss?: string;
  sub?: string;
  tenant?: string;
  act?: Record<string, unknown>;
  jti_sha256?: string;
  resource?: string;
  scopes?: string[];
  policy_version?: number;
  /** SHA-256 of the policy document as stored, so an auditor can match it to a file in git. */
  policy_sha256?: string;
  /** Sensitive scopes left out because a step-up condition failed. */
  dropped_scopes?: { scope: string; condition: string }[];
  rules?: string[];
  access_token_jti?: string;
  access_token_exp?: number;
}

export function emitAudit(event: AuditEvent): void {
  console.log(JSON.stringify(event));
}
