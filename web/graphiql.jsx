// GraphiQL for /graphql, served from this bundle: no CDN. The endpoint is the
// page's own URL; subscriptions go over graphql-transport-ws on the same path.
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { createRoot } from "react-dom/client";
import "graphiql/style.css";

const url = new URL(window.location.pathname, window.location.href);
const subscriptionUrl = new URL(url);
subscriptionUrl.protocol = url.protocol === "https:" ? "wss:" : "ws:";

const fetcher = createGraphiQLFetcher({
  url: url.href,
  subscriptionUrl: subscriptionUrl.href,
});

createRoot(document.getElementById("graphiql")).render(
  <GraphiQL fetcher={fetcher} defaultEditorToolsVisibility={true} />,
);
