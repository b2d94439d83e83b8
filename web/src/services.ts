/** What the screens reach through React context: created once in main.tsx. */
import { createContext, useContext } from "react";
import type { UserManager } from "oidc-client-ts";

import type { Api } from "./api/client";
import type { AppConfig } from "./config";
import type { SessionState } from "./auth/session";
import type { UploadManager } from "./upload/manager";

export interface Services {
  config: AppConfig;
  api: Api;
  userManager: UserManager;
  uploads: UploadManager;
  session: SessionState;
}

export const ServicesContext = createContext<Services | null>(null);

export function useServices(): Services {
  const services = useContext(ServicesContext);
  if (services === null) {
    throw new Error("useServices outside ServicesContext");
  }
  return services;
}
