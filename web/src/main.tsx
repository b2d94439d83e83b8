/**
 * Start: runtime configuration, language, sign-in, API client, upload manager, then the screens.
 */
import { createRoot } from "react-dom/client";

import { App, createQueryClient } from "./App";
import { createApi } from "./api/client";
import { keys } from "./api/queries";
import { createUserManager } from "./auth/oidc";
import { setUnitPrefix } from "./auth/principal";
import { SessionState } from "./auth/session";
import { apiBaseUrl, loadConfig, type AppConfig } from "./config";
import { chosenLocale, setupI18n } from "./i18n";
import { apiUploadBackend } from "./upload/backend";
import { UploadManager } from "./upload/manager";
import { xhrTransport } from "./upload/transport";
import "./styles.css";

function startApp(root: HTMLElement, config: AppConfig): void {
  setUnitPrefix(config.unitPrefix);
  const origin = window.location.origin;
  const userManager = createUserManager(config, origin);
  const session = new SessionState();
  userManager.events.addUserLoaded(() => {
    session.markRenewed();
  });
  userManager.events.addSilentRenewError(() => {
    session.markExpired();
  });
  userManager.events.addAccessTokenExpired(() => {
    session.markExpired();
  });
  const api = createApi({
    baseUrl: apiBaseUrl(config, origin),
    token: async () => (await userManager.getUser())?.id_token ?? null,
    onUnauthenticated: () => {
      session.markExpired();
    },
  });
  const queryClient = createQueryClient();
  const uploads = new UploadManager({
    backend: apiUploadBackend(api),
    transport: xhrTransport,
    onRegistered: (item) => {
      void queryClient.invalidateQueries({ queryKey: keys.documents(item.dossierId) });
    },
    onUploaded: (item) => {
      void queryClient.invalidateQueries({ queryKey: keys.documents(item.dossierId) });
      void queryClient.invalidateQueries({ queryKey: keys.history(item.dossierId) });
    },
  });
  // Leaving the page would stop the uploads on their way: the browser asks first.
  window.addEventListener("beforeunload", (event) => {
    if (uploads.getSnapshot().active) {
      event.preventDefault();
    }
  });
  const services = { config, api, userManager, uploads, session };
  createRoot(root).render(<App services={services} queryClient={queryClient} />);
}

async function start(root: HTMLElement): Promise<void> {
  let config: AppConfig;
  try {
    config = await loadConfig();
  } catch (error) {
    const i18n = await setupI18n(chosenLocale("fr"));
    const message = document.createElement("p");
    message.setAttribute("role", "alert");
    message.textContent = `${i18n.t("startup.failed")} (${error instanceof Error ? error.message : String(error)})`;
    root.replaceChildren(message);
    return;
  }
  await setupI18n(chosenLocale(config.defaultLocale));
  startApp(root, config);
}

const root = document.getElementById("root");
if (root) {
  void start(root);
}
