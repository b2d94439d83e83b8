import { useId, useState, type SyntheticEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useLocation, useNavigate, useSearchParams } from "react-router";

import { PAGE_SIZE, useDossierList, type DossierListQuery, type DossierStatus } from "../api/queries";
import { mayCreateDossiers } from "../auth/rights";
import { ErrorMessage } from "../components/ErrorMessage";
import { PageHeading } from "../components/PageHeading";
import { DossierStatusBadge } from "../components/StatusBadge";
import { useLocale, usePrincipal } from "../components/hooks";
import { formatDateTime } from "../format";

const STATUSES: readonly DossierStatus[] = ["open", "closed", "archived"];

function isStatus(value: string | null): value is DossierStatus {
  return value !== null && (STATUSES as readonly string[]).includes(value);
}

/** The cursors of the pages before this one, kept in the history entry for "previous page". */
interface PageTrail {
  previous?: (string | null)[];
}

export function DossierListScreen() {
  const { t } = useTranslation();
  const locale = useLocale();
  const principal = usePrincipal();
  const navigate = useNavigate();
  const location = useLocation();
  const [params] = useSearchParams();
  const q = params.get("q") ?? "";
  const statusParam = params.get("status");
  const status = isStatus(statusParam) ? statusParam : undefined;
  const cursor = params.get("cursor");
  const trail = ((location.state ?? {}) as PageTrail).previous ?? [];

  const query: DossierListQuery = { limit: PAGE_SIZE };
  if (q) query.q = q;
  if (status) query.status = status;
  if (cursor) query.cursor = cursor;
  const list = useDossierList(query);

  const resultsId = useId();

  const go = (next: { q: string; status: string; cursor: string | null }, previous: (string | null)[]) => {
    const search = new URLSearchParams();
    if (next.q) search.set("q", next.q);
    if (next.status) search.set("status", next.status);
    if (next.cursor) search.set("cursor", next.cursor);
    const text = search.toString();
    void navigate({ search: text ? `?${text}` : "" }, { state: { previous } satisfies PageTrail });
  };

  const items = list.data?.items ?? [];
  const nextCursor = list.data?.next_cursor ?? null;
  const pageNumber = trail.length + 1;

  return (
    <section aria-labelledby={resultsId}>
      <div className="title-row">
        <PageHeading title={t("dossiers.title")} />
        {mayCreateDossiers(principal) && (
          <Link className="button primary" to="/dossiers/new">
            {t("dossiers.new")}
          </Link>
        )}
      </div>
      <SearchForm
        key={`${q}|${status ?? ""}`}
        initialQ={q}
        initialStatus={status ?? ""}
        onSearch={(nextQ, nextStatus) => {
          go({ q: nextQ, status: nextStatus, cursor: null }, []);
        }}
      />

      <h2 id={resultsId} className="visually-hidden">
        {t("dossiers.results")}
      </h2>
      {list.isError && <ErrorMessage error={list.error} />}
      {list.isPending && <p role="status">{t("common.loading")}</p>}
      {list.isSuccess && items.length === 0 && <p role="status">{t("dossiers.none")}</p>}
      {items.length > 0 && (
        <table className="table" aria-busy={list.isFetching}>
          <caption className="visually-hidden">{t("dossiers.tableCaption", { page: pageNumber })}</caption>
          <thead>
            <tr>
              <th scope="col">{t("dossier.fields.reference")}</th>
              <th scope="col">{t("dossier.fields.title")}</th>
              <th scope="col">{t("dossier.fields.status")}</th>
              <th scope="col">{t("dossier.fields.owner")}</th>
              <th scope="col">{t("dossier.fields.updatedAt")}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((dossier) => (
              <tr key={dossier.id}>
                <td>
                  <Link to={`/dossiers/${dossier.id}`}>{dossier.reference}</Link>
                </td>
                <td>{dossier.title}</td>
                <td>
                  <DossierStatusBadge status={dossier.status} />
                </td>
                <td>{dossier.owner}</td>
                <td>{formatDateTime(dossier.updated_at, locale)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav className="pagination" aria-label={t("dossiers.pagination")}>
        {trail.length > 0 && (
          <>
            <button type="button" className="button" onClick={() => { go({ q, status: status ?? "", cursor: null }, []); }}>
              {t("dossiers.firstPage")}
            </button>
            <button
              type="button"
              className="button"
              onClick={() => {
                go({ q, status: status ?? "", cursor: trail.at(-1) ?? null }, trail.slice(0, -1));
              }}
            >
              {t("dossiers.previousPage")}
            </button>
          </>
        )}
        {(trail.length > 0 || nextCursor) && <span>{t("dossiers.pageNumber", { page: pageNumber })}</span>}
        {nextCursor && (
          <button
            type="button"
            className="button"
            onClick={() => {
              go({ q, status: status ?? "", cursor: nextCursor }, [...trail, cursor]);
            }}
          >
            {t("dossiers.nextPage")}
          </button>
        )}
      </nav>
    </section>
  );
}

/** Search words and status; reset from the URL when it changes (back and forward). */
function SearchForm({
  initialQ,
  initialStatus,
  onSearch,
}: {
  initialQ: string;
  initialStatus: string;
  onSearch: (q: string, status: string) => void;
}) {
  const { t } = useTranslation();
  const [draftQ, setDraftQ] = useState(initialQ);
  const [draftStatus, setDraftStatus] = useState(initialStatus);
  const searchId = useId();
  const statusId = useId();
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    onSearch(draftQ.trim(), draftStatus);
  };
  return (
      <form className="filters" role="search" onSubmit={submit}>
        <div className="field">
          <label htmlFor={searchId}>{t("dossiers.search.label")}</label>
          <input
            id={searchId}
            type="search"
            value={draftQ}
            maxLength={100}
            onChange={(event) => {
              setDraftQ(event.target.value);
            }}
          />
        </div>
        <div className="field">
          <label htmlFor={statusId}>{t("dossiers.search.status")}</label>
          <select
            id={statusId}
            value={draftStatus}
            onChange={(event) => {
              setDraftStatus(event.target.value);
            }}
          >
            <option value="">{t("dossiers.search.anyStatus")}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`dossier.status.${s}`)}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="button">
          {t("dossiers.search.submit")}
        </button>
      </form>
  );
}
