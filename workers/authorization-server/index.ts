import type { Env } from "./env";
export { SubjectShard } from "./revocation/subject-shard";
export default { fetch: async () => new Response("ok") } satisfies ExportedHandler<Env>;
