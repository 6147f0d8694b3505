import { useState } from "react";
import { PandaProbeProvider } from "pandaprobe/react";
import { RELAY_ROUTE } from "../protocol.js";
import { Chat } from "./Chat.js";
import { useOnline } from "./use-online.js";
import { newConversationId, USERS } from "./users.js";

/** The page's client sends to the demo server's relay: no API key in the browser. */
const PANDAPROBE = { endpoint: RELAY_ROUTE };

export function App() {
  const [userId, setUserId] = useState<string>(USERS[0].id);
  const [conversationId, setConversationId] = useState(newConversationId);
  const online = useOnline();

  // A session belongs to one user: signing in as someone else starts a new conversation.
  const switchUser = (id: string) => {
    setUserId(id);
    setConversationId(newConversationId());
  };

  return (
    <PandaProbeProvider options={PANDAPROBE} session={conversationId} user={userId}>
      <header className="bar">
        <h1>PandaProbe demo chat</h1>
        <label>
          signed in as{" "}
          <select aria-label="user" value={userId} onChange={(e) => switchUser(e.target.value)}>
            {USERS.map((u) => (
              <option key={u.id} value={u.id}>
                {u.name}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => setConversationId(newConversationId())}>
          New conversation
        </button>
      </header>
      <p className="meta">
        session <code data-testid="session-id">{conversationId}</code> · user <code data-testid="user-id">{userId}</code>
        {online ? null : <span className="offline-badge">offline: traces wait in IndexedDB</span>}
      </p>
      <Chat key={conversationId} conversationId={conversationId} userId={userId} />
    </PandaProbeProvider>
  );
}
