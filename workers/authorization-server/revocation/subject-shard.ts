import { DurableObject } from "cloudflare:workers";
export class SubjectShard extends DurableObject {}
