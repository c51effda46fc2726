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
CREATE TABLE gap_changes (
    workspace_id INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, customer_id)
);
CREATE INDEX gap_changes_version ON gap_changes (workspace_id, version);
CREATE TABLE rank_changes (
    workspace_id INTEGER NOT NULL,
    feature_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, feature_id)
);
CREATE INDEX rank_changes_version ON rank_changes (workspace_id, version);

DROP TRIGGER commitments_touch_reports_ins;
CREATE TRIGGER commitments_touch_reports_ins AFTER INSERT ON commitments BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id;
    INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT NEW.workspace_id, x.id, w.report_version FROM workspaces w, (SELECT NEW.customer_id AS id) x
    WHERE w.id = NEW.workspace_id AND x.id IS NOT NULL
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = excluded.version;
    INSERT INTO rank_changes (workspace_id, feature_id, version)
    SELECT NEW.workspace_id, x.id, w.report_version FROM workspaces w, (SELECT NEW.feature_id AS id) x
    WHERE w.id = NEW.workspace_id AND x.id IS NOT NULL
    ON CONFLICT (workspace_id, feature_id) DO UPDATE SET version = excluded.version;
END;
DROP TRIGGER commitments_touch_reports_upd;
CREATE TRIGGER commitments_touch_reports_upd AFTER UPDATE ON commitments BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id;
    INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT NEW.workspace_id, x.id, w.report_version FROM workspaces w, (SELECT OLD.customer_id AS id UNION SELECT NEW.customer_id) x
    WHERE w.id = NEW.workspace_id AND x.id IS NOT NULL
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = excluded.version;
    INSERT INTO rank_changes (workspace_id, feature_id, version)
    SELECT NEW.workspace_id, x.id, w.report_version FROM workspaces w, (SELECT OLD.feature_id AS id UNION SELECT NEW.feature_id) x
    WHERE w.id = NEW.workspace_id AND x.id IS NOT NULL
    ON CONFLICT (workspace_id, feature_id) DO UPDATE SET version = excluded.version;
END;
DROP TRIGGER commitments_touch_reports_del;
CREATE TRIGGER commitments_touch_reports_del AFTER DELETE ON commitments BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = OLD.workspace_id;
    INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT OLD.workspace_id, x.id, w.report_version FROM workspaces w, (SELECT OLD.customer_id AS id) x
    WHERE w.id = OLD.workspace_id AND x.id IS NOT NULL
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = excluded.version;
    INSERT INTO rank_changes (workspace_id, feature_id, version)
    SELECT OLD.workspace_id, x.id, w.report_version FROM workspaces w, (SELECT OLD.feature_id AS id) x
    WHERE w.id = OLD.workspace_id AND x.id IS NOT NULL
    ON CONFLICT (workspace_id, feature_id) DO UPDATE SET version = excluded.version;
END;

-- Criteria count in 寸 only: the roadmap does not read them.
DROP TRIGGER criteria_touch_reports_ins;
CREATE TRIGGER criteria_touch_reports_ins AFTER INSERT ON criteria BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id;
    INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT NEW.workspace_id, x.id, w.report_version FROM workspaces w, (SELECT customer_id AS id FROM commitments WHERE id = NEW.commitment_id) x
    WHERE w.id = NEW.workspace_id AND x.id IS NOT NULL
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = excluded.version;
END;
DROP TRIGGER criteria_touch_reports_upd;
CREATE TRIGGER criteria_touch_reports_upd AFTER UPDATE ON criteria BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id;
    INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT NEW.workspace_id, x.id, w.report_version FROM workspaces w, (SELECT customer_id AS id FROM commitments WHERE id IN (OLD.commitment_id, NEW.commitment_id)) x
    WHERE w.id = NEW.workspace_id AND x.id IS NOT NULL
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = excluded.version;
END;
DROP TRIGGER criteria_touch_reports_del;
CREATE TRIGGER criteria_touch_reports_del AFTER DELETE ON criteria BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = OLD.workspace_id;
    INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT OLD.workspace_id, x.id, w.report_version FROM workspaces w, (SELECT customer_id AS id FROM commitments WHERE id = OLD.commitment_id) x
    WHERE w.id = OLD.workspace_id AND x.id IS NOT NULL
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = excluded.version;
END;

