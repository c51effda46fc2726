-- The portfolio gap and the roadmap add up every live promise of a workspace: seconds at the
-- largest vendor's scale. Each instance keeps the last result and recomputes only when
-- `report_version` has moved. Triggers move it in the same transaction as every write that can
-- change either report, whatever code path (API, import, restore, another instance) wrote it.
ALTER TABLE workspaces ADD COLUMN report_version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER commitments_touch_reports_ins AFTER INSERT ON commitments BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id; END;
CREATE TRIGGER commitments_touch_reports_upd AFTER UPDATE ON commitments BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id; END;
CREATE TRIGGER commitments_touch_reports_del AFTER DELETE ON commitments BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = OLD.workspace_id; END;

CREATE TRIGGER criteria_touch_reports_ins AFTER INSERT ON criteria BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id; END;
CREATE TRIGGER criteria_touch_reports_upd AFTER UPDATE ON criteria BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id; END;
CREATE TRIGGER criteria_touch_reports_del AFTER DELETE ON criteria BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = OLD.workspace_id; END;

CREATE TRIGGER features_touch_reports_ins AFTER INSERT ON features BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id; END;
CREATE TRIGGER features_touch_reports_upd AFTER UPDATE ON features BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id; END;
CREATE TRIGGER features_touch_reports_del AFTER DELETE ON features BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = OLD.workspace_id; END;

CREATE TRIGGER customers_touch_reports_ins AFTER INSERT ON customers BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id; END;
CREATE TRIGGER customers_touch_reports_upd AFTER UPDATE ON customers BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id; END;
CREATE TRIGGER customers_touch_reports_del AFTER DELETE ON customers BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = OLD.workspace_id; END;

CREATE TRIGGER deals_touch_reports_ins AFTER INSERT ON deals BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id; END;
CREATE TRIGGER deals_touch_reports_upd AFTER UPDATE ON deals BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id; END;
CREATE TRIGGER deals_touch_reports_del AFTER DELETE ON deals BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = OLD.workspace_id; END;

-- Requests count for the roadmap only through a feature or the original they duplicate: a new
-- request in the inbox (most of them) leaves the reports as they are.
CREATE TRIGGER requests_touch_reports_ins AFTER INSERT ON requests
WHEN NEW.feature_id IS NOT NULL OR NEW.duplicate_of IS NOT NULL BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id; END;
CREATE TRIGGER requests_touch_reports_upd AFTER UPDATE ON requests
WHEN NEW.feature_id IS NOT NULL OR NEW.duplicate_of IS NOT NULL
  OR OLD.feature_id IS NOT NULL OR OLD.duplicate_of IS NOT NULL BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id; END;
CREATE TRIGGER requests_touch_reports_del AFTER DELETE ON requests
WHEN OLD.feature_id IS NOT NULL OR OLD.duplicate_of IS NOT NULL BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = OLD.workspace_id; END;
