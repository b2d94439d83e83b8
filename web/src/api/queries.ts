/**
 * Server state: one hook per API operation, cached by TanStack Query. Screens call these and
 * render; they never call the API themselves.
 */
import {
  keepPreviousData,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
  type QueryClient,
} from "@tanstack/react-query";
import { useEffect } from "react";

import { useServices } from "../services";
import { call, etagOf } from "./client";
import type { components, operations } from "./schema";

export type Dossier = components["schemas"]["DossierOut"];
export type DossierStatus = Dossier["status"];
export type DossierCreate = components["schemas"]["DossierCreate"];
export type DossierUpdate = components["schemas"]["DossierUpdate"];
export type DocumentOut = components["schemas"]["DocumentOut"];
export type DocumentStatus = DocumentOut["status"];
export type AuditEvent = components["schemas"]["AuditEventOut"];
export type DossierRightsOut = components["schemas"]["RightsOut"];
export type Grant = components["schemas"]["GrantOut"];
export type GrantInput = components["schemas"]["GrantIn"];
export type GranteeType = GrantInput["grantee_type"];
export type Permission = GrantInput["permission"];
export type DossierListQuery = NonNullable<operations["list_dossiers_v1_dossiers_get"]["parameters"]["query"]>;

/** A dossier and the ETag to send back as If-Match when changing it. */
export interface VersionedDossier {
  dossier: Dossier;
  etag: string;
}

export const keys = {
  dossiers: ["dossiers"] as const,
  dossierList: (query: DossierListQuery) => ["dossiers", "list", query] as const,
  dossier: (id: string) => ["dossiers", "one", id] as const,
  documents: (dossierId: string) => ["dossiers", "one", dossierId, "documents"] as const,
  history: (dossierId: string) => ["dossiers", "one", dossierId, "history"] as const,
  grants: (dossierId: string) => ["dossiers", "one", dossierId, "grants"] as const,
  units: ["units"] as const,
  people: (text: string) => ["people", text] as const,
  peopleNames: (subjects: readonly string[]) => ["people", "names", ...subjects] as const,
};

export const PAGE_SIZE = 20;

export function useDossierList(query: DossierListQuery) {
  const { api } = useServices();
  return useQuery({
    queryKey: keys.dossierList(query),
    queryFn: async ({ signal }) => (await call(api.GET("/v1/dossiers", { params: { query }, signal }))).data,
    placeholderData: keepPreviousData,
  });
}

/**
 * The units the API has met (GET /v1/units: editors and admins), to suggest where a unit is
 * typed. `enabled` is false for those who may not ask (readers).
 */
export function useKnownUnits(enabled: boolean) {
  const { api } = useServices();
  return useQuery({
    queryKey: keys.units,
    queryFn: async ({ signal }) => (await call(api.GET("/v1/units", { signal }))).data.items,
    enabled,
    staleTime: 5 * 60_000,
  });
}

/**
 * Record the signed-in user as their token names them (PUT /v1/people/me) when the application opens, so
 * that others find them when sharing. Best effort: a failure leaves them to be typed.
 */
export function useRecordSelf(subject: string | null) {
  const { api } = useServices();
  useEffect(() => {
    if (subject) {
      void api.PUT("/v1/people/me").catch(() => undefined);
    }
  }, [api, subject]);
}

/** At most this many identifiers are named per request (GET /v1/people/names). */
const NAMES_PER_REQUEST = 100;

/**
 * How to show the people a screen names (who created, uploaded, shared or changed something):
 * by name for those recorded, else by identifier (also while the names load).
 */