-- A feature's stage decides whether its promises count in 尺 or in 寸.
DROP TRIGGER features_touch_reports_ins;
CREATE TRIGGER features_touch_reports_ins AFTER INSERT ON features BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id;
    INSERT INTO rank_changes (workspace_id, feature_id, version)
    SELECT NEW.workspace_id, x.id, w.report_version FROM workspaces w, (SELECT NEW.id AS id) x
    WHERE w.id = NEW.workspace_id AND x.id IS NOT NULL
    ON CONFLICT (workspace_id, feature_id) DO UPDATE SET version = excluded.version;
END;
DROP TRIGGER features_touch_reports_upd;
CREATE TRIGGER features_touch_reports_upd AFTER UPDATE ON features BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id;
    INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT NEW.workspace_id, x.id, w.report_version FROM workspaces w, (SELECT DISTINCT customer_id AS id FROM commitments WHERE workspace_id = NEW.workspace_id AND feature_id = NEW.id AND OLD.stage IS NOT NEW.stage) x
    WHERE w.id = NEW.workspace_id AND x.id IS NOT NULL
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = excluded.version;
    INSERT INTO rank_changes (workspace_id, feature_id, version)
    SELECT NEW.workspace_id, x.id, w.report_version FROM workspaces w, (SELECT NEW.id AS id) x
    WHERE w.id = NEW.workspace_id AND x.id IS NOT NULL
    ON CONFLICT (workspace_id, feature_id) DO UPDATE SET version = excluded.version;
END;
DROP TRIGGER features_touch_reports_del;
CREATE TRIGGER features_touch_reports_del AFTER DELETE ON features BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = OLD.workspace_id;
    INSERT INTO rank_changes (workspace_id, feature_id, version)
    SELECT OLD.workspace_id, x.id, w.report_version FROM workspaces w, (SELECT OLD.id AS id) x
    WHERE w.id = OLD.workspace_id AND x.id IS NOT NULL
    ON CONFLICT (workspace_id, feature_id) DO UPDATE SET version = excluded.version;
END;

-- A customer's name and weight are read by the roadmap for the requests it made.
DROP TRIGGER customers_touch_reports_ins;
CREATE TRIGGER customers_touch_reports_ins AFTER INSERT ON customers BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id;
    INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT NEW.workspace_id, x.id, w.report_version FROM workspaces w, (SELECT NEW.id AS id) x
    WHERE w.id = NEW.workspace_id AND x.id IS NOT NULL
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = excluded.version;
END;
DROP TRIGGER customers_touch_reports_upd;
CREATE TRIGGER customers_touch_reports_upd AFTER UPDATE ON customers BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id;
    INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT NEW.workspace_id, x.id, w.report_version FROM workspaces w, (SELECT NEW.id AS id) x
    WHERE w.id = NEW.workspace_id AND x.id IS NOT NULL
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = excluded.version;
    INSERT INTO rank_changes (workspace_id, feature_id, version)
    SELECT NEW.workspace_id, x.id, w.report_version FROM workspaces w, (SELECT feature_id AS id FROM requests WHERE workspace_id = NEW.workspace_id AND customer_id = NEW.id AND feature_id IS NOT NULL UNION SELECT o.feature_id FROM requests r JOIN requests o ON o.id = r.duplicate_of WHERE r.workspace_id = NEW.workspace_id AND r.customer_id = NEW.id AND o.feature_id IS NOT NULL) x
    WHERE w.id = NEW.workspace_id AND x.id IS NOT NULL
    ON CONFLICT (workspace_id, feature_id) DO UPDATE SET version = excluded.version;
END;
DROP TRIGGER customers_touch_reports_del;
CREATE TRIGGER customers_touch_reports_del AFTER DELETE ON customers BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = OLD.workspace_id;
    INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT OLD.workspace_id, x.id, w.report_version FROM workspaces w, (SELECT OLD.id AS id) x
    WHERE w.id = OLD.workspace_id AND x.id IS NOT NULL
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = excluded.version;
END;

