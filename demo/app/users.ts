/** The demo's pretend sign-ins: picking one is "logging in" as that user. */
export const USERS = [
  { id: "user-ada", name: "Ada" },
  { id: "user-grace", name: "Grace" },
  { id: "user-linus", name: "Linus" },
] as const;

/** A conversation id; randomUUID() exists only in secure contexts (not a LAN address over http). */
export function newConversationId(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
