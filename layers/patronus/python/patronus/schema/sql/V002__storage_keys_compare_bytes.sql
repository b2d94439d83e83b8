-- S3 keys are byte strings: "cafe.txt", "Cafe.txt" and "café.txt" are three objects.
-- The table's default collation (utf8mb4_unicode_ci) would treat them as one key and make the
-- unique index refuse legitimate legacy files. Compare storage keys byte for byte instead.
-- utf8mb4_bin exists on MySQL 8.0 (Aurora MySQL 3) and MariaDB alike.
ALTER TABLE documents
  MODIFY storage_key VARCHAR(760) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL;
