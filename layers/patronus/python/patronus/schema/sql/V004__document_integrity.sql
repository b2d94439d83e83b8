-- Idempotency keys are opaque byte strings: "KEY-x" and "key-x" are two keys. The table's
-- collation (utf8mb4_unicode_ci) compared them case- and accent-insensitively, so a second
-- client's key could replay the first client's dossier. VARBINARY compares bytes with no
-- padding rule (a PAD SPACE collation would still equate "k" and "k ").
ALTER TABLE idempotency_keys
  MODIFY idempotency_key VARBINARY(512) NOT NULL;
