import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { lazy, StrictMode, Suspense, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { AuthProvider } from "react-oidc-context";
import { BrowserRouter, Navigate, Route, Routes } from "react-router";

import { isApiError } from "./api/errors";
import { RequireAuth } from "./auth/RequireAuth";
import { ErrorBoundary } from "./components/ErrorBoundary";
import { Layout } from "./components/Layout";
import { CallbackScreen } from "./screens/CallbackScreen";
import { NotFoundScreen } from "./screens/NotFoundScreen";
import { SignedOutScreen } from "./screens/SignedOutScreen";
import { ServicesContext, type Services } from "./services";

// Screens load on first use: the first page downloads only what it shows.
const DossierListScreen = lazy(async () => ({
  default: (await import("./screens/DossierListScreen")).DossierListScreen,
}));
const DossierCreateScreen = lazy(async () => ({
  default: (await import("./screens/DossierCreateScreen")).DossierCreateScreen,
}));
const DossierScreen = lazy(async () => ({ default: (await import("./screens/DossierScreen")).DossierScreen }));
const DossierOverview = lazy(async () => ({ default: (await import("./screens/DossierOverview")).DossierOverview }));
const DossierEditScreen = lazy(async () => ({
  default: (await import("./screens/DossierEditScreen")).DossierEditScreen,
}));
const DossierHistoryScreen = lazy(async () => ({
  default: (await import("./screens/DossierHistoryScreen")).DossierHistoryScreen,
}));
const DossierSharingScreen = lazy(async () => ({
  default: (await import("./screens/DossierSharingScreen")).DossierSharingScreen,
}));
const MeScreen = lazy(async () => ({ default: (await import("./screens/MeScreen")).MeScreen }));

function Loading({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  return <Suspense fallback={<p role="status">{t("common.loading")}</p>}>{children}</Suspense>;
}

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // The API client already retries 503 and 429 as the API says; retry a lost connection
        // once more here, and nothing else (a 404 stays a 404).
        retry: (failures, error) => isApiError(error) && error.kind === "network" && failures < 2,
        staleTime: 10_000,
      },
      mutations: { retry: false },
    },
  });
}

export function AppRoutes({ services }: { services: Services }) {
  const { redirectPath, logoutPath } = services.config;
  return (
    <Routes>
      <Route path={redirectPath} element={<CallbackScreen />} />
      <Route path={logoutPath} element={<SignedOutScreen />} />
      <Route
        element={
          <RequireAuth>
            <Layout />
          </RequireAuth>
        }
      >
        <Route index element={<Navigate to="/dossiers" replace />} />
        <Route path="dossiers" element={<Loading><DossierListScreen /></Loading>} />
        <Route path="dossiers/new" element={<Loading><DossierCreateScreen /></Loading>} />
        <Route path="dossiers/:dossierId" element={<Loading><DossierScreen /></Loading>}>
          <Route index element={<Loading><DossierOverview /></Loading>} />
          <Route path="edit" element={<Loading><DossierEditScreen /></Loading>} />
          <Route path="sharing" element={<Loading><DossierSharingScreen /></Loading>} />
          <Route path="history" element={<Loading><DossierHistoryScreen /></Loading>} />
        </Route>
        <Route path="me" element={<Loading><MeScreen /></Loading>} />
        <Route path="*" element={<NotFoundScreen />} />
      </Route>
    </Routes>
  );
}

export function App({ services, queryClient }: { services: Services; queryClient: QueryClient }) {
  return (
    <StrictMode>
      <ServicesContext.Provider value={services}>
        {/* The callback screen moves on to where the sign-in started. */}
        <AuthProvider userManager={services.userManager} onSigninCallback={() => undefined}>
          <QueryClientProvider client={queryClient}>
            <BrowserRouter>
              <ErrorBoundary>
                <AppRoutes services={services} />
              </ErrorBoundary>
            </BrowserRouter>
          </QueryClientProvider>
        </AuthProvider>
      </ServicesContext.Provider>
    </StrictMode>
  );
}
