-- The legacy user schema of sql/schema.sql for MariaDB/MySQL (applied by up.sh as the
-- application user; idempotent). Same columns, same meaning, the types a MySQL monolith would
-- have used: BOOLEAN is TINYINT(1), timestamptz is TIMESTAMP (stored in UTC), numeric is DECIMAL.
-- The LegacyDatabase adapter reads both into the same values (src/adapters/legacy-db/mysql/mysql-values.ts).

CREATE TABLE IF NOT EXISTS users (
    id                  BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    username            VARCHAR(255) NOT NULL,
    email               VARCHAR(320),
    email_verified      BOOLEAN      NOT NULL DEFAULT FALSE,
    phone               VARCHAR(64),                 -- E.164 or whatever the old UI accepted
    phone_verified      BOOLEAN      NOT NULL DEFAULT FALSE,
    given_name          TEXT,
    family_name         TEXT,
    locale              VARCHAR(35),                 -- e.g. 'en-US', 'fr_FR', 'ja'
    status              VARCHAR(32)  NOT NULL DEFAULT 'active',
    created_at          TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    -- maintained by the database, as the legacy app relied on (the trigger in the Postgres schema)
    updated_at          TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    loyalty_tier        VARCHAR(16),                 -- 'bronze','silver','gold','platinum'
    marketing_opt_in    BOOLEAN      NOT NULL DEFAULT FALSE,
    legacy_customer_no  DECIMAL(12,0),
    birthdate           DATE,
    bio                 MEDIUMTEXT,
    last_login_at       TIMESTAMP(6) NULL DEFAULT NULL,
    password_hash       VARCHAR(255),                -- e.g. '$2b$10$...' bcrypt
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_status_check CHECK (status IN ('active','suspended','locked','deleted_pending','pending_verification')),
    CONSTRAINT users_loyalty_tier_check CHECK (loyalty_tier IS NULL OR loyalty_tier IN ('bronze','silver','gold','platinum')),
    -- emails are not unique in the legacy data (duplicates differ by case); the index is for lookups
    INDEX users_email_idx (email),
    INDEX users_updated_at_idx (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS user_roles (
    user_id     BIGINT       NOT NULL,
    role        VARCHAR(64)  NOT NULL,
    granted_at  TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (user_id, role),
    CONSTRAINT user_roles_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Debezium signalling table (incremental snapshots: INSERT a row of type 'execute-snapshot').
CREATE TABLE IF NOT EXISTS debezium_signal (
    id    VARCHAR(64)   NOT NULL PRIMARY KEY,
    type  VARCHAR(32)   NOT NULL,
    data  VARCHAR(2048)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
