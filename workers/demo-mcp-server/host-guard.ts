// DNS-rebinding protection for the MCP endpoint, as the SDK asks of a bare fetch mount
// (createMcpHandler: "put Origin/Host validation in front of the handler"): a page on another
// site must not reach this server through a name that resolves to it, nor call it cross-origin.
import { hostHeaderValidationResponse, localhostAllowedHostnames, originValidationResponse } from "@modelcontextprotocol/server";

const LOOPBACK = new Set(localhostAllowedHostnames());

/**
 * The host names allowed in `Host` and `Origin` (ports are not compared): the one RESOURCE names;
 * when that is a loopback name, every loopback spelling, since a local client may say 127.0.0.1
 * for localhost and nothing off this machine can reach a loopback listener.
 */
export function allowedHostnames(resource: URL): string[] {
  const host = resource.hostname;
  return LOOPBACK.has(host) ? [...LOOPBACK] : [host];
}

/** A 403 JSON-RPC error when Host or Origin names a foreign host; undefined when the request may pass. */
export const rejectForeignHost = (request: Request, allowed: string[]): Response | undefined =>
  hostHeaderValidationResponse(request, allowed) ?? originValidationResponse(request, allowed);
