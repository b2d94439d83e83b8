import { useEffect, useId, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useLocation } from "react-router";

import { useServices } from "../services";
import { useLocale } from "./hooks";

/**
 * The session has ended: sign in again in a popup, so that whatever the user was typing stays
 * on the page; if the browser blocks the popup, sign in with a page change instead.
 */
export function SessionDialog() {
  const { t } = useTranslation();
  const { userManager, session } = useServices();
  const locale = useLocale();
  const location = useLocation();
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) {
      element.showModal();
    }
  }, []);

  const signInHere = async () => {
    setFailed(false);
    try {
      await userManager.signinPopup({ extraQueryParams: { lang: locale } });
      session.markRenewed();
    } catch {
      setFailed(true);
    }
  };
  const signInWithRedirect = () =>
    void userManager.signinRedirect({
      state: { returnTo: location.pathname + location.search },
      extraQueryParams: { lang: locale },
    });

  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault(); // nothing works signed out: the dialog stays until signed in
      }}
    >
      <h2 id={titleId}>{t("session.expired.title")}</h2>
      <p>{t("session.expired.explanation")}</p>
      {failed && (
        <p className="message message-error" role="alert">
          {t("session.expired.popupFailed")}
        </p>
      )}
      <div className="actions">
        <button type="button" className="button primary" onClick={() => void signInHere()}>
          {t("session.expired.signIn")}
        </button>
        {failed && (
          <button type="button" className="button" onClick={signInWithRedirect}>
            {t("session.expired.signInWithRedirect")}
          </button>
        )}
      </div>
    </dialog>
  );
}
