-- Research consent below 16 needs a guardian's research consent of its own (issue 11):
-- the date the coordinator recorded it, at enrolment or later.
ALTER TABLE youths ADD COLUMN guardian_research_consent_date TEXT;
