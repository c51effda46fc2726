-- The portfolio gap kept by an instance is brought up to date after a write by computing again
-- only the customers the write may have changed, not the whole portfolio (seconds at 200,000
-- commitments). `gap_changes` holds, per customer, the report version of the last write that
-- may have changed its gap: its commitments, their criteria, the stage of a feature it was
-- promised, its deals (pilot) or itself (name). An instance holding the gap at version v
-- computes again the customers with a version above v. The triggers that move report_version
-- write it in the same statement, after moving the version, so the version a row carries is the
-- one its write moved the workspace to. Derived data: not in backups, rebuilt by the triggers as
-- a backup is restored.
CREATE TABLE gap_changes (
    workspace_id BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, customer_id)
);
CREATE INDEX gap_changes_version ON gap_changes (workspace_id, version);

-- Commitments and deals inserted or deleted: their customers.
CREATE FUNCTION cunjin_touch_gap() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH bumped AS (
        UPDATE workspaces SET report_version = report_version + 1
        WHERE id IN (SELECT DISTINCT workspace_id FROM changed)
        RETURNING id, report_version)
    INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT DISTINCT x.workspace_id, x.customer_id, b.report_version
    FROM (SELECT workspace_id, customer_id FROM changed) x JOIN bumped b ON b.id = x.workspace_id
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END $$;

-- Commitments and deals updated: their customers before and after.
CREATE FUNCTION cunjin_touch_gap_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH bumped AS (
        UPDATE workspaces SET report_version = report_version + 1
        WHERE id IN (SELECT DISTINCT workspace_id FROM changed)
        RETURNING id, report_version)
    INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT DISTINCT x.workspace_id, x.customer_id, b.report_version
    FROM (SELECT workspace_id, customer_id FROM changed UNION SELECT workspace_id, customer_id FROM before) x JOIN bumped b ON b.id = x.workspace_id
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END $$;

-- Criteria inserted or deleted: the customers of their commitments.
CREATE FUNCTION cunjin_touch_gap_criteria() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH bumped AS (
        UPDATE workspaces SET report_version = report_version + 1
        WHERE id IN (SELECT DISTINCT workspace_id FROM changed)
        RETURNING id, report_version)
    INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT DISTINCT x.workspace_id, x.customer_id, b.report_version
    FROM (SELECT k.workspace_id, c.customer_id FROM changed k JOIN commitments c ON c.id = k.commitment_id) x JOIN bumped b ON b.id = x.workspace_id
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END $$;

-- Criteria updated: the customers of their commitments before and after.
CREATE FUNCTION cunjin_touch_gap_criteria_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH bumped AS (
        UPDATE workspaces SET report_version = report_version + 1
        WHERE id IN (SELECT DISTINCT workspace_id FROM changed)
        RETURNING id, report_version)
    INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT DISTINCT x.workspace_id, x.customer_id, b.report_version
    FROM (SELECT k.workspace_id, c.customer_id FROM (SELECT workspace_id, commitment_id FROM changed UNION SELECT workspace_id, commitment_id FROM before) k JOIN commitments c ON c.id = k.commitment_id) x JOIN bumped b ON b.id = x.workspace_id
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END $$;

-- Features updated: the customers promised a feature whose stage changed (尺 or 寸).
CREATE FUNCTION cunjin_touch_gap_features_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH bumped AS (
        UPDATE workspaces SET report_version = report_version + 1
        WHERE id IN (SELECT DISTINCT workspace_id FROM changed)
        RETURNING id, report_version)
    INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT DISTINCT x.workspace_id, x.customer_id, b.report_version
    FROM (SELECT DISTINCT f.workspace_id, c.customer_id FROM changed f JOIN before o ON o.id = f.id JOIN commitments c ON c.feature_id = f.id WHERE o.stage IS DISTINCT FROM f.stage) x JOIN bumped b ON b.id = x.workspace_id
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END $$;

-- Customers inserted, updated or deleted: themselves.
CREATE FUNCTION cunjin_touch_gap_customers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH bumped AS (
        UPDATE workspaces SET report_version = report_version + 1
        WHERE id IN (SELECT DISTINCT workspace_id FROM changed)
        RETURNING id, report_version)
    INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT DISTINCT x.workspace_id, x.customer_id, b.report_version
    FROM (SELECT workspace_id, id AS customer_id FROM changed) x JOIN bumped b ON b.id = x.workspace_id
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END $$;

DROP TRIGGER commitments_touch_reports_ins ON commitments;
CREATE TRIGGER commitments_touch_reports_ins AFTER INSERT ON commitments
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_gap();
DROP TRIGGER commitments_touch_reports_upd ON commitments;
CREATE TRIGGER commitments_touch_reports_upd AFTER UPDATE ON commitments
    REFERENCING OLD TABLE AS before NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_gap_upd();
DROP TRIGGER commitments_touch_reports_del ON commitments;
CREATE TRIGGER commitments_touch_reports_del AFTER DELETE ON commitments
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_gap();

DROP TRIGGER criteria_touch_reports_ins ON criteria;
CREATE TRIGGER criteria_touch_reports_ins AFTER INSERT ON criteria
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_gap_criteria();
DROP TRIGGER criteria_touch_reports_upd ON criteria;
CREATE TRIGGER criteria_touch_reports_upd AFTER UPDATE ON criteria
    REFERENCING OLD TABLE AS before NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_gap_criteria_upd();
DROP TRIGGER criteria_touch_reports_del ON criteria;
CREATE TRIGGER criteria_touch_reports_del AFTER DELETE ON criteria
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_gap_criteria();

DROP TRIGGER customers_touch_reports_ins ON customers;
CREATE TRIGGER customers_touch_reports_ins AFTER INSERT ON customers
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_gap_customers();
DROP TRIGGER customers_touch_reports_upd ON customers;
CREATE TRIGGER customers_touch_reports_upd AFTER UPDATE ON customers
    REFERENCING OLD TABLE AS before NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_gap_customers();
DROP TRIGGER customers_touch_reports_del ON customers;
CREATE TRIGGER customers_touch_reports_del AFTER DELETE ON customers
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_gap_customers();

DROP TRIGGER deals_touch_reports_ins ON deals;
CREATE TRIGGER deals_touch_reports_ins AFTER INSERT ON deals
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_gap();
DROP TRIGGER deals_touch_reports_upd ON deals;
CREATE TRIGGER deals_touch_reports_upd AFTER UPDATE ON deals
    REFERENCING OLD TABLE AS before NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_gap_upd();
DROP TRIGGER deals_touch_reports_del ON deals;
CREATE TRIGGER deals_touch_reports_del AFTER DELETE ON deals
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_gap();

DROP TRIGGER features_touch_reports_upd ON features;
CREATE TRIGGER features_touch_reports_upd AFTER UPDATE ON features
    REFERENCING OLD TABLE AS before NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_gap_features_upd();
