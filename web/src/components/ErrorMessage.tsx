import { useTranslation } from "react-i18next";

import { isApiError } from "../api/errors";
import { useLocale } from "./hooks";
import { formatNumber } from "../format";

/**
 * An error in the user's language, with what to do next. API errors are shown by kind (the
 * client maps them once); anything else as an unexpected error.
 */
export function ErrorMessage({ error, context }: { error: unknown; context?: string }) {
  const { t } = useTranslation();
  const locale = useLocale();
  const kind = isApiError(error) ? error.kind : "unexpected";
  const retryAfter = isApiError(error) ? error.retryAfter : null;
  return (
    <div className="message message-error" role="alert">
      <p className="message-title">
        {context ? `${context} ` : ""}
        {t(`errors.${kind}.title`)}
      </p>
      <p>{t(`errors.${kind}.next`)}</p>
      {retryAfter !== null && retryAfter > 0 && (
        <p>{t("errors.retryAfter", { seconds: formatNumber(retryAfter, locale) })}</p>
      )}
    </div>
  );
}
