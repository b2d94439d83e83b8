import { useId } from "react";
import { useTranslation } from "react-i18next";

import { LOCALES, type Locale } from "../config";
import { changeLocale } from "../i18n";
import { useLocale } from "./hooks";

export function LanguageSwitch() {
  const { t } = useTranslation();
  const locale = useLocale();
  const id = useId();
  return (
    <div className="language">
      <label htmlFor={id}>{t("language.label")}</label>
      <select
        id={id}
        value={locale}
        onChange={(event) => void changeLocale(event.target.value as Locale)}
      >
        {LOCALES.map((code) => (
          <option key={code} value={code} lang={code}>
            {t(`language.names.${code}`)}
          </option>
        ))}
      </select>
    </div>
  );
}
