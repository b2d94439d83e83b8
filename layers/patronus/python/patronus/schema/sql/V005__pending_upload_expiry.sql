-- Uploads that were started and never finished are expired by a scheduled function: it asks for
-- the pending documents whose last upload activity (creation, or a restarted upload) is older
-- than a configured age. The index serves that query without scanning every document.
ALTER TABLE documents
  ADD KEY ix_documents_status_updated (status, updated_at);
