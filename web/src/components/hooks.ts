import { useTranslation } from "react-i18next";
import { useAuth } from "react-oidc-context";
import { useEffect, useMemo, useState } from "react";

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

/** `value` once it has not changed for `milliseconds` (what to search for as the user types). */
export function useDebounced<T>(value: T, milliseconds: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => {
      setSettled(value);
    }, milliseconds);
    return () => {
      clearTimeout(timer);
    };
  }, [value, milliseconds]);
  return settled;
}
