/**
 * The one sign-in path, locally and in AWS: OpenID Connect authorization code flow with PKCE
 * (oidc-client-ts), against whatever issuer config.json names (the local stack's provider, or
 * Cognito's user pool). The API is called with the ID token, as API Gateway's Cognito
 * authorizer expects. Sessions are renewed with the refresh token before the tokens expire,
 * in the background, so nothing on screen is lost.
 */
import { UserManager, WebStorageStateStore, type SignoutRedirectArgs, type User } from "oidc-client-ts";

import type { AppConfig } from "../config";

export function createUserManager(config: AppConfig, origin: string): UserManager {
  const redirectUri = new URL(config.redirectPath, origin).toString();
  return new UserManager({
    authority: config.authority,
    client_id: config.clientId,
    redirect_uri: redirectUri,
    popup_redirect_uri: redirectUri,
    response_type: "code",
    scope: config.scope,
    // Tokens live in this tab's session storage: gone when the tab closes.
    userStore: new WebStorageStateStore({ store: window.sessionStorage }),
    automaticSilentRenew: true,
    // Cognito's ID token carries everything the application shows.
    loadUserInfo: false,
    // A form survives a renewal, but not a page load: renew well before the end.
    accessTokenExpiringNotificationTimeInSeconds: 60,
  });
}

/**
 * Sign out at the issuer the way Cognito's /logout endpoint wants it (client_id and logout_uri:
 * it is not OIDC RP-initiated logout); the local provider behaves the same.
 */
export function signOutArgs(config: AppConfig, origin: string): SignoutRedirectArgs {
  return {
    extraQueryParams: {
      client_id: config.clientId,
      logout_uri: new URL(config.logoutPath, origin).toString(),
    },
  };
}

/** Where the user was going when the sign-in started (kept in the OIDC state). */
export interface SignInState {
  returnTo: string;
}

export function returnPathOf(user: User | undefined): string {
  const state = user?.state as Partial<SignInState> | undefined;
  const target = state?.returnTo;
  // Only paths of this application: never an open redirect.
  return typeof target === "string" && target.startsWith("/") && !target.startsWith("//") ? target : "/";
}