-- Whether any of a customer's deals is a pilot; a deal's value, for its promises' features.
DROP TRIGGER deals_touch_reports_ins;
CREATE TRIGGER deals_touch_reports_ins AFTER INSERT ON deals BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id;
    INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT NEW.workspace_id, x.id, w.report_version FROM workspaces w, (SELECT NEW.customer_id AS id) x
    WHERE w.id = NEW.workspace_id AND x.id IS NOT NULL
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = excluded.version;
END;
DROP TRIGGER deals_touch_reports_upd;
CREATE TRIGGER deals_touch_reports_upd AFTER UPDATE ON deals BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id;
    INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT NEW.workspace_id, x.id, w.report_version FROM workspaces w, (SELECT OLD.customer_id AS id UNION SELECT NEW.customer_id) x
    WHERE w.id = NEW.workspace_id AND x.id IS NOT NULL
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = excluded.version;
    INSERT INTO rank_changes (workspace_id, feature_id, version)
    SELECT NEW.workspace_id, x.id, w.report_version FROM workspaces w, (SELECT DISTINCT feature_id AS id FROM commitments WHERE deal_id IN (OLD.id, NEW.id)) x
    WHERE w.id = NEW.workspace_id AND x.id IS NOT NULL
    ON CONFLICT (workspace_id, feature_id) DO UPDATE SET version = excluded.version;
END;
DROP TRIGGER deals_touch_reports_del;
CREATE TRIGGER deals_touch_reports_del AFTER DELETE ON deals BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = OLD.workspace_id;
    INSERT INTO gap_changes (workspace_id, customer_id, version)
    SELECT OLD.workspace_id, x.id, w.report_version FROM workspaces w, (SELECT OLD.customer_id AS id) x
    WHERE w.id = OLD.workspace_id AND x.id IS NOT NULL
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET version = excluded.version;
    INSERT INTO rank_changes (workspace_id, feature_id, version)
    SELECT OLD.workspace_id, x.id, w.report_version FROM workspaces w, (SELECT DISTINCT feature_id AS id FROM commitments WHERE deal_id = OLD.id) x
    WHERE w.id = OLD.workspace_id AND x.id IS NOT NULL
    ON CONFLICT (workspace_id, feature_id) DO UPDATE SET version = excluded.version;
END;

-- Requests count for the roadmap only through a feature or the original they duplicate.
DROP TRIGGER requests_touch_reports_ins;
CREATE TRIGGER requests_touch_reports_ins AFTER INSERT ON requests
WHEN NEW.feature_id IS NOT NULL OR NEW.duplicate_of IS NOT NULL BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id;
    INSERT INTO rank_changes (workspace_id, feature_id, version)
    SELECT NEW.workspace_id, x.id, w.report_version FROM workspaces w, (SELECT NEW.feature_id AS id UNION SELECT feature_id FROM requests WHERE id = NEW.duplicate_of) x
    WHERE w.id = NEW.workspace_id AND x.id IS NOT NULL
    ON CONFLICT (workspace_id, feature_id) DO UPDATE SET version = excluded.version;
END;
DROP TRIGGER requests_touch_reports_upd;
CREATE TRIGGER requests_touch_reports_upd AFTER UPDATE ON requests
WHEN NEW.feature_id IS NOT NULL OR NEW.duplicate_of IS NOT NULL
  OR OLD.feature_id IS NOT NULL OR OLD.duplicate_of IS NOT NULL BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = NEW.workspace_id;
    INSERT INTO rank_changes (workspace_id, feature_id, version)
    SELECT NEW.workspace_id, x.id, w.report_version FROM workspaces w, (SELECT OLD.feature_id AS id UNION SELECT feature_id FROM requests WHERE id = OLD.duplicate_of UNION SELECT NEW.feature_id AS id UNION SELECT feature_id FROM requests WHERE id = NEW.duplicate_of) x
    WHERE w.id = NEW.workspace_id AND x.id IS NOT NULL
    ON CONFLICT (workspace_id, feature_id) DO UPDATE SET version = excluded.version;
END;
DROP TRIGGER requests_touch_reports_del;
CREATE TRIGGER requests_touch_reports_del AFTER DELETE ON requests
WHEN OLD.feature_id IS NOT NULL OR OLD.duplicate_of IS NOT NULL BEGIN
    UPDATE workspaces SET report_version = report_version + 1 WHERE id = OLD.workspace_id;
    INSERT INTO rank_changes (workspace_id, feature_id, version)
    SELECT OLD.workspace_id, x.id, w.report_version FROM workspaces w, (SELECT OLD.feature_id AS id UNION SELECT feature_id FROM requests WHERE id = OLD.duplicate_of) x
    WHERE w.id = OLD.workspace_id AND x.id IS NOT NULL
    ON CONFLICT (workspace_id, feature_id) DO UPDATE SET version = excluded.version;
END;
