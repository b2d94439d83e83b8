import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, NavLink, Outlet, useOutletContext, useParams } from "react-router";

import { isApiError } from "../api/errors";
import { useArchiveDossier, useDossier, usePeopleNames, type VersionedDossier } from "../api/queries";
import { unitName } from "../auth/principal";
import { dossierRights, type DossierRights } from "../auth/rights";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { ErrorMessage } from "../components/ErrorMessage";
import { PageHeading } from "../components/PageHeading";
import { DossierStatusBadge } from "../components/StatusBadge";
import { useLocale } from "../components/hooks";
import { formatDateTime } from "../format";

export interface DossierContext {
  versioned: VersionedDossier;
  rights: DossierRights;
}

export function useDossierContext(): DossierContext {
  return useOutletContext<DossierContext>();
}

/** A dossier: its summary and actions, and its sections (documents, edit, history) below. */
export function DossierScreen() {
  const { t } = useTranslation();
  const { dossierId = "" } = useParams();
  const query = useDossier(dossierId);

  if (query.isPending) {
    return <p role="status">{t("common.loading")}</p>;
  }
  if (query.isError) {
    const missing = isApiError(query.error) && (query.error.kind === "not_found" || query.error.kind === "invalid");
    return (
      <section>
        <PageHeading title={missing ? t("dossier.notFound") : t("dossier.title")} />
        {missing ? <p>{t("dossier.notFoundExplanation")}</p> : <ErrorMessage error={query.error} />}
        <Link to="/dossiers">{t("notFound.backToDossiers")}</Link>
      </section>
    );
  }
  const versioned = query.data;
  const rights = dossierRights(versioned.dossier);
  return (
    <article className="dossier">
      <DossierHeader versioned={versioned} rights={rights} />
      <nav className="tabs" aria-label={t("dossier.sections")}>
        <ul>
          <li>
            <NavLink to="" end>
              {t("dossier.nav.documents")}
            </NavLink>
          </li>
          {rights.edit && (
            <li>
              <NavLink to="edit">{t("dossier.nav.edit")}</NavLink>
            </li>
          )}
          <li>
            <NavLink to="sharing">{t("dossier.nav.sharing")}</NavLink>
          </li>
          <li>
            <NavLink to="history">{t("dossier.nav.history")}</NavLink>
          </li>
        </ul>
      </nav>
      <Outlet context={{ versioned, rights } satisfies DossierContext} />
    </article>
  );
}

function DossierHeader({ versioned, rights }: DossierContext) {
  const { t } = useTranslation();
  const locale = useLocale();
  const { dossier } = versioned;
  const nameOf = usePeopleNames([dossier.owner]);
  const archive = useArchiveDossier(dossier.id);
  const [confirming, setConfirming] = useState(false);
  return (
    <header className="dossier-header">
      <div className="title-row">
        <PageHeading title={`${dossier.reference} · ${dossier.title}`}>
          <span className="reference">{dossier.reference}</span> {dossier.title}
        </PageHeading>
        {rights.archive && (
          <button
            type="button"
            className="button danger"
            onClick={() => {
              archive.reset();
              setConfirming(true);
            }}
          >
            {t("dossier.archive.action")}
          </button>
        )}
      </div>
      <dl className="facts">
        <div>
          <dt>{t("dossier.fields.status")}</dt>
          <dd>
            <DossierStatusBadge status={dossier.status} />
          </dd>
        </div>
        <div>
          <dt>{t("dossier.fields.unit")}</dt>
          <dd data-testid="dossier-unit">{unitName(dossier.unit)}</dd>
        </div>
        <div>
          <dt>{t("dossier.fields.owner")}</dt>
          <dd>{nameOf(dossier.owner)}</dd>
        </div>
        <div>
          <dt>{t("dossier.fields.createdAt")}</dt>
          <dd>{formatDateTime(dossier.created_at, locale)}</dd>
        </div>
        <div>
          <dt>{t("dossier.fields.updatedAt")}</dt>
          <dd>{formatDateTime(dossier.updated_at, locale)}</dd>
        </div>
      </dl>
      {dossier.status === "archived" && (
        <p className="message message-info" role="note">
          {t("dossier.archivedNote")}
        </p>
      )}
      <ConfirmDialog
        open={confirming}
        title={t("dossier.archive.confirmTitle", { reference: dossier.reference })}
        confirmLabel={t("dossier.archive.confirm")}
        cancelLabel={t("common.cancel")}
        danger
        busy={archive.isPending}
        onCancel={() => {
          setConfirming(false);
        }}
        onConfirm={() => {
          archive.mutate(undefined, {
            onSuccess: () => {
              setConfirming(false);
            },
          });
        }}
      >
        <p>{t("dossier.archive.explanation")}</p>
        {archive.isError && <ErrorMessage error={archive.error} />}
      </ConfirmDialog>
    </header>
  );
}
