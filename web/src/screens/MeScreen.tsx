import { useTranslation } from "react-i18next";
import { useAuth } from "react-oidc-context";

import { PageHeading } from "../components/PageHeading";
import { useLocale, usePrincipal } from "../components/hooks";
import { formatDateTime, formatList } from "../format";
import { unitName } from "../auth/principal";

/** Who am I: the name, role, units and session the application knows the user by. */
export function MeScreen() {
  const { t } = useTranslation();
  const locale = useLocale();
  const auth = useAuth();
  const principal = usePrincipal();
  const expiresAt = auth.user?.expires_at;
  if (!principal) {
    return null;
  }
  return (
    <section>
      <PageHeading title={t("me.title")} />
      <dl className="facts vertical">
        <div>
          <dt>{t("me.name")}</dt>
          <dd data-testid="me-name">{principal.displayName}</dd>
        </div>
        <div>
          <dt>{t("me.subject")}</dt>
          <dd>
            <span data-testid="me-subject">{principal.subject}</span>
            <span className="hint"> · {t("me.subjectHint")}</span>
          </dd>
        </div>
        <div>
          <dt>{t("me.email")}</dt>
          <dd>{principal.email ?? t("me.none")}</dd>
        </div>
        <div>
          <dt>{t("me.role")}</dt>
          <dd data-testid="me-role">{t(`me.roles.${principal.role}`)}</dd>
        </div>
        <div>
          <dt>{t("me.units")}</dt>
          <dd data-testid="me-units">
            {principal.units.length > 0
              ? formatList(principal.units.map(unitName), locale)
              : t("me.noUnit")}
          </dd>
        </div>
        <div>
          <dt>{t("me.session")}</dt>
          <dd>
            {expiresAt !== undefined
              ? t("me.sessionUntil", { when: formatDateTime(new Date(expiresAt * 1000).toISOString(), locale) })
              : t("me.none")}
          </dd>
        </div>
      </dl>
      <p className="hint">{t("me.roleExplanation")}</p>
    </section>
  );
}
