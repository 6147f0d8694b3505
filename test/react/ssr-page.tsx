import type { PandaProbeOptions } from "pandaprobe";
import { PandaProbeProvider, PandaProbeSession, usePandaProbe, useSession, useTrace, useUser } from "../../react/index.js";

function Ids({ label }: { label: string }) {
  const client = usePandaProbe();
  return (
    <p data-testid={label}>
      {useSession()} {useUser()} {client ? "client" : "no client"}
    </p>
  );
}

function Send() {
  const { startTrace } = useTrace();
  return <button onClick={() => startTrace("send").end()}>send</button>;
}

/** A page as an app renders it on the server and hydrates it in the browser. */
export function Page({ options }: { options: PandaProbeOptions }) {
  return (
    <PandaProbeProvider options={options} session="conv-1" user="alice">
      <Ids label="outer" />
      <PandaProbeSession id="conv-2">
        <Ids label="inner" />
        <Send />
      </PandaProbeSession>
    </PandaProbeProvider>
  );
}