export function usePeopleNames(subjects: readonly string[]): (subject: string) => string {
  const { api } = useServices();
  const wanted = [...new Set(subjects.filter((s) => s !== ""))].sort().slice(0, NAMES_PER_REQUEST);
  const names = useQuery({
    queryKey: keys.peopleNames(wanted),
    queryFn: async ({ signal }) =>
      (await call(api.GET("/v1/people/names", { params: { query: { subject: wanted } }, signal }))).data.items,
    enabled: wanted.length > 0,
    staleTime: 5 * 60_000,
    placeholderData: keepPreviousData,
  });
  const byId = new Map((names.data ?? []).map((person) => [person.subject, person.name]));
  return (subject) => byId.get(subject) ?? subject;
}

/** People who have signed in whose name or address starts with `text` (editors and admins). */
export function usePeople(text: string, enabled: boolean) {
  const { api } = useServices();
  const q = text.trim();
  return useQuery({
    queryKey: keys.people(q),
    queryFn: async ({ signal }) =>
      (await call(api.GET("/v1/people", { params: { query: { q } }, signal }))).data.items,
    enabled: enabled && q.length >= 2,
    staleTime: 60_000,
    placeholderData: keepPreviousData,
  });
}

export function useDossier(id: string) {
  const { api } = useServices();
  return useQuery({
    queryKey: keys.dossier(id),
    queryFn: async ({ signal }): Promise<VersionedDossier> => {
      const { data, response } = await call(
        api.GET("/v1/dossiers/{dossier_id}", { params: { path: { dossier_id: id } }, signal }),
      );
      return { dossier: data, etag: etagOf(response) };
    },
  });
}

function remember(client: QueryClient, versioned: VersionedDossier): void {
  client.setQueryData(keys.dossier(versioned.dossier.id), versioned);
  void client.invalidateQueries({ queryKey: ["dossiers", "list"] });
}

export function useCreateDossier() {
  const { api } = useServices();
  const client = useQueryClient();
  return useMutation({
    mutationFn: async ({ input, idempotencyKey }: { input: DossierCreate; idempotencyKey: string }) => {
      const { data, response } = await call(
        api.POST("/v1/dossiers", { body: input, headers: { "Idempotency-Key": idempotencyKey } }),
      );
      return { dossier: data, etag: etagOf(response) };
    },
    onSuccess: (versioned) => {
      remember(client, versioned);
    },
  });
}

/** Change a dossier if nobody changed it since `etag` was read (else an ApiError of kind "stale"). */
export function useUpdateDossier(id: string) {
  const { api } = useServices();
  const client = useQueryClient();
  return useMutation({
    mutationFn: async ({ changes, etag }: { changes: DossierUpdate; etag: string }) => {
      const { data, response } = await call(
        api.PATCH("/v1/dossiers/{dossier_id}", {
          params: { path: { dossier_id: id } },
          headers: { "If-Match": etag },
          body: changes,
        }),
      );
      return { dossier: data, etag: etagOf(response) };
    },
    onSuccess: (versioned) => {
      remember(client, versioned);
      void client.invalidateQueries({ queryKey: keys.history(id) });
    },
  });
}

/** The dossier as it is now, bypassing the cache (to compare with a stale edit). */
export function useFetchDossier() {
  const { api } = useServices();
  const client = useQueryClient();
  return async (id: string): Promise<VersionedDossier> => {
    const { data, response } = await call(api.GET("/v1/dossiers/{dossier_id}", { params: { path: { dossier_id: id } } }));
    const versioned = { dossier: data, etag: etagOf(response) };
    client.setQueryData(keys.dossier(id), versioned);
    return versioned;
  };
}

export function useArchiveDossier(id: string) {
  const { api } = useServices();
  const client = useQueryClient();
  return useMutation({
    mutationFn: async () => {
      const { data, response } = await call(
        api.DELETE("/v1/dossiers/{dossier_id}", { params: { path: { dossier_id: id } } }),
      );
      return { dossier: data, etag: etagOf(response) };
    },
    onSuccess: (versioned) => {
      remember(client, versioned);
      void client.invalidateQueries({ queryKey: keys.history(id) });
    },
  });
}

