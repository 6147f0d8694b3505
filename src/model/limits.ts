/** Limits the backend enforces, applied before sending so a payload never earns a 422. */
export const MAX_NAME_LENGTH = 512;
export const MAX_ID_LENGTH = 255;
export const MAX_SPANS_PER_REQUEST = 500;

/** Cuts to max UTF-16 units without leaving half of a surrogate pair at the end. */
function cut(value: string, max: number): string {
  if (value.length <= max) return value;
  const end = (value.charCodeAt(max - 1) & 0xfc00) === 0xd800 ? max - 1 : max;
  return value.slice(0, end);
}

export function clampName(name: string, fallback: string): string {
  return name.length === 0 ? fallback : cut(name, MAX_NAME_LENGTH);
}

/** Cuts a short field (env, release, model, id) to the backend limit; returns undefined for undefined. */
export function clampShort(value: string | undefined): string | undefined {
  return value === undefined ? value : cut(value, MAX_ID_LENGTH);
}
