-- PostgreSQL twin of storage/migrations/0011_guardian_research_consent.sql: research
-- consent below 16 needs a guardian's research consent of its own (issue 11).
ALTER TABLE youths ADD COLUMN guardian_research_consent_date TEXT;