/** Statuses a document leaves by itself (upload finished, scan done): worth looking again. */
const SETTLING: readonly DocumentStatus[] = ["pending", "scanning"];

export function useDocuments(dossierId: string) {
  const { api } = useServices();
  return useInfiniteQuery({
    queryKey: keys.documents(dossierId),
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam, signal }) =>
      (
        await call(
          api.GET("/v1/dossiers/{dossier_id}/documents", {
            params: { path: { dossier_id: dossierId }, query: { limit: 50, cursor: pageParam } },
            signal,
          }),
        )
      ).data,
    getNextPageParam: (page) => page.next_cursor ?? null,
    // While a document is on its way (upload, scan), look again every few seconds.
    refetchInterval: (query) =>
      query.state.data?.pages.some((page) => page.items.some((d) => SETTLING.includes(d.status))) ? 3000 : false,
  });
}

export function useDeleteDocument(dossierId: string) {
  const { api } = useServices();
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (documentId: string) => {
      await call(api.DELETE("/v1/documents/{document_id}", { params: { path: { document_id: documentId } } }));
    },
    onSettled: () => {
      void client.invalidateQueries({ queryKey: keys.documents(dossierId) });
      void client.invalidateQueries({ queryKey: keys.history(dossierId) });
    },
  });
}

/**
 * A short-lived download URL for a document (the browser then fetches it from S3). Each one is
 * recorded in the dossier's history, which is therefore read again.
 */
export function useDownloadUrl(dossierId: string) {
  const { api } = useServices();
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (documentId: string) =>
      (await call(api.GET("/v1/documents/{document_id}/download", { params: { path: { document_id: documentId } } })))
        .data,
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: keys.history(dossierId) });
    },
  });
}

export function useHistory(dossierId: string) {
  const { api } = useServices();
  return useInfiniteQuery({
    queryKey: keys.history(dossierId),
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam, signal }) =>
      (
        await call(
          api.GET("/v1/dossiers/{dossier_id}/history", {
            params: { path: { dossier_id: dossierId }, query: { limit: 50, cursor: pageParam } },
            signal,
          }),
        )
      ).data,
    getNextPageParam: (page) => page.next_cursor ?? null,
  });
}

/** Who the dossier is shared with beyond its unit (anyone who may see it may see this). */
export function useGrants(dossierId: string) {
  const { api } = useServices();
  return useQuery({
    queryKey: keys.grants(dossierId),
    queryFn: async ({ signal }) =>
      (
        await call(
          api.GET("/v1/dossiers/{dossier_id}/grants", { params: { path: { dossier_id: dossierId } }, signal }),
        )
      ).data.items,
  });
}

/** Share the dossier with a user or a unit, or change what an earlier grant gives. */
export function usePutGrant(dossierId: string) {
  const { api } = useServices();
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (grant: GrantInput) =>
      (
        await call(
          api.PUT("/v1/dossiers/{dossier_id}/grants", { params: { path: { dossier_id: dossierId } }, body: grant }),
        )
      ).data.items,
    onSuccess: (items) => {
      client.setQueryData(keys.grants(dossierId), items);
      void client.invalidateQueries({ queryKey: keys.history(dossierId) });
    },
  });
}

/** Stop sharing the dossier with a user or a unit. */
export function useDeleteGrant(dossierId: string) {
  const { api } = useServices();
  const client = useQueryClient();
  return useMutation({
    mutationFn: async ({ grantee_type, grantee }: Pick<Grant, "grantee_type" | "grantee">) =>
      (
        await call(
          api.DELETE("/v1/dossiers/{dossier_id}/grants", {
            params: { path: { dossier_id: dossierId }, query: { grantee_type, grantee } },
          }),
        )
      ).data.items,
    onSuccess: (items) => {
      client.setQueryData(keys.grants(dossierId), items);
      void client.invalidateQueries({ queryKey: keys.history(dossierId) });
    },
  });
}
