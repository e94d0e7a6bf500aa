// Which SubjectShard holds a subject, and the hashed keys used inside it. Sharding by
// (iss, hash(sub) mod N) keeps a subject's replay set and revocation record together while no
// single object carries every exchange (design.md).
import { sha256Base64Url } from "../../lib/digest";
import { subjectString, type SubjectRef } from "../../lib/revocation-mirror";

/** Enough objects that one busy IdP spreads over many; few enough that a fleet-wide sweep is cheap. */
export const SUBJECT_SHARD_COUNT = 64;

/** The subject's identity: (iss, sub), or (iss, tenant, sub) for a multi-tenant issuer (ID-JAG §6). */
export type SubjectId = SubjectRef;
export { subjectString };

export interface SubjectAddress {
  /** Durable Object name. */
  shardName: string;
  /** sha256 of the subject string, the subject's key inside the shard. */
  subjectKey: string;
}

export async function addressSubject(subject: SubjectId): Promise<SubjectAddress> {
  const [issuerHash, subjectKey] = await Promise.all([sha256Base64Url(subject.iss), sha256Base64Url(subjectString(subject))]);
  return { shardName: `subject:${issuerHash}:${shardIndex(subjectKey)}`, subjectKey };
}

/** A stable index in [0, SUBJECT_SHARD_COUNT) from a base64url digest. */
function shardIndex(digest: string): number {
  const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  return (ALPHABET.indexOf(digest[0]!) * 64 + ALPHABET.indexOf(digest[1]!)) % SUBJECT_SHARD_COUNT;
}
