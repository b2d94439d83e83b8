import { useTranslation } from "react-i18next";
import { useAuth } from "react-oidc-context";
import { useMemo } from "react";

import { currentLocale } from "../i18n";
import { principalOf, type Principal } from "../auth/principal";
import type { Locale } from "../config";

export function useLocale(): Locale {
  const { i18n } = useTranslation();
  return currentLocale(i18n.language);
}

export function usePrincipal(): Principal | null {
  const { user } = useAuth();
  const profile = user?.profile;
  return useMemo(() => (profile ? principalOf(profile) : null), [profile]);
}
