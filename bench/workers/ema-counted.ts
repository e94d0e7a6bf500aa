// ema-edge behind counting bindings: the production default export and SubjectShard, with the KV
// and Durable Object bindings wrapped (bench/workers/counting.ts). Used only to count operations
// per exchange; throughput is measured on the unmodified `wrangler deploy --dry-run` bundle.
import worker, { SubjectShard as ProductionShard } from "../../workers/authorization-server/index";
import type { Env } from "../../workers/authorization-server/env";
import { countingFetch, countingKv, countingNamespace, takeCounts } from "./counting";

const counted = (env: Env): Env => ({ ...env, CONFIG: countingKv(env.CONFIG), SUBJECT_SHARD: countingNamespace(env.SUBJECT_SHARD) });

globalThis.fetch = countingFetch(globalThis.fetch.bind(globalThis));

/** The Durable Object with its own KV writes (the email index) counted too. */
export class SubjectShard extends ProductionShard {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, counted(env));
  }
}

export default {
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/__bench/counts") return Response.json(takeCounts());
    return worker.fetch(request, counted(env), ctx);
  },
} satisfies ExportedHandler<Env>;
