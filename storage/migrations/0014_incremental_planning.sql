-- Incremental planning (issue 16): a pass plans only series that changed since the last
-- pass, plus sessions newly inside the horizon, instead of all of them every 10 minutes.
--
-- plan_marks: how far each series is planned, under which delivery rules, and when its
-- next session starts (the pass picks the series up once that enters the horizon).
-- A series without a mark is planned in full. No foreign key: triggers below write here
-- while a series is being deleted.
CREATE TABLE plan_marks (
    series_id      INTEGER PRIMARY KEY,
    rules          TEXT NOT NULL,
    planned_until  TEXT NOT NULL,
    next_start     TEXT
);

-- plan_changes: one row per series whose plan an edit may have changed, written by the
-- triggers below, so every writer (bot, command line, web console, plain SQL) is seen.
-- The planner deletes the rows it has planned past, in the transaction that stores the
-- rows; an edit made during a pass gets a newer id and is planned by the next pass.
CREATE TABLE plan_changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    series_id  INTEGER NOT NULL
);
CREATE INDEX plan_changes_series ON plan_changes (series_id);

CREATE TRIGGER plan_series_insert AFTER INSERT ON series BEGIN
    DELETE FROM plan_marks WHERE series_id = NEW.id;
END;
CREATE TRIGGER plan_series_update AFTER UPDATE ON series BEGIN
    INSERT INTO plan_changes (series_id) VALUES (NEW.id);
END;
CREATE TRIGGER plan_series_delete AFTER DELETE ON series BEGIN
    DELETE FROM plan_marks WHERE series_id = OLD.id;
END;

CREATE TRIGGER plan_members_insert AFTER INSERT ON series_youths BEGIN
    INSERT INTO plan_changes (series_id) VALUES (NEW.series_id);
END;
CREATE TRIGGER plan_members_update AFTER UPDATE ON series_youths BEGIN
    INSERT INTO plan_changes (series_id) VALUES (OLD.series_id);
    INSERT INTO plan_changes (series_id) VALUES (NEW.series_id);
END;
CREATE TRIGGER plan_members_delete AFTER DELETE ON series_youths BEGIN
    INSERT INTO plan_changes (series_id) VALUES (OLD.series_id);
END;

CREATE TRIGGER plan_changes_insert AFTER INSERT ON series_changes BEGIN
    INSERT INTO plan_changes (series_id) VALUES (NEW.series_id);
END;
CREATE TRIGGER plan_changes_update AFTER UPDATE ON series_changes BEGIN
    INSERT INTO plan_changes (series_id) VALUES (OLD.series_id);
    INSERT INTO plan_changes (series_id) VALUES (NEW.series_id);
END;
CREATE TRIGGER plan_changes_delete AFTER DELETE ON series_changes BEGIN
    INSERT INTO plan_changes (series_id) VALUES (OLD.series_id);
END;

-- Phone hours: every series of the youth, or of every youth in the unit.
CREATE TRIGGER plan_windows_insert AFTER INSERT ON phone_windows BEGIN
    INSERT INTO plan_changes (series_id)
    SELECT DISTINCT sy.series_id FROM series_youths sy LEFT JOIN youths y ON y.code = sy.youth_code
    WHERE (NEW.scope = 'youth' AND sy.youth_code = NEW.scope_code)
       OR (NEW.scope = 'unit' AND y.unit = NEW.scope_code);
END;
CREATE TRIGGER plan_windows_update AFTER UPDATE ON phone_windows BEGIN
    INSERT INTO plan_changes (series_id)
    SELECT DISTINCT sy.series_id FROM series_youths sy LEFT JOIN youths y ON y.code = sy.youth_code
    WHERE (OLD.scope = 'youth' AND sy.youth_code = OLD.scope_code)
       OR (OLD.scope = 'unit' AND y.unit = OLD.scope_code)
       OR (NEW.scope = 'youth' AND sy.youth_code = NEW.scope_code)
       OR (NEW.scope = 'unit' AND y.unit = NEW.scope_code);
END;
CREATE TRIGGER plan_windows_delete AFTER DELETE ON phone_windows BEGIN
    INSERT INTO plan_changes (series_id)
    SELECT DISTINCT sy.series_id FROM series_youths sy LEFT JOIN youths y ON y.code = sy.youth_code
    WHERE (OLD.scope = 'youth' AND sy.youth_code = OLD.scope_code)
       OR (OLD.scope = 'unit' AND y.unit = OLD.scope_code);
END;

-- A youth who moves to another unit gets that unit's phone hours.
CREATE TRIGGER plan_youth_unit AFTER UPDATE OF unit ON youths
WHEN OLD.unit IS NOT NEW.unit BEGIN
    INSERT INTO plan_changes (series_id)
    SELECT series_id FROM series_youths WHERE youth_code = NEW.code;
END;
