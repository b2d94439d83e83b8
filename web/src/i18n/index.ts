/**
 * Texts live in the message catalogues (fr.json, en.json), never in components. French is the
 * default; the user's choice is kept in local storage and wins over config.json's default.
 */
import i18next from "i18next";
import { initReactI18next } from "react-i18next";

import { LOCALES, type Locale } from "../config";

/** Each catalogue is a chunk of its own: a page downloads only the language it shows. */
const catalogues: Record<Locale, () => Promise<{ default: Record<string, unknown> }>> = {
  fr: () => import("./fr.json"),
  en: () => import("./en.json"),
};

async function load(locale: Locale): Promise<void> {
  if (!i18next.hasResourceBundle(locale, "translation")) {
    i18next.addResourceBundle(locale, "translation", (await catalogues[locale]()).default);
  }
}

const STORAGE_KEY = "patronus.locale";

function isLocale(value: unknown): value is Locale {
  return typeof value === "string" && (LOCALES as readonly string[]).includes(value);
}

export function chosenLocale(fallback: Locale): Locale {
  try {
    const stored = window.localStorage.getItem(STORAGE_KEY);
    return isLocale(stored) ? stored : fallback;
  } catch {
    return fallback; // storage may be refused (privacy settings)
  }
}

function applyToDocument(locale: Locale): void {
  document.documentElement.lang = locale;
}

export async function setupI18n(locale: Locale): Promise<typeof i18next> {
  await i18next.use(initReactI18next).init({
    resources: {},
    partialBundledLanguages: true,
    lng: locale,
    fallbackLng: false,
    interpolation: { escapeValue: false }, // React escapes
    returnNull: false,
  });
  await load(locale);
  await i18next.changeLanguage(locale);
  applyToDocument(locale);
  return i18next;
}

export async function changeLocale(locale: Locale): Promise<void> {
  try {
    window.localStorage.setItem(STORAGE_KEY, locale);
  } catch {
    // the choice then lasts until the page is closed
  }
  await load(locale);
  await i18next.changeLanguage(locale);
  applyToDocument(locale);
}

export function currentLocale(language: string): Locale {
  return isLocale(language) ? language : "fr";
}
