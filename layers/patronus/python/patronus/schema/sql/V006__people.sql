-- The people who have signed in to the web application, as their ID token names them, so that
-- sharing a dossier with a person picks them by name or e-mail address instead of typing their
-- identifier (a Cognito subject is a UUID). The application records its user each time it opens;
-- nobody else writes here.
CREATE TABLE people (
  subject VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  name VARCHAR(200) NOT NULL,
  email VARCHAR(254) NULL,
  seen_at DATETIME(6) NOT NULL,
  PRIMARY KEY (subject),
  KEY ix_people_name (name),
  KEY ix_people_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
