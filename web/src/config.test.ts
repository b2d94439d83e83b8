import { describe, expect, it } from "vitest";

import { apiBaseUrl, ConfigError, loadConfig, parseConfig } from "./config";

const cognito = {
  authority: "https://cognito-idp.eu-west-3.amazonaws.com/eu-west-3_AbCdEf123",
  client_id: "4abcdefghij",
  api_base: "/",
  redirect_path: "/auth/callback",
  logout_path: "/signed-out",
  default_locale: "fr",
  unit_prefix: "team_",
};

describe("the runtime configuration", () => {
  it("reads the documented keys", () => {
    expect(parseConfig(cognito)).toEqual({
      authority: cognito.authority,
      clientId: "4abcdefghij",
      apiBase: "/",
      redirectPath: "/auth/callback",
      logoutPath: "/signed-out",
      defaultLocale: "fr",
      unitPrefix: "team_",
      scope: "openid email profile",
    });
  });

  it("defaults the paths, the API base and the language, and accepts a local http issuer", () => {
    const config = parseConfig({ authority: "http://127.0.0.1:8080/oidc/", client_id: "local" });
    expect(config).toMatchObject({
      authority: "http://127.0.0.1:8080/oidc",
      apiBase: "/",
      redirectPath: "/auth/callback",
      logoutPath: "/signed-out",
      defaultLocale: "fr",
      unitPrefix: "unit-",
    });
  });

  it.each([
    [{ ...cognito, authority: "http://cognito.example.com" }, '"authority" must use https'],
    [{ ...cognito, authority: "not a url" }, '"authority" must be an absolute URL'],
    [{ ...cognito, client_id: "" }, '"client_id" must be a non-empty string'],
    [{ ...cognito, client_id: 7 }, '"client_id" must be a non-empty string'],
    [{ ...cognito, redirect_path: "https://evil.example/cb" }, '"redirect_path" must be a path'],
    [{ ...cognito, logout_path: "//evil.example" }, '"logout_path" must be a path'],
    [{ ...cognito, default_locale: "de" }, '"default_locale" must be one of fr, en'],
    [{ ...cognito, api_base: "http://api.example.com" }, '"api_base" must be a path'],
    [{ ...cognito, unit_prefix: "Unit-" }, '"unit_prefix" must be 1 to 16 lowercase letters'],
    [{ ...cognito, unit_prefix: "unit" }, '"unit_prefix" must be 1 to 16 lowercase letters'],
    [{ ...cognito, unit_prefix: "" }, '"unit_prefix" must be a non-empty string'],
    [[], "must hold a JSON object"],
  ])("refuses %j", (raw, message) => {
    expect(() => parseConfig(raw)).toThrow(ConfigError);
    expect(() => parseConfig(raw)).toThrow(message);
  });

  it("is fetched from /config.json, never from a cache", async () => {
    const seen: [string, RequestInit | undefined][] = [];
    const fetcher = (url: string | URL | Request, init?: RequestInit) => {
      seen.push([url instanceof Request ? url.url : url.toString(), init]);
      return Promise.resolve(new Response(JSON.stringify(cognito)));
    };
    await expect(loadConfig(fetcher)).resolves.toMatchObject({ clientId: "4abcdefghij" });
    expect(seen).toEqual([["/config.json", { cache: "no-store" }]]);
    const missing = () => Promise.resolve(new Response("", { status: 404 }));
    await expect(loadConfig(missing)).rejects.toThrow("HTTP 404");
  });

  it("resolves the API base against the page's origin", () => {
    const config = parseConfig(cognito);
    expect(apiBaseUrl(config, "https://patronus.example.com")).toBe("https://patronus.example.com");
    expect(apiBaseUrl({ ...config, apiBase: "/api/" }, "https://patronus.example.com")).toBe(
      "https://patronus.example.com/api",
    );
  });
});
