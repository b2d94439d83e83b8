-- Patronus schema, version 1.
-- Kept to the SQL subset that both MySQL 8.0 (Aurora MySQL 3) and MariaDB 10.11 understand:
-- utf8mb4_unicode_ci (exists on both; utf8mb4_0900_ai_ci does not exist on MariaDB),
-- DATETIME(6), no CHECK-dependent logic, no JSON functions.

CREATE TABLE dossiers (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  public_id CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  reference VARCHAR(64) NOT NULL,
  title VARCHAR(200) NOT NULL,
  description TEXT NULL,
  status VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'open',
  owner VARCHAR(128) NOT NULL,
  version INT UNSIGNED NOT NULL DEFAULT 1,
  created_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_dossiers_public_id (public_id),
  UNIQUE KEY uq_dossiers_reference (reference),
  KEY ix_dossiers_status_id (status, id),
  KEY ix_dossiers_title (title)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE documents (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  public_id CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  dossier_id BIGINT UNSIGNED NOT NULL,
  filename VARCHAR(1024) NOT NULL,
  content_type VARCHAR(255) NOT NULL,
  size_bytes BIGINT UNSIGNED NOT NULL,
  sha256 CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
  storage_key VARCHAR(760) NOT NULL,
  status VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'pending',
  etag VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NULL,
  upload_id VARCHAR(1024) CHARACTER SET ascii COLLATE ascii_bin NULL,
  uploaded_by VARCHAR(128) NOT NULL,
  legacy_path VARCHAR(2048) NULL,
  created_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  deleted_at DATETIME(6) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_documents_public_id (public_id),
  UNIQUE KEY uq_documents_storage_key (storage_key),
  KEY ix_documents_dossier (dossier_id, id),
  CONSTRAINT fk_documents_dossier FOREIGN KEY (dossier_id) REFERENCES dossiers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE audit_events (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  occurred_at DATETIME(6) NOT NULL,
  actor VARCHAR(128) NOT NULL,
  action VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  entity_type VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  entity_id CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  dossier_id BIGINT UNSIGNED NULL,
  details TEXT NULL,
  PRIMARY KEY (id),
  KEY ix_audit_dossier (dossier_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE idempotency_keys (
  actor VARCHAR(128) NOT NULL,
  idempotency_key VARCHAR(128) NOT NULL,
  request_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  dossier_id BIGINT UNSIGNED NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (actor, idempotency_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
