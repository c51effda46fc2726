-- The portfolio gap and the roadmap add up every live promise of a workspace: seconds at the
-- largest vendor's scale. Each instance keeps the last result and recomputes only when
-- `report_version` has moved. Triggers move it in the same transaction as every write that can
-- change either report, whatever code path (API, import, restore, another instance) wrote it.
-- Statement triggers with transition tables: a bulk insert of 20,000 rows moves it once.
ALTER TABLE workspaces ADD COLUMN report_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION cunjin_touch_reports() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workspaces SET report_version = report_version + 1
    WHERE id IN (SELECT DISTINCT workspace_id FROM changed);
    RETURN NULL;
END $$;

-- Requests count for the roadmap only through a feature or the original they duplicate: a new
-- request in the inbox (most of them) leaves the reports as they are.
CREATE FUNCTION cunjin_touch_reports_requests() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workspaces SET report_version = report_version + 1
    WHERE id IN (SELECT DISTINCT workspace_id FROM changed
                 WHERE feature_id IS NOT NULL OR duplicate_of IS NOT NULL);
    RETURN NULL;
END $$;

CREATE FUNCTION cunjin_touch_reports_requests_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workspaces SET report_version = report_version + 1
    WHERE id IN (SELECT DISTINCT workspace_id FROM changed
                 WHERE feature_id IS NOT NULL OR duplicate_of IS NOT NULL
                 UNION SELECT workspace_id FROM before
                 WHERE feature_id IS NOT NULL OR duplicate_of IS NOT NULL);
    RETURN NULL;
END $$;

CREATE TRIGGER commitments_touch_reports_ins AFTER INSERT ON commitments
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_reports();
CREATE TRIGGER commitments_touch_reports_upd AFTER UPDATE ON commitments
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_reports();
CREATE TRIGGER commitments_touch_reports_del AFTER DELETE ON commitments
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_reports();

CREATE TRIGGER criteria_touch_reports_ins AFTER INSERT ON criteria
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_reports();
CREATE TRIGGER criteria_touch_reports_upd AFTER UPDATE ON criteria
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_reports();
CREATE TRIGGER criteria_touch_reports_del AFTER DELETE ON criteria
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_reports();

CREATE TRIGGER features_touch_reports_ins AFTER INSERT ON features
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_reports();
CREATE TRIGGER features_touch_reports_upd AFTER UPDATE ON features
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_reports();
CREATE TRIGGER features_touch_reports_del AFTER DELETE ON features
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_reports();

CREATE TRIGGER customers_touch_reports_ins AFTER INSERT ON customers
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_reports();
CREATE TRIGGER customers_touch_reports_upd AFTER UPDATE ON customers
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_reports();
CREATE TRIGGER customers_touch_reports_del AFTER DELETE ON customers
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_reports();

CREATE TRIGGER deals_touch_reports_ins AFTER INSERT ON deals
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_reports();
CREATE TRIGGER deals_touch_reports_upd AFTER UPDATE ON deals
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_reports();
CREATE TRIGGER deals_touch_reports_del AFTER DELETE ON deals
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_reports();

CREATE TRIGGER requests_touch_reports_ins AFTER INSERT ON requests
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_reports_requests();
CREATE TRIGGER requests_touch_reports_upd AFTER UPDATE ON requests
    REFERENCING OLD TABLE AS before NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_reports_requests_upd();
CREATE TRIGGER requests_touch_reports_del AFTER DELETE ON requests
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION cunjin_touch_reports_requests();
