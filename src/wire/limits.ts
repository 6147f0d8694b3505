/** Limits the backend enforces, applied before sending so a payload never earns a 422. */
export const MAX_NAME_LENGTH = 512;
export const MAX_ID_LENGTH = 255;
export const MAX_SPANS_PER_REQUEST = 500;

/**
 * `X-Project-Name` as the backend accepts it (else 422 on every request): 1-255 characters,
 * letters, digits, space, `-`, `_`, `.`, `'`, first and last a letter or digit.
 */
export const PROJECT_NAME_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9 _.'-]{0,253}[A-Za-z0-9])?$/;
const PROJECT_NAME_RULE =
  "1-255 characters: letters, digits, spaces, hyphens, underscores, dots or apostrophes, starting and ending with a letter or digit";

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

/** Why the backend would refuse this project name (the end of a sentence naming it), or undefined. */
export function projectNameProblem(name: string): string | undefined {
  if (PROJECT_NAME_PATTERN.test(name)) return undefined;
  const shown = name.length > 60 ? `${cut(name, 60)}…` : name;
  return `must be ${PROJECT_NAME_RULE}; got ${JSON.stringify(shown)} (${name.length} characters)`;
}
