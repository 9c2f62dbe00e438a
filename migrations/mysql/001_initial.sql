-- TrapperKeeper schema, MySQL / MariaDB dialect. Same tables, columns and indexes as
-- migrations/postgres/001_initial.sql; keep the three dialects in step.
-- Conventions: ids are UUIDv7 in CHAR(36); timestamps are DATETIME(3) holding UTC (the
-- adapter sets the session time zone to +00:00 and converts to ISO-8601 itself); booleans
-- are SMALLINT 0/1; enums are stored as their proto names; rows with deleted_at set are
-- soft-deleted and filtered out by every query. Every table is InnoDB, utf8mb4 with a binary
-- collation (case-sensitive, like PostgreSQL and SQLite). Indexes whose first column carries a
-- foreign key are declared inside CREATE TABLE, so MySQL does not add a duplicate for the key.
-- MySQL cannot roll back DDL: a statement failing midway leaves the earlier ones applied,
-- which the migrator records as a failed migration for an operator to resolve.

CREATE TABLE tenants (
  id          CHAR(36)     NOT NULL PRIMARY KEY,
  name        VARCHAR(128) NOT NULL,
  created_at  DATETIME(3)  NOT NULL,
  modified_at DATETIME(3)  NOT NULL,
  deleted_at  DATETIME(3)  NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Every install starts with one tenant; the server serves it by default.
INSERT INTO tenants (id, name, created_at, modified_at)
VALUES ('00000000-0000-7000-8000-000000000001', 'default', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3));

CREATE TABLE users (
  id            CHAR(36)     NOT NULL PRIMARY KEY,
  tenant_id     CHAR(36)     NOT NULL,
  username      VARCHAR(128) NOT NULL,
  password_hash VARCHAR(255) NOT NULL,
  is_admin      SMALLINT     NOT NULL DEFAULT 0,
  created_at    DATETIME(3)  NOT NULL,
  modified_at   DATETIME(3)  NOT NULL,
  last_login_at DATETIME(3)  NULL,
  deleted_at    DATETIME(3)  NULL,
  CONSTRAINT users_tenant_id FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX users_username ON users (username);

-- The session id itself is never stored: only its SHA-256.
CREATE TABLE sessions (
  id_hash      CHAR(64)    NOT NULL PRIMARY KEY,
  user_id      CHAR(36)    NOT NULL,
  tenant_id    CHAR(36)    NOT NULL,
  created_at   DATETIME(3) NOT NULL,
  last_seen_at DATETIME(3) NOT NULL,
  expires_at   DATETIME(3) NOT NULL,
  CONSTRAINT sessions_user_id FOREIGN KEY (user_id) REFERENCES users (id),
  CONSTRAINT sessions_tenant_id FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Which HMAC secrets the server has been configured with (hash only, never the secret).
CREATE TABLE hmac_secrets (
  id          CHAR(32)    NOT NULL PRIMARY KEY,
  secret_hash CHAR(64)    NOT NULL,
  created_at  DATETIME(3) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE api_keys (
  id           CHAR(36)     NOT NULL PRIMARY KEY,
  tenant_id    CHAR(36)     NOT NULL,
  name         VARCHAR(128) NOT NULL,
  key_hash     CHAR(64)     NOT NULL,
  secret_id    CHAR(32)     NOT NULL,
  created_at   DATETIME(3)  NOT NULL,
  modified_at  DATETIME(3)  NOT NULL,
  last_used_at DATETIME(3)  NULL,
  revoked_at   DATETIME(3)  NULL,
  deleted_at   DATETIME(3)  NULL,
  CONSTRAINT api_keys_tenant_id FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX api_keys_key_hash ON api_keys (key_hash);

-- scope_tags and or_groups hold the proto3 JSON mapping of the Rule fields.
CREATE TABLE rules (
  id          CHAR(36)      NOT NULL PRIMARY KEY,
  tenant_id   CHAR(36)      NOT NULL,
  name        VARCHAR(128)  NOT NULL,
  description VARCHAR(1024) NOT NULL DEFAULT '',
  state       VARCHAR(32)   NOT NULL,
  action      VARCHAR(32)   NOT NULL,
  sample_rate DOUBLE        NOT NULL DEFAULT 1.0,
  scope_tags  MEDIUMTEXT    NOT NULL,
  or_groups   MEDIUMTEXT    NOT NULL,
  created_at  DATETIME(3)   NOT NULL,
  modified_at DATETIME(3)   NOT NULL,
  deleted_at  DATETIME(3)   NULL,
  KEY rules_tenant_state (tenant_id, state, deleted_at),
  CONSTRAINT rules_tenant_id FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- payload is up to 1 MiB of JSON; MEDIUMTEXT holds 16 MiB (TEXT would stop at 64 KiB).
CREATE TABLE events (
  id               CHAR(36)     NOT NULL PRIMARY KEY,
  tenant_id        CHAR(36)     NOT NULL,
  event_id         VARCHAR(255) NOT NULL,
  sensor_id        VARCHAR(255) NOT NULL DEFAULT '',
  api_key_id       CHAR(36)     NULL,
  payload          MEDIUMTEXT   NOT NULL,
  metadata         MEDIUMTEXT   NOT NULL,
  client_timestamp DATETIME(3)  NULL,
  received_at      DATETIME(3)  NOT NULL,
  UNIQUE KEY events_tenant_event_id (tenant_id, event_id),
  KEY events_tenant_received_at (tenant_id, received_at),
  CONSTRAINT events_tenant_id FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row per rule that matched (or failed to evaluate on) an event.
CREATE TABLE event_rule_matches (
  id         CHAR(36)     NOT NULL PRIMARY KEY,
  tenant_id  CHAR(36)     NOT NULL,
  event_id   CHAR(36)     NOT NULL,
  rule_id    CHAR(36)     NOT NULL,
  rule_name  VARCHAR(128) NOT NULL,
  action     VARCHAR(32)  NOT NULL,
  error      TEXT         NULL,
  created_at DATETIME(3)  NOT NULL,
  KEY event_rule_matches_event_id (event_id),
  CONSTRAINT event_rule_matches_tenant_id FOREIGN KEY (tenant_id) REFERENCES tenants (id),
  CONSTRAINT event_rule_matches_event_id_fk FOREIGN KEY (event_id) REFERENCES events (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
