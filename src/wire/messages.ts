/**
 * The messages convention: a trace's input holds only the turn's last user message and its output
 * only the last assistant message, as `{ messages: [message] }`. Anything else is kept as is.
 */
type Message = { role: string; content?: unknown };

const USER_ROLES = ["user", "human"];
const ASSISTANT_ROLES = ["assistant", "ai"];

function isMessage(value: unknown): value is Message {
  return typeof value === "object" && value !== null && typeof (value as Message).role === "string";
}

function messageList(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (typeof value === "object" && value !== null) {
    const { messages, choices } = value as { messages?: unknown; choices?: { message?: unknown }[] };
    if (Array.isArray(messages)) return messages;
    // An OpenAI-style completion returned as is.
    if (Array.isArray(choices)) return [choices[0]?.message];
  }
  return undefined;
}

function lastWithRole(value: unknown, roles: string[]): Message | undefined {
  try {
    if (isMessage(value)) return roles.includes(value.role) ? value : undefined;
    const list = messageList(value) ?? [];
    for (let i = list.length - 1; i >= 0; i--) {
      const item = list[i];
      if (isMessage(item) && roles.includes(item.role)) return item;
    }
  } catch {
    // A value that throws when read (a strict Proxy, as envalid's validated env) holds no message;
    // the host's call must not fail for it.
  }
  return undefined;
}

/** A traced function's arguments as the trace input. */
export function traceInputFromArgs(args: readonly unknown[]): unknown {
  for (let i = args.length - 1; i >= 0; i--) {
    const found = lastWithRole(args[i], USER_ROLES);
    if (found) return { messages: [found] };
  }
  if (args.length === 1 && typeof args[0] === "string") {
    return { messages: [{ role: "user", content: args[0] }] };
  }
  return spanInputFromArgs(args);
}

/** A traced function's return value as the trace output. */
export function traceOutputFromResult(result: unknown): unknown {
  if (typeof result === "string") return { messages: [{ role: "assistant", content: result }] };
  const found = lastWithRole(result, ASSISTANT_ROLES);
  return found ? { messages: [found] } : result;
}

/** A span keeps its arguments whole: one argument as itself, several as an array. */
export function spanInputFromArgs(args: readonly unknown[]): unknown {
  if (args.length === 0) return undefined;
  return args.length === 1 ? args[0] : args;
}
