/** The local collector's viewer: sessions and users, the traces of the selection, one trace's span tree. */
import { useLiveVersion } from "./api.js";
import { Sidebar, TraceList } from "./Lists.js";
import { useSelection } from "./selection.js";
import { TraceView } from "./TraceView.js";

export function App() {
  const [selection, select] = useSelection();
  const { version, connected } = useLiveVersion();
  return (
    <div className="app">
      <header>
        <h1>
          PandaProbe <span>local collector</span>
        </h1>
        <span className={`live ${connected ? "on" : ""}`} data-testid="live" title={connected ? "Receiving traces as they arrive" : "Not connected"}>
          {connected ? "live" : "offline"}
        </span>
        {selection.user ? (
          <button className="chip" onClick={() => select({ session: selection.session })}>
            user: {selection.user} ✕
          </button>
        ) : null}
      </header>
      <main>
        <Sidebar selection={selection} select={select} version={version} />
        <TraceList selection={selection} select={select} version={version} />
        <TraceView selection={selection} select={select} version={version} />
      </main>
    </div>
  );
}
