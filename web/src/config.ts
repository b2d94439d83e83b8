/**
 * The runtime configuration: `/config.json`, read once at start, so that one build serves every
 * environment. The local stack writes it for its own OIDC provider; the deployment writes it for
 * Cognito. The contract (all strings):
 *
 *   authority       OIDC issuer whose /.well-known/openid-configuration the sign-in reads
 *   client_id       the application's OIDC client id (a public client: code flow with PKCE)
 *   api_base        where the API is; "/" (the default) is the application's own origin
 *   redirect_path   path of the sign-in callback on the application's origin (/auth/callback)
 *   logout_path     path the sign-out comes back to (/signed-out)
 *   default_locale  "fr" or "en", until the user chooses
 *   unit_prefix     optional, default "unit-": the prefix of the Cognito groups that are units
 *                   (the API's api.unit_prefix), e.g. "unit-" for unit-litigation
 *   scope           optional, default "openid email profile"
 */

export const LOCALES = ["fr", "en"] as const;
export const DEFAULT_UNIT_PREFIX = "unit-";
export type Locale = (typeof LOCALES)[number];

export interface AppConfig {
  authority: string;
  clientId: string;
  apiBase: string;
  redirectPath: string;
  logoutPath: string;
  defaultLocale: Locale;
  unitPrefix: string;
  scope: string;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

function text(raw: Record<string, unknown>, key: string, fallback?: string): string {
  const value = raw[key] ?? fallback;
  if (typeof value !== "string" || value.trim() === "") {
    throw new ConfigError(`config.json: "${key}" must be a non-empty string`);
  }
  return value.trim();
}

function path(raw: Record<string, unknown>, key: string, fallback: string): string {
  const value = text(raw, key, fallback);
  if (!value.startsWith("/") || value.startsWith("//")) {
    throw new ConfigError(`config.json: "${key}" must be a path on this origin, such as ${fallback}`);
  }
  return value;
}

function absoluteUrl(raw: Record<string, unknown>, key: string): string {
  const value = text(raw, key);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`config.json: "${key}" must be an absolute URL`);
  }
  const local = url.hostname === "127.0.0.1" || url.hostname === "localhost";
  if (url.protocol !== "https:" && !(local && url.protocol === "http:")) {
    throw new ConfigError(`config.json: "${key}" must use https`);
  }
  return value.replace(/\/+$/, "");
}

/** The API's rule for the prefix (patronus.units): a letter, up to 15 letters or digits, then - or _. */
function unitPrefix(raw: Record<string, unknown>): string {
  const value = text(raw, "unit_prefix", DEFAULT_UNIT_PREFIX);
  if (!/^[a-z][a-z0-9]{0,15}[-_]$/.test(value)) {
    throw new ConfigError(
      'config.json: "unit_prefix" must be 1 to 16 lowercase letters or digits, starting with a letter and ending with "-" or "_"',
    );
  }
  return value;
}

export function parseConfig(raw: unknown): AppConfig {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError("config.json must hold a JSON object");
  }
  const values = raw as Record<string, unknown>;
  const locale = text(values, "default_locale", "fr");
  if (!(LOCALES as readonly string[]).includes(locale)) {
    throw new ConfigError(`config.json: "default_locale" must be one of ${LOCALES.join(", ")}`);
  }
  const apiBase = text(values, "api_base", "/");
  if (!apiBase.startsWith("/") && !apiBase.startsWith("https://")) {
    throw new ConfigError('config.json: "api_base" must be a path such as "/" or an https URL');
  }
  return {
    authority: absoluteUrl(values, "authority"),
    clientId: text(values, "client_id"),
    apiBase,
    redirectPath: path(values, "redirect_path", "/auth/callback"),
    logoutPath: path(values, "logout_path", "/signed-out"),
    defaultLocale: locale as Locale,
    unitPrefix: unitPrefix(values),
    scope: text(values, "scope", "openid email profile"),
  };
}

export async function loadConfig(fetcher: typeof fetch = fetch): Promise<AppConfig> {
  const response = await fetcher("/config.json", { cache: "no-store" });
  if (!response.ok) {
    throw new ConfigError(`config.json could not be read (HTTP ${response.status})`);
  }
  return parseConfig(await response.json());
}

/** The API's absolute base URL (openapi-fetch builds requests from it). */
export function apiBaseUrl(config: AppConfig, origin: string): string {
  return new URL(config.apiBase, origin).toString().replace(/\/+$/, "");
}
