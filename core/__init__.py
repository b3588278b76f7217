"""The pure core: questionnaire flow, scoring, pseudonyms, consent and crisis rules.

Nothing in this package imports Telegram, SQLite or a clock. Every function takes the
current time as an argument where it needs one, so the rules are table-testable.
"""
