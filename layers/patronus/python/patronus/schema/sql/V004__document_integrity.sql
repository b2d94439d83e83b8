-- Idempotency keys are opaque byte strings: "KEY-x" and "key-x" are two keys. The table's
-- collation (utf8mb4_unicode_ci) compared them case- and accent-insensitively, so a second
-- client's key could replay the first client's dossier. VARBINARY compares bytes with no
-- padding rule (a PAD SPACE collation would still equate "k" and "k ").
ALTER TABLE idempotency_keys
  MODIFY idempotency_key VARBINARY(512) NOT NULL;

-- A document's bytes are fixed: the S3 object version they were verified in, which downloads
-- are pinned to. sha256 now holds only a hash the storage verified (or, for legacy files, the
-- one the migration tools computed and checked); what the client declared is kept apart.
ALTER TABLE documents
  ADD COLUMN version_id VARCHAR(1024) CHARACTER SET ascii COLLATE ascii_bin NULL AFTER etag,
  ADD COLUMN declared_sha256 CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL AFTER sha256;

UPDATE documents SET declared_sha256 = sha256, sha256 = NULL WHERE legacy_path IS NULL;
