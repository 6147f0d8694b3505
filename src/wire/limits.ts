/** Limits the backend enforces, applied before sending so a payload never earns a 422. */
export const MAX_NAME_LENGTH = 512;
export const MAX_ID_LENGTH = 255;
export const MAX_SPANS_PER_REQUEST = 500;

/** Cuts to `max` UTF-16 units without leaving half of a surrogate pair at the end. */
export const cut = (s: string, max: number): string =>
  s.length > max ? s.slice(0, (s.charCodeAt(max - 1) & 0xfc00) == 0xd800 ? max - 1 : max) : s;

export const clampName = (name: string, fallback: string): string => (name ? cut(name, MAX_NAME_LENGTH) : fallback);

/**
 * Cuts a short field (env, release, model, id) to the backend limit. An empty or absent one
 * (undefined, or null in data built elsewhere) is left out: the wire omits what is unset.
 */
export const clampShort = (value: string | undefined | null): string | undefined =>
  value ? cut(value, MAX_ID_LENGTH) : undefined;
