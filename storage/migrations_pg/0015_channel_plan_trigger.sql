-- PostgreSQL twin of storage/migrations/0015_channel_plan_trigger.sql: a youth's
-- channel decides which phone hours hold their check-in, so incremental planning (0014)
-- must see a channel change like a change of phone hours.
CREATE FUNCTION plan_channel_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO plan_changes (series_id)
    SELECT series_id FROM series_youths WHERE youth_code = NEW.youth_code;
    RETURN NULL;
END;
$$;
CREATE TRIGGER plan_channel_insert AFTER INSERT ON youth_channels
    FOR EACH ROW EXECUTE FUNCTION plan_channel_changed();

-- While no channel was chosen the default holds, and it changes when Telegram is linked
-- (a contact for the youth's pseudonym) or a pseudonym is given (a kiosk identity).
CREATE FUNCTION plan_contact_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO plan_changes (series_id)
    SELECT sy.series_id FROM series_youths sy JOIN youths y ON y.code = sy.youth_code
    WHERE y.pseudonym = NEW.pseudonym;
    RETURN NULL;
END;
$$;
CREATE TRIGGER plan_contact_insert AFTER INSERT ON contacts
    FOR EACH ROW EXECUTE FUNCTION plan_contact_changed();
CREATE TRIGGER plan_youth_pseudonym AFTER UPDATE OF pseudonym ON youths
    FOR EACH ROW WHEN (OLD.pseudonym IS DISTINCT FROM NEW.pseudonym)
    EXECUTE FUNCTION plan_youth_series_changed();
