import { useId, useState, type SyntheticEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useLocation, useNavigate, useSearchParams } from "react-router";

import { useDossierList, usePeopleNames } from "../api/queries";
import { unitName } from "../auth/principal";
import { mayCreateDossiers } from "../auth/rights";
import { ErrorMessage } from "../components/ErrorMessage";
import { PageHeading } from "../components/PageHeading";
import { useUnitSuggestions } from "../components/UnitSuggestions";
import { DossierStatusBadge } from "../components/StatusBadge";
import { useLocale, usePrincipal } from "../components/hooks";
import { formatDateTime } from "../format";
import { filtersOf, listQueryOf, searchOf, STATUSES, unitChoices, type DossierFilters } from "./dossierFilters";

/** The cursors of the pages before this one, kept in the history entry for "previous page". */
interface PageTrail {
  previous?: (string | null)[];
}

export function DossierListScreen() {
  const { t } = useTranslation();
  const locale = useLocale();
  const principal = usePrincipal();
  // Admins see every unit's dossiers: they filter on any unit in use; the others on their own.
  const filterUnits = useUnitSuggestions("admin");
  const navigate = useNavigate();
  const location = useLocation();
  const [params] = useSearchParams();
  const filters = filtersOf(params);
  const { cursor } = filters;
  const trail = ((location.state ?? {}) as PageTrail).previous ?? [];
  const list = useDossierList(listQueryOf(filters));

  const resultsId = useId();

  const go = (next: DossierFilters, previous: (string | null)[]) => {
    void navigate({ search: searchOf(next) }, { state: { previous } satisfies PageTrail });
  };
  const page = (at: string | null, previous: (string | null)[]) => {
    go({ ...filters, cursor: at }, previous);
  };

  const items = list.data?.items ?? [];
  const nameOf = usePeopleNames(items.map((dossier) => dossier.owner));
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
        key={searchOf({ ...filters, cursor: null })}
        initial={filters}
        units={unitChoices(filterUnits, filters.unit)}
        onSearch={(next) => {
          go({ ...next, cursor: null }, []);
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
              <th scope="col">{t("dossier.fields.unit")}</th>
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
                <td>{unitName(dossier.unit)}</td>
                <td>{nameOf(dossier.owner)}</td>
                <td>{formatDateTime(dossier.updated_at, locale)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav className="pagination" aria-label={t("dossiers.pagination")}>
        {trail.length > 0 && (
          <>
            <button type="button" className="button" onClick={() => {
                page(null, []);
              }}>
              {t("dossiers.firstPage")}
            </button>
            <button
              type="button"
              className="button"
              onClick={() => {
                page(trail.at(-1) ?? null, trail.slice(0, -1));
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
              page(nextCursor, [...trail, cursor]);
            }}
          >
            {t("dossiers.nextPage")}
          </button>
        )}
      </nav>
    </section>
  );
}

/** Search words, status, unit and "mine"; reset from the URL when it changes (back and forward). */
function SearchForm({
  initial,
  units,
  onSearch,
}: {
  initial: DossierFilters;
  units: readonly string[];
  onSearch: (filters: DossierFilters) => void;
}) {
  const { t } = useTranslation();
  const [draft, setDraft] = useState(initial);
  const searchId = useId();
  const statusId = useId();
  const unitId = useId();
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    onSearch({ ...draft, q: draft.q.trim() });
  };
  return (
    <form className="filters" role="search" onSubmit={submit}>
      <div className="field">
        <label htmlFor={searchId}>{t("dossiers.search.label")}</label>
        <input
          id={searchId}
          type="search"
          value={draft.q}
          maxLength={100}
          onChange={(event) => {
            setDraft({ ...draft, q: event.target.value });
          }}
        />
      </div>
      <div className="field">
        <label htmlFor={statusId}>{t("dossiers.search.status")}</label>
        <select
          id={statusId}
          value={draft.status}
          onChange={(event) => {
            const status = STATUSES.find((s) => s === event.target.value) ?? "";
            setDraft({ ...draft, status });
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
      <div className="field">
        <label htmlFor={unitId}>{t("dossiers.search.unit")}</label>
        <select
          id={unitId}
          value={draft.unit}
          onChange={(event) => {
            setDraft({ ...draft, unit: event.target.value });
          }}
        >
          <option value="">{t("dossiers.search.anyUnit")}</option>
          {units.map((unit) => (
            <option key={unit} value={unit}>
              {unitName(unit)}
            </option>
          ))}
        </select>
      </div>
      <label className="choice filter-check">
        <input
          type="checkbox"
          checked={draft.mine}
          onChange={(event) => {
            setDraft({ ...draft, mine: event.target.checked });
          }}
        />
        {t("dossiers.search.mine")}
      </label>
      <button type="submit" className="button">
        {t("dossiers.search.submit")}
      </button>
    </form>
  );
}
