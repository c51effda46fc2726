-- After a write, the portfolio gap and the roadmap kept by an instance are brought up to date by
-- computing again only what the write may have changed, not the whole workspace (seconds at
-- 200,000 commitments):
--   gap_changes   per customer, the report version of the last write that may have changed its
--                 gap: its commitments, their criteria, the stage of a feature it was promised,
--                 its deals (pilot) or itself (name);
--   rank_changes  per feature, the report version of the last write that may have changed what
--                 its score reads: its commitments, the deals they are on (contract value), the
--                 feature itself, the requests that ask for it (or duplicate one that does) and
--                 the customers asking (name, weight).
-- An instance holding a report at version v computes again the customers or features with a
-- version above v. The triggers that move report_version write them in the same statement,
-- after moving the version, so the version a row carries is the one its write moved the
-- workspace to. Derived data: not in backups, written again by the triggers as a backup is
-- restored.
-- Each function moves the version in one statement, then logs in a second one: under READ
-- COMMITTED a statement reads a snapshot taken when it starts, and the first one may wait for
-- the workspace row (another write holding it); the second starts after that write committed,
-- so its lookups (a feature's promises, a customer's requests…) see it.
CREATE TABLE gap_changes (
    workspace_id BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, customer_id)
);
CREATE INDEX gap_changes_version ON gap_changes (workspace_id, version);
CREATE TABLE rank_changes (
    workspace_id BIGINT NOT NULL,
    feature_id BIGINT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, feature_id)
);
CREATE INDEX rank_changes_version ON rank_changes (workspace_id, version);

