// Forces a full V8 garbage collection of one workerd isolate through its DevTools inspector (the
// stack must be started with `inspectorPort`). workerd frees per-request native objects only when
// their JS wrappers are collected, and V8 rarely runs a full GC on a small heap, so raw RSS climbs a
// few KB per request even for a hello-world Worker. Measuring after a forced GC shows what is
// retained, not garbage that has not been collected yet. Used by the soak and the memory probe.
import { createRequire } from "node:module";

export interface IsolateGc {
  /** Runs HeapProfiler.collectGarbage (a full, synchronous GC) and resolves when it has finished. */
  collect(timeoutMs?: number): Promise<void>;
  close(): void;
}

interface Socket {
  once(event: string, listener: (...args: unknown[]) => void): void;
  on(event: string, listener: (data: unknown) => void): void;
  off(event: string, listener: (data: unknown) => void): void;
  send(data: string): void;
  close(): void;
}

/** How long to wait for an answer before waking the isolate with `wake`, and then between wakes. */
const WAKE_AFTER_MS = 250;

/**
 * Connects to the isolate whose inspector target ends in `core:user:<worker>` (default ema-edge).
 * workerd handles inspector messages only while the isolate runs something: an idle isolate does not
 * answer until its next request. `wake` (a cheap request to the Worker) is sent when no answer came
 * within 250 ms, and again every 250 ms until one does.
 */
export async function connectIsolateGc(inspectorPort: number, options: { worker?: string; wake?: () => Promise<unknown> } = {}): Promise<IsolateGc> {
  const worker = options.worker ?? "ema-edge";
  const WebSocket = createRequire(import.meta.url)("ws") as new (url: string) => Socket;
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as { webSocketDebuggerUrl: string }[];
  const url = targets.find((t) => t.webSocketDebuggerUrl.endsWith(`core:user:${worker}`))?.webSocketDebuggerUrl;
  if (url === undefined) throw new Error(`no inspector target core:user:${worker} on port ${inspectorPort}`);
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", (e) => reject(e instanceof Error ? e : new Error(String(e))));
  });
  let id = 0;
  return {
    collect: (timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const mine = ++id;
        const done = (error?: Error) => {
          clearTimeout(timer);
          clearInterval(waker);
          ws.off("message", onMessage);
          if (error) reject(error);
          else resolve();
        };
        const onMessage = (data: unknown) => {
          const message = JSON.parse(String(data)) as { id?: number; error?: { message: string } };
          if (message.id === mine) done(message.error ? new Error(`HeapProfiler.collectGarbage: ${message.error.message}`) : undefined);
        };
        const wake = options.wake;
        const waker = setInterval(() => void wake?.().catch(() => {}), WAKE_AFTER_MS);
        if (!wake) clearInterval(waker);
        const timer = setTimeout(() => done(new Error(`HeapProfiler.collectGarbage got no answer in ${timeoutMs} ms`)), timeoutMs);
        ws.on("message", onMessage);
        ws.send(JSON.stringify({ id: mine, method: "HeapProfiler.collectGarbage" }));
      }),
    close: () => ws.close(),
  };
}
