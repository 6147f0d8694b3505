"use client";
/** `pandaprobe/react`: the client provider and hooks (browsers and server-side rendering). */
export { PandaProbeProvider, PandaProbeSession, PandaProbeUser, type PandaProbeProviderProps } from "./provider.js";
export { usePandaProbe, useSession, useTrace, useUser, type BoundTrace } from "./hooks.js";
// Also here: TypeScript resolves one declaration file for both conditions.
export { withPandaProbe } from "./with-ids.js";
