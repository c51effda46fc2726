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
    workspace_id INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, customer_id)
);
CREATE INDEX gap_changes_version ON gap_changes (workspace_id, version);

DROP TRIGGER commitments_touch_reports_ins;
CREATE TRIGGER commitments_touch_reports_ins AFTER INSERT ON commitments BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id;
    INSERT OR REPLACE INTO gap_changes (workspace_id, customer_id, version)
    SELECT NEW.workspace_id, x.customer_id, w.report_version FROM workspaces w, (SELECT NEW.customer_id AS customer_id) x
    WHERE w.id = NEW.workspace_id AND x.customer_id IS NOT NULL;
END;
DROP TRIGGER commitments_touch_reports_upd;
CREATE TRIGGER commitments_touch_reports_upd AFTER UPDATE ON commitments BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id;
    INSERT OR REPLACE INTO gap_changes (workspace_id, customer_id, version)
    SELECT NEW.workspace_id, x.customer_id, w.report_version FROM workspaces w, (SELECT OLD.customer_id AS customer_id UNION SELECT NEW.customer_id) x
    WHERE w.id = NEW.workspace_id AND x.customer_id IS NOT NULL;
END;
DROP TRIGGER commitments_touch_reports_del;
CREATE TRIGGER commitments_touch_reports_del AFTER DELETE ON commitments BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = OLD.workspace_id;
    INSERT OR REPLACE INTO gap_changes (workspace_id, customer_id, version)
    SELECT OLD.workspace_id, x.customer_id, w.report_version FROM workspaces w, (SELECT OLD.customer_id AS customer_id) x
    WHERE w.id = OLD.workspace_id AND x.customer_id IS NOT NULL;
END;

DROP TRIGGER criteria_touch_reports_ins;
CREATE TRIGGER criteria_touch_reports_ins AFTER INSERT ON criteria BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id;
    INSERT OR REPLACE INTO gap_changes (workspace_id, customer_id, version)
    SELECT NEW.workspace_id, x.customer_id, w.report_version FROM workspaces w, (SELECT customer_id FROM commitments WHERE id = NEW.commitment_id) x
    WHERE w.id = NEW.workspace_id AND x.customer_id IS NOT NULL;
END;
DROP TRIGGER criteria_touch_reports_upd;
CREATE TRIGGER criteria_touch_reports_upd AFTER UPDATE ON criteria BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id;
    INSERT OR REPLACE INTO gap_changes (workspace_id, customer_id, version)
    SELECT NEW.workspace_id, x.customer_id, w.report_version FROM workspaces w, (SELECT customer_id FROM commitments WHERE id IN (OLD.commitment_id, NEW.commitment_id)) x
    WHERE w.id = NEW.workspace_id AND x.customer_id IS NOT NULL;
END;
DROP TRIGGER criteria_touch_reports_del;
CREATE TRIGGER criteria_touch_reports_del AFTER DELETE ON criteria BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = OLD.workspace_id;
    INSERT OR REPLACE INTO gap_changes (workspace_id, customer_id, version)
    SELECT OLD.workspace_id, x.customer_id, w.report_version FROM workspaces w, (SELECT customer_id FROM commitments WHERE id = OLD.commitment_id) x
    WHERE w.id = OLD.workspace_id AND x.customer_id IS NOT NULL;
END;

-- A feature's stage decides whether its promises count in 尺 or in 寸.
DROP TRIGGER features_touch_reports_upd;
CREATE TRIGGER features_touch_reports_upd AFTER UPDATE ON features BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id;
    INSERT OR REPLACE INTO gap_changes (workspace_id, customer_id, version)
    SELECT NEW.workspace_id, x.customer_id, w.report_version FROM workspaces w, (SELECT DISTINCT customer_id FROM commitments WHERE feature_id = NEW.id AND OLD.stage IS NOT NEW.stage) x
    WHERE w.id = NEW.workspace_id AND x.customer_id IS NOT NULL;
END;

DROP TRIGGER customers_touch_reports_ins;
CREATE TRIGGER customers_touch_reports_ins AFTER INSERT ON customers BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id;
    INSERT OR REPLACE INTO gap_changes (workspace_id, customer_id, version)
    SELECT NEW.workspace_id, x.customer_id, w.report_version FROM workspaces w, (SELECT NEW.id AS customer_id) x
    WHERE w.id = NEW.workspace_id AND x.customer_id IS NOT NULL;
END;
DROP TRIGGER customers_touch_reports_upd;
CREATE TRIGGER customers_touch_reports_upd AFTER UPDATE ON customers BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id;
    INSERT OR REPLACE INTO gap_changes (workspace_id, customer_id, version)
    SELECT NEW.workspace_id, x.customer_id, w.report_version FROM workspaces w, (SELECT NEW.id AS customer_id) x
    WHERE w.id = NEW.workspace_id AND x.customer_id IS NOT NULL;
END;
DROP TRIGGER customers_touch_reports_del;
CREATE TRIGGER customers_touch_reports_del AFTER DELETE ON customers BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = OLD.workspace_id;
    INSERT OR REPLACE INTO gap_changes (workspace_id, customer_id, version)
    SELECT OLD.workspace_id, x.customer_id, w.report_version FROM workspaces w, (SELECT OLD.id AS customer_id) x
    WHERE w.id = OLD.workspace_id AND x.customer_id IS NOT NULL;
END;

-- Whether any of a customer's deals is a pilot.
DROP TRIGGER deals_touch_reports_ins;
CREATE TRIGGER deals_touch_reports_ins AFTER INSERT ON deals BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id;
    INSERT OR REPLACE INTO gap_changes (workspace_id, customer_id, version)
    SELECT NEW.workspace_id, x.customer_id, w.report_version FROM workspaces w, (SELECT NEW.customer_id AS customer_id) x
    WHERE w.id = NEW.workspace_id AND x.customer_id IS NOT NULL;
END;
DROP TRIGGER deals_touch_reports_upd;
CREATE TRIGGER deals_touch_reports_upd AFTER UPDATE ON deals BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id;
    INSERT OR REPLACE INTO gap_changes (workspace_id, customer_id, version)
    SELECT NEW.workspace_id, x.customer_id, w.report_version FROM workspaces w, (SELECT OLD.customer_id AS customer_id UNION SELECT NEW.customer_id) x
    WHERE w.id = NEW.workspace_id AND x.customer_id IS NOT NULL;
END;
DROP TRIGGER deals_touch_reports_del;
CREATE TRIGGER deals_touch_reports_del AFTER DELETE ON deals BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = OLD.workspace_id;
    INSERT OR REPLACE INTO gap_changes (workspace_id, customer_id, version)
    SELECT OLD.workspace_id, x.customer_id, w.report_version FROM workspaces w, (SELECT OLD.customer_id AS customer_id) x
    WHERE w.id = OLD.workspace_id AND x.customer_id IS NOT NULL;
END;
