-- TrapperKeeper schema, SQLite dialect. Same tables, columns and indexes as
-- migrations/postgres/001_initial.sql; keep the three dialects in step.
-- Conventions: ids are UUIDv7 in CHAR(36); timestamps are TEXT holding ISO-8601 UTC with
-- milliseconds (2026-01-02T03:04:05.678Z), so they sort and compare as text; booleans are
-- INTEGER 0/1; enums are stored as their proto names; rows with deleted_at set are
-- soft-deleted and filtered out by every query.

CREATE TABLE tenants (
  id          CHAR(36)     PRIMARY KEY,
  name        VARCHAR(128) NOT NULL,
  created_at  TEXT         NOT NULL,
  modified_at TEXT         NOT NULL,
  deleted_at  TEXT         NULL
);

-- Every install starts with one tenant; the server serves it by default.
INSERT INTO tenants (id, name, created_at, modified_at)
VALUES ('00000000-0000-7000-8000-000000000001', 'default',
        strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

CREATE TABLE users (
  id            CHAR(36)     PRIMARY KEY,
  tenant_id     CHAR(36)     NOT NULL REFERENCES tenants (id),
  username      VARCHAR(128) NOT NULL,
  password_hash VARCHAR(255) NOT NULL,
  is_admin      INTEGER      NOT NULL DEFAULT 0,
  created_at    TEXT         NOT NULL,
  modified_at   TEXT         NOT NULL,
  last_login_at TEXT         NULL,
  deleted_at    TEXT         NULL
);
CREATE UNIQUE INDEX users_username ON users (username);

-- The session id itself is never stored: only its SHA-256.
CREATE TABLE sessions (
  id_hash      CHAR(64) PRIMARY KEY,
  user_id      CHAR(36) NOT NULL REFERENCES users (id),
  tenant_id    CHAR(36) NOT NULL REFERENCES tenants (id),
  created_at   TEXT     NOT NULL,
  last_seen_at TEXT     NOT NULL,
  expires_at   TEXT     NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Which HMAC secrets the server has been configured with (hash only, never the secret).
CREATE TABLE hmac_secrets (
  id          CHAR(32) PRIMARY KEY,
  secret_hash CHAR(64) NOT NULL,
  created_at  TEXT     NOT NULL
);

CREATE TABLE api_keys (
  id           CHAR(36)     PRIMARY KEY,
  tenant_id    CHAR(36)     NOT NULL REFERENCES tenants (id),
  name         VARCHAR(128) NOT NULL,
  key_hash     CHAR(64)     NOT NULL,
  secret_id    CHAR(32)     NOT NULL,
  created_at   TEXT         NOT NULL,
  modified_at  TEXT         NOT NULL,
  last_used_at TEXT         NULL,
  revoked_at   TEXT         NULL,
  deleted_at   TEXT         NULL
);
CREATE UNIQUE INDEX api_keys_key_hash ON api_keys (key_hash);

-- scope_tags and or_groups hold the proto3 JSON mapping of the Rule fields.
CREATE TABLE rules (
  id          CHAR(36)      PRIMARY KEY,
  tenant_id   CHAR(36)      NOT NULL REFERENCES tenants (id),
  name        VARCHAR(128)  NOT NULL,
  description VARCHAR(1024) NOT NULL DEFAULT '',
  state       VARCHAR(32)   NOT NULL,
  action      VARCHAR(32)   NOT NULL,
  sample_rate REAL          NOT NULL DEFAULT 1.0,
  scope_tags  TEXT          NOT NULL,
  or_groups   TEXT          NOT NULL,
  created_at  TEXT          NOT NULL,
  modified_at TEXT          NOT NULL,
  deleted_at  TEXT          NULL
);
CREATE INDEX rules_tenant_state ON rules (tenant_id, state, deleted_at);

CREATE TABLE events (
  id               CHAR(36)     PRIMARY KEY,
  tenant_id        CHAR(36)     NOT NULL REFERENCES tenants (id),
  event_id         VARCHAR(255) NOT NULL,
  sensor_id        VARCHAR(255) NOT NULL DEFAULT '',
  api_key_id       CHAR(36)     NULL,
  payload          TEXT         NOT NULL,
  metadata         TEXT         NOT NULL,
  client_timestamp TEXT         NULL,
  received_at      TEXT         NOT NULL
);
CREATE UNIQUE INDEX events_tenant_event_id ON events (tenant_id, event_id);
CREATE INDEX events_tenant_received_at ON events (tenant_id, received_at);

-- One row per rule that matched (or failed to evaluate on) an event.
CREATE TABLE event_rule_matches (
  id         CHAR(36)     PRIMARY KEY,
  tenant_id  CHAR(36)     NOT NULL REFERENCES tenants (id),
  event_id   CHAR(36)     NOT NULL REFERENCES events (id),
  rule_id    CHAR(36)     NOT NULL,
  rule_name  VARCHAR(128) NOT NULL,
  action     VARCHAR(32)  NOT NULL,
  error      TEXT         NULL,
  created_at TEXT         NOT NULL
);
CREATE INDEX event_rule_matches_event_id ON event_rule_matches (event_id);
