/**
 * What integrations build on beyond the public API: the developer-build switch, the checks of their
 * options, the reduction of arguments and results to the last user and assistant messages, and a
 * way to make a span current while a framework runs a step whose end it reports later, so every
 * integration checks and records as the core does. Integrations import the core only through
 * `pandaprobe` and this entry.
 */
export { DEV } from "./base/dev.js";
export { assertIds, assertKnownKeys, assertOptionalString, assertPlainObject, assertTags } from "./base/guards.js";
export { traceInputFromArgs, traceOutputFromResult } from "./wire/messages.js";
export { withCurrentSpan } from "./trace/run-in.js";
export { withhold, type RecordSwitches } from "./trace/withhold.js";
