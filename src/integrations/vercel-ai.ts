/**
 * `pandaprobe/integrations/vercel-ai`, the path PandaProbe's Node SDK uses: the same integrations
 * as `pandaprobe/ai` (the AI SDK 7 telemetry integration and the language-model middleware), with
 * the middleware also under that SDK's name for it.
 */
export * from "./ai-sdk.js";
