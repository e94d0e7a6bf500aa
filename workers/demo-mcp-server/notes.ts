// The notes the demo tools read and write. Deliberately in memory, per isolate: the point of this
// server is authorization, not storage. Each Workers isolate starts from the same two seeded notes
// and loses what was written when it is evicted, and two isolates do not see each other's writes.

export interface Author {
  /** The IdP that vouched for the user (`idp` claim); users are keyed by (idp, sub). */
  idp: string;
  sub: string;
  /** The MCP client that called on the user's behalf (`client_id` claim). */
  clientId: string;
  email?: string;
}

export interface Note {
  id: string;
  title: string;
  body: string;
  author: Author | null;
  updatedAt: string;
}

/** An isolate's memory is shared by every caller: a cap keeps writers from filling it. */
export const MAX_NOTES = 100;

const SEED: Note[] = [
  { id: "welcome", title: "Welcome", body: "This MCP server trusts access tokens from ema-edge only.", author: null, updatedAt: "2026-01-01T00:00:00.000Z" },
  { id: "scopes", title: "Scopes", body: "notes.read lists and reads notes; notes.write writes them.", author: null, updatedAt: "2026-01-01T00:00:00.000Z" },
];

const notes = new Map<string, Note>(SEED.map((n) => [n.id, n]));

export const listNotes = (): Note[] => [...notes.values()];

export const readNote = (id: string): Note | undefined => notes.get(id);

/** Creates a note, or replaces the one with `id`; the oldest note goes when the store is full. */
export function writeNote(input: { id?: string; title: string; body: string }, author: Author, now: Date): Note {
  const note: Note = { id: input.id ?? crypto.randomUUID(), title: input.title, body: input.body, author, updatedAt: now.toISOString() };
  notes.delete(note.id); // re-insert, so Map order stays oldest-written first
  notes.set(note.id, note);
  while (notes.size > MAX_NOTES) notes.delete(notes.keys().next().value!);
  return note;
}