-- Commitments inserted or deleted: their customers and features.
CREATE FUNCTION cunjin_touch_commitments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workspaces SET report_version = report_version + 1
    WHERE id IN (SELECT workspace_id FROM changed);
    WITH bumped AS (SELECT id, report_version FROM workspaces WHERE id IN (SELECT workspace_id FROM changed)),
    gap AS (INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT DISTINCT x.workspace_id, x.id, b.report_version
    FROM (SELECT workspace_id, customer_id AS id FROM changed) x JOIN bumped b ON b.id = x.workspace_id WHERE x.id IS NOT NULL
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = EXCLUDED.version)
    INSERT INTO rank_changes (workspace_id, feature_id, version)
    SELECT DISTINCT x.workspace_id, x.id, b.report_version
    FROM (SELECT workspace_id, feature_id AS id FROM changed) x JOIN bumped b ON b.id = x.workspace_id WHERE x.id IS NOT NULL
    ON CONFLICT (workspace_id, feature_id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END $$;

-- Commitments updated: their customers and features, before and after.
CREATE FUNCTION cunjin_touch_commitments_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workspaces SET report_version = report_version + 1
    WHERE id IN (SELECT workspace_id FROM changed);
    WITH bumped AS (SELECT id, report_version FROM workspaces WHERE id IN (SELECT workspace_id FROM changed)),
    gap AS (INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT DISTINCT x.workspace_id, x.id, b.report_version
    FROM (SELECT workspace_id, customer_id AS id FROM changed UNION SELECT workspace_id, customer_id AS id FROM before) x JOIN bumped b ON b.id = x.workspace_id WHERE x.id IS NOT NULL
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = EXCLUDED.version)
    INSERT INTO rank_changes (workspace_id, feature_id, version)
    SELECT DISTINCT x.workspace_id, x.id, b.report_version
    FROM (SELECT workspace_id, feature_id AS id FROM changed UNION SELECT workspace_id, feature_id AS id FROM before) x JOIN bumped b ON b.id = x.workspace_id WHERE x.id IS NOT NULL
    ON CONFLICT (workspace_id, feature_id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END $$;

-- Criteria inserted or deleted: the customers of their commitments (the roadmap does not read criteria).
CREATE FUNCTION cunjin_touch_criteria() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workspaces SET report_version = report_version + 1
    WHERE id IN (SELECT workspace_id FROM changed);
    WITH bumped AS (SELECT id, report_version FROM workspaces WHERE id IN (SELECT workspace_id FROM changed))
    INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT DISTINCT x.workspace_id, x.id, b.report_version
    FROM (SELECT k.workspace_id, c.customer_id AS id FROM changed k JOIN commitments c ON c.id = k.commitment_id) x JOIN bumped b ON b.id = x.workspace_id WHERE x.id IS NOT NULL
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END $$;

-- Criteria updated: the customers of their commitments, before and after.
CREATE FUNCTION cunjin_touch_criteria_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workspaces SET report_version = report_version + 1
    WHERE id IN (SELECT workspace_id FROM changed);
    WITH bumped AS (SELECT id, report_version FROM workspaces WHERE id IN (SELECT workspace_id FROM changed))
    INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT DISTINCT x.workspace_id, x.id, b.report_version
    FROM (SELECT k.workspace_id, c.customer_id AS id FROM (SELECT workspace_id, commitment_id FROM changed UNION SELECT workspace_id, commitment_id FROM before) k JOIN commitments c ON c.id = k.commitment_id) x JOIN bumped b ON b.id = x.workspace_id WHERE x.id IS NOT NULL
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END $$;

-- Features inserted or deleted: themselves.
CREATE FUNCTION cunjin_touch_features() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workspaces SET report_version = report_version + 1
    WHERE id IN (SELECT workspace_id FROM changed);
    WITH bumped AS (SELECT id, report_version FROM workspaces WHERE id IN (SELECT workspace_id FROM changed))
    INSERT INTO rank_changes (workspace_id, feature_id, version)
    SELECT DISTINCT x.workspace_id, x.id, b.report_version
    FROM (SELECT workspace_id, id FROM changed) x JOIN bumped b ON b.id = x.workspace_id WHERE x.id IS NOT NULL
    ON CONFLICT (workspace_id, feature_id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END $$;

-- Features updated: themselves, and the customers promised one whose stage changed (尺 or 寸).
CREATE FUNCTION cunjin_touch_features_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workspaces SET report_version = report_version + 1
    WHERE id IN (SELECT workspace_id FROM changed);
    WITH bumped AS (SELECT id, report_version FROM workspaces WHERE id IN (SELECT workspace_id FROM changed)),
    gap AS (INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT DISTINCT x.workspace_id, x.id, b.report_version
    FROM (SELECT f.workspace_id, c.customer_id AS id FROM changed f JOIN before o ON o.id = f.id JOIN commitments c ON c.workspace_id = f.workspace_id AND c.feature_id = f.id WHERE o.stage IS DISTINCT FROM f.stage) x JOIN bumped b ON b.id = x.workspace_id WHERE x.id IS NOT NULL
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = EXCLUDED.version)
    INSERT INTO rank_changes (workspace_id, feature_id, version)
    SELECT DISTINCT x.workspace_id, x.id, b.report_version
    FROM (SELECT workspace_id, id FROM changed) x JOIN bumped b ON b.id = x.workspace_id WHERE x.id IS NOT NULL
    ON CONFLICT (workspace_id, feature_id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END $$;

-- Customers inserted or deleted: themselves.
CREATE FUNCTION cunjin_touch_customers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workspaces SET report_version = report_version + 1
    WHERE id IN (SELECT workspace_id FROM changed);
    WITH bumped AS (SELECT id, report_version FROM workspaces WHERE id IN (SELECT workspace_id FROM changed))
    INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT DISTINCT x.workspace_id, x.id, b.report_version
    FROM (SELECT workspace_id, id FROM changed) x JOIN bumped b ON b.id = x.workspace_id WHERE x.id IS NOT NULL
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END $$;

-- Customers updated: themselves, and the features they ask for (name and weight).
CREATE FUNCTION cunjin_touch_customers_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workspaces SET report_version = report_version + 1
    WHERE id IN (SELECT workspace_id FROM changed);
    WITH bumped AS (SELECT id, report_version FROM workspaces WHERE id IN (SELECT workspace_id FROM changed)),
    gap AS (INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT DISTINCT x.workspace_id, x.id, b.report_version
    FROM (SELECT workspace_id, id FROM changed) x JOIN bumped b ON b.id = x.workspace_id WHERE x.id IS NOT NULL
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = EXCLUDED.version)
    INSERT INTO rank_changes (workspace_id, feature_id, version)
    SELECT DISTINCT x.workspace_id, x.id, b.report_version
    FROM (SELECT r.workspace_id, r.feature_id AS id FROM requests r JOIN changed c ON r.workspace_id = c.workspace_id AND r.customer_id = c.id UNION SELECT r.workspace_id, o.feature_id FROM requests r JOIN changed c ON r.workspace_id = c.workspace_id AND r.customer_id = c.id JOIN requests o ON o.id = r.duplicate_of) x JOIN bumped b ON b.id = x.workspace_id WHERE x.id IS NOT NULL
    ON CONFLICT (workspace_id, feature_id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END $$;

-- Deals inserted or deleted: their customers (pilot) and the features promised on them.
CREATE FUNCTION cunjin_touch_deals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workspaces SET report_version = report_version + 1
    WHERE id IN (SELECT workspace_id FROM changed);
    WITH bumped AS (SELECT id, report_version FROM workspaces WHERE id IN (SELECT workspace_id FROM changed)),
    gap AS (INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT DISTINCT x.workspace_id, x.id, b.report_version
    FROM (SELECT workspace_id, customer_id AS id FROM changed) x JOIN bumped b ON b.id = x.workspace_id WHERE x.id IS NOT NULL
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = EXCLUDED.version)
    INSERT INTO rank_changes (workspace_id, feature_id, version)
    SELECT DISTINCT x.workspace_id, x.id, b.report_version
    FROM (SELECT c.workspace_id, c.feature_id AS id FROM commitments c JOIN changed d ON d.id = c.deal_id) x JOIN bumped b ON b.id = x.workspace_id WHERE x.id IS NOT NULL
    ON CONFLICT (workspace_id, feature_id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END $$;

-- Deals updated: their customers before and after, and the features promised on them.
CREATE FUNCTION cunjin_touch_deals_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workspaces SET report_version = report_version + 1
    WHERE id IN (SELECT workspace_id FROM changed);
    WITH bumped AS (SELECT id, report_version FROM workspaces WHERE id IN (SELECT workspace_id FROM changed)),
    gap AS (INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT DISTINCT x.workspace_id, x.id, b.report_version
    FROM (SELECT workspace_id, customer_id AS id FROM changed UNION SELECT workspace_id, customer_id AS id FROM before) x JOIN bumped b ON b.id = x.workspace_id WHERE x.id IS NOT NULL
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = EXCLUDED.version)
    INSERT INTO rank_changes (workspace_id, feature_id, version)
    SELECT DISTINCT x.workspace_id, x.id, b.report_version
    FROM (SELECT c.workspace_id, c.feature_id AS id FROM commitments c JOIN changed d ON d.id = c.deal_id) x JOIN bumped b ON b.id = x.workspace_id WHERE x.id IS NOT NULL
    ON CONFLICT (workspace_id, feature_id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END $$;

-- Requests naming a feature or duplicating one, inserted or deleted: the features they count for (a request in the inbox moves nothing).
CREATE FUNCTION cunjin_touch_requests() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workspaces SET report_version = report_version + 1
    WHERE id IN (SELECT workspace_id FROM (SELECT workspace_id, feature_id, duplicate_of FROM changed WHERE feature_id IS NOT NULL OR duplicate_of IS NOT NULL) r);
    WITH bumped AS (SELECT id, report_version FROM workspaces WHERE id IN (SELECT workspace_id FROM (SELECT workspace_id, feature_id, duplicate_of FROM changed WHERE feature_id IS NOT NULL OR duplicate_of IS NOT NULL) r))
    INSERT INTO rank_changes (workspace_id, feature_id, version)
    SELECT DISTINCT x.workspace_id, x.id, b.report_version
    FROM (SELECT r.workspace_id, r.feature_id AS id FROM (SELECT workspace_id, feature_id, duplicate_of FROM changed WHERE feature_id IS NOT NULL OR duplicate_of IS NOT NULL) r UNION SELECT r.workspace_id, o.feature_id FROM (SELECT workspace_id, feature_id, duplicate_of FROM changed WHERE feature_id IS NOT NULL OR duplicate_of IS NOT NULL) r JOIN requests o ON o.id = r.duplicate_of) x JOIN bumped b ON b.id = x.workspace_id WHERE x.id IS NOT NULL
    ON CONFLICT (workspace_id, feature_id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END $$;

-- Requests naming a feature or duplicating one, updated: the features they count for, before and after.
CREATE FUNCTION cunjin_touch_requests_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workspaces SET report_version = report_version + 1
    WHERE id IN (SELECT workspace_id FROM (SELECT workspace_id, feature_id, duplicate_of FROM changed WHERE feature_id IS NOT NULL OR duplicate_of IS NOT NULL UNION SELECT workspace_id, feature_id, duplicate_of FROM before WHERE feature_id IS NOT NULL OR duplicate_of IS NOT NULL) r);
    WITH bumped AS (SELECT id, report_version FROM workspaces WHERE id IN (SELECT workspace_id FROM (SELECT workspace_id, feature_id, duplicate_of FROM changed WHERE feature_id IS NOT NULL OR duplicate_of IS NOT NULL UNION SELECT workspace_id, feature_id, duplicate_of FROM before WHERE feature_id IS NOT NULL OR duplicate_of IS NOT NULL) r))
    INSERT INTO rank_changes (workspace_id, feature_id, version)
    SELECT DISTINCT x.workspace_id, x.id, b.report_version
    FROM (SELECT r.workspace_id, r.feature_id AS id FROM (SELECT workspace_id, feature_id, duplicate_of FROM changed WHERE feature_id IS NOT NULL OR duplicate_of IS NOT NULL UNION SELECT workspace_id, feature_id, duplicate_of FROM before WHERE feature_id IS NOT NULL OR duplicate_of IS NOT NULL) r UNION SELECT r.workspace_id, o.feature_id FROM (SELECT workspace_id, feature_id, duplicate_of FROM changed WHERE feature_id IS NOT NULL OR duplicate_of IS NOT NULL UNION SELECT workspace_id, feature_id, duplicate_of FROM before WHERE feature_id IS NOT NULL OR duplicate_of IS NOT NULL) r JOIN requests o ON o.id = r.duplicate_of) x JOIN bumped b ON b.id = x.workspace_id WHERE x.id IS NOT NULL
    ON CONFLICT (workspace_id, feature_id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END $$;

DROP TRIGGER commitments_touch_reports_ins ON commitments;
CREATE TRIGGER commitments_touch_reports_ins AFTER INSERT ON commitments
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_commitments();
DROP TRIGGER commitments_touch_reports_upd ON commitments;
CREATE TRIGGER commitments_touch_reports_upd AFTER UPDATE ON commitments
    REFERENCING OLD TABLE AS before NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_commitments_upd();
DROP TRIGGER commitments_touch_reports_del ON commitments;
CREATE TRIGGER commitments_touch_reports_del AFTER DELETE ON commitments
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_commitments();

DROP TRIGGER criteria_touch_reports_ins ON criteria;
CREATE TRIGGER criteria_touch_reports_ins AFTER INSERT ON criteria
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_criteria();
DROP TRIGGER criteria_touch_reports_upd ON criteria;
CREATE TRIGGER criteria_touch_reports_upd AFTER UPDATE ON criteria
    REFERENCING OLD TABLE AS before NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_criteria_upd();
DROP TRIGGER criteria_touch_reports_del ON criteria;
CREATE TRIGGER criteria_touch_reports_del AFTER DELETE ON criteria
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_criteria();

DROP TRIGGER features_touch_reports_ins ON features;
CREATE TRIGGER features_touch_reports_ins AFTER INSERT ON features
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_features();
DROP TRIGGER features_touch_reports_upd ON features;
CREATE TRIGGER features_touch_reports_upd AFTER UPDATE ON features
    REFERENCING OLD TABLE AS before NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_features_upd();
DROP TRIGGER features_touch_reports_del ON features;
CREATE TRIGGER features_touch_reports_del AFTER DELETE ON features
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_features();

DROP TRIGGER customers_touch_reports_ins ON customers;
CREATE TRIGGER customers_touch_reports_ins AFTER INSERT ON customers
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_customers();
DROP TRIGGER customers_touch_reports_upd ON customers;
CREATE TRIGGER customers_touch_reports_upd AFTER UPDATE ON customers
    REFERENCING OLD TABLE AS before NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_customers_upd();
DROP TRIGGER customers_touch_reports_del ON customers;
CREATE TRIGGER customers_touch_reports_del AFTER DELETE ON customers
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_customers();

DROP TRIGGER deals_touch_reports_ins ON deals;
CREATE TRIGGER deals_touch_reports_ins AFTER INSERT ON deals
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_deals();
DROP TRIGGER deals_touch_reports_upd ON deals;
CREATE TRIGGER deals_touch_reports_upd AFTER UPDATE ON deals
    REFERENCING OLD TABLE AS before NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_deals_upd();
DROP TRIGGER deals_touch_reports_del ON deals;
CREATE TRIGGER deals_touch_reports_del AFTER DELETE ON deals
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_deals();

DROP TRIGGER requests_touch_reports_ins ON requests;
CREATE TRIGGER requests_touch_reports_ins AFTER INSERT ON requests
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_requests();
DROP TRIGGER requests_touch_reports_upd ON requests;
CREATE TRIGGER requests_touch_reports_upd AFTER UPDATE ON requests
    REFERENCING OLD TABLE AS before NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_requests_upd();
DROP TRIGGER requests_touch_reports_del ON requests;
CREATE TRIGGER requests_touch_reports_del AFTER DELETE ON requests
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_requests();

-- Replaced by the functions above.
DROP FUNCTION cunjin_touch_reports();
DROP FUNCTION cunjin_touch_reports_requests();
DROP FUNCTION cunjin_touch_reports_requests_upd();
