// GraphiQL for /graphql, served from this bundle: no CDN. The endpoint is the
// page's own URL; subscriptions go over graphql-transport-ws on the same path.
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { parse } from "graphql";
import { createRoot } from "react-dom/client";
import "graphiql/style.css";

const url = new URL(window.location.pathname, window.location.href);
const subscriptionUrl = new URL(url);
subscriptionUrl.protocol = url.protocol === "https:" ? "wss:" : "ws:";

const toolkitFetcher = createGraphiQLFetcher({
  url: url.href,
  subscriptionUrl: subscriptionUrl.href,
});

// The toolkit sends a subscription over the websocket when the document GraphiQL
// hands it (`documentAST`) says so, and GraphiQL parses the editor's text a moment
// after each edit: run at once after an edit, a subscription went over HTTP (the
// server refuses it there). The text about to be sent, parsed here, decides instead.
function fetcher(params, options) {
  let documentAST = options?.documentAST;
  try {
    documentAST = parse(params.query);
  } catch {
    // Not GraphQL: the server's answer says what is wrong.
  }
  return toolkitFetcher(params, { ...options, documentAST });
}

createRoot(document.getElementById("graphiql")).render(
  <GraphiQL fetcher={fetcher} defaultEditorToolsVisibility={true} />,
);
