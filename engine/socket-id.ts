/**
 * Socket ids are ComfyUI-style upper-case names (MODEL, LATENT, UPSCALE_MODEL, ...) or the wildcard
 * '*'. The set is open: a node family names the sockets it introduces where it defines them, so adding a
 * family never edits a list below it. What a registry knows is the ids its nodes use.
 */
export type SocketId = string;

const SOCKET_ID = /^(?:\*|[A-Z][A-Z0-9_]*)$/;

export function isSocketId(s: string): s is SocketId {
  return SOCKET_ID.test(s);
}
