-- Need-to-know access: every dossier belongs to one unit (a team, named by its Cognito group,
-- e.g. unit-litigation), and may be shared with a user or another unit through a grant.
-- The runner sets @patronus_default_unit from the settings (PATRONUS_DEFAULT_UNIT); dossiers
-- that predate units go to it.

CREATE TABLE units (
  name VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO units (name, created_at)
  VALUES (COALESCE(@patronus_default_unit, 'unit-general'), UTC_TIMESTAMP(6));

ALTER TABLE dossiers ADD COLUMN unit VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL AFTER status;

UPDATE dossiers SET unit = COALESCE(@patronus_default_unit, 'unit-general');

-- (unit, id, ...) serves a unit's page newest first, and covers a search of reference and title
-- (the access-filtered list then reads as few rows as the unfiltered one); (unit, status, id) the
-- same filtered by status; (owner, id) the "mine" filter.
ALTER TABLE dossiers
  MODIFY unit VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  ADD KEY ix_dossiers_unit_id (unit, id, reference, title),
  ADD KEY ix_dossiers_unit_status_id (unit, status, id),
  ADD KEY ix_dossiers_owner_id (owner, id),
  ADD CONSTRAINT fk_dossiers_unit FOREIGN KEY (unit) REFERENCES units (name);

-- grantee_type is 'user' (grantee: the user's subject) or 'unit' (grantee: a unit name);
-- permission is 'reader' or 'editor', never more than the grantee's global role allows.
CREATE TABLE dossier_grants (
  dossier_id BIGINT UNSIGNED NOT NULL,
  grantee_type VARCHAR(8) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  grantee VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  permission VARCHAR(8) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  granted_by VARCHAR(128) NOT NULL,
  granted_at DATETIME(6) NOT NULL,
  PRIMARY KEY (dossier_id, grantee_type, grantee),
  KEY ix_grants_grantee (grantee_type, grantee, dossier_id),
  CONSTRAINT fk_grants_dossier FOREIGN KEY (dossier_id) REFERENCES dossiers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
