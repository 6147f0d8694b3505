/** Limits the backend enforces, applied before sending so a payload never earns a 422. */
export const MAX_NAME_LENGTH = 512;
export const MAX_ID_LENGTH = 255;
export const MAX_SPANS_PER_REQUEST = 500;

export function clampName(name: string, fallback: string): string {
  if (name.length === 0) return fallback;
  return name.length > MAX_NAME_LENGTH ? name.slice(0, MAX_NAME_LENGTH) : name;
}

/** Cuts a short field (env, release, model, id) to the backend limit; returns undefined for undefined. */
export function clampShort(value: string | undefined): string | undefined {
  return value !== undefined && value.length > MAX_ID_LENGTH ? value.slice(0, MAX_ID_LENGTH) : value;
}
