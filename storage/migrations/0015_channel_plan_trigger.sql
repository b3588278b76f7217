-- A youth's channel decides which phone hours hold their check-in (core.delivery.
-- phone_hours: a kiosk youth's check-in keeps quiet hours only). Incremental planning
-- (0014) must see a channel change like a change of phone hours: every series of the
-- youth is planned again on the next pass, and their pending rows take the new plan.
CREATE TRIGGER plan_channel_insert AFTER INSERT ON youth_channels BEGIN
    INSERT INTO plan_changes (series_id)
    SELECT series_id FROM series_youths WHERE youth_code = NEW.youth_code;
END;

-- While no channel was chosen the default holds, and it changes when Telegram is linked
-- (a contact for the youth's pseudonym) or a pseudonym is given (a kiosk identity).
CREATE TRIGGER plan_contact_insert AFTER INSERT ON contacts BEGIN
    INSERT INTO plan_changes (series_id)
    SELECT sy.series_id FROM series_youths sy JOIN youths y ON y.code = sy.youth_code
    WHERE y.pseudonym = NEW.pseudonym;
END;
CREATE TRIGGER plan_youth_pseudonym AFTER UPDATE OF pseudonym ON youths
WHEN OLD.pseudonym IS NOT NEW.pseudonym BEGIN
    INSERT INTO plan_changes (series_id)
    SELECT series_id FROM series_youths WHERE youth_code = NEW.code;
END;
