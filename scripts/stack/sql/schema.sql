-- Legacy user schema captured by Debezium (applied by up.sh as the application role; idempotent).
-- Shaped like an old monolith's tables: free-text phones, mixed-case emails, status strings,
-- a numeric customer number, a large free-text bio (TOASTed when big).

CREATE TABLE IF NOT EXISTS public.users (
    id                  bigserial PRIMARY KEY,
    username            text        NOT NULL,
    email               text,
    email_verified      boolean     NOT NULL DEFAULT false,
    phone               text,                       -- E.164 or whatever the old UI accepted
    phone_verified      boolean     NOT NULL DEFAULT false,
    given_name          text,
    family_name         text,
    locale              text,                       -- e.g. 'en-US', 'fr_FR', 'ja'
    status              text        NOT NULL DEFAULT 'active',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    loyalty_tier        text,                       -- 'bronze','silver','gold','platinum'
    marketing_opt_in    boolean     NOT NULL DEFAULT false,
    legacy_customer_no  numeric(12,0),
    birthdate           date,
    bio                 text,                       -- may be large: TOAST
    last_login_at       timestamptz,
    password_hash       text,                       -- e.g. '$2b$10$...' bcrypt
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_status_check CHECK (status IN ('active','suspended','locked','deleted_pending','pending_verification')),
    CONSTRAINT users_loyalty_tier_check CHECK (loyalty_tier IS NULL OR loyalty_tier IN ('bronze','silver','gold','platinum'))
);

-- emails are not unique in the legacy data (duplicates differ by case); the index is for lookups
CREATE INDEX IF NOT EXISTS users_email_lower_idx ON public.users (lower(email));
CREATE INDEX IF NOT EXISTS users_updated_at_idx ON public.users (updated_at);

-- Keep TOASTed, unchanged columns out of the update events (REPLICA IDENTITY DEFAULT), so
-- Debezium emits its unavailable-value placeholder for them: the sync must never write it.
ALTER TABLE public.users REPLICA IDENTITY DEFAULT;
-- Force big bios out of line even when they compress well.
ALTER TABLE public.users ALTER COLUMN bio SET STORAGE EXTERNAL;

CREATE TABLE IF NOT EXISTS public.user_roles (
    user_id     bigint      NOT NULL REFERENCES public.users (id) ON DELETE CASCADE ON UPDATE CASCADE,
    role        text        NOT NULL,
    granted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, role)
);
ALTER TABLE public.user_roles REPLICA IDENTITY DEFAULT;

-- Debezium signalling table (incremental snapshots: INSERT a row of type 'execute-snapshot').
CREATE TABLE IF NOT EXISTS public.debezium_signal (
    id    varchar(64) PRIMARY KEY,
    type  varchar(32) NOT NULL,
    data  varchar(2048)
);

-- updated_at maintained by the database, as the legacy app relied on.
CREATE OR REPLACE FUNCTION public.users_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS users_touch_updated_at ON public.users;
CREATE TRIGGER users_touch_updated_at BEFORE UPDATE ON public.users
    FOR EACH ROW EXECUTE FUNCTION public.users_touch_updated_at();
