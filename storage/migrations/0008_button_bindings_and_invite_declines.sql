-- Buttons are bound to the message they were sent on: each message with buttons gets a
-- random nonce, recorded with the message id once Telegram confirmed the send (NULL when
-- the send timed out: the first tap then binds it). No Telegram id is stored: message
-- ids are per chat, and the buttons' MAC already covers the chat.
CREATE TABLE button_messages (
    nonce       TEXT PRIMARY KEY,
    message_id  INTEGER,
    created_at  TEXT NOT NULL
);

-- "Not now" at the invite is a consent decision too. It is tied to the youth's code
-- only: no account is linked, and no pseudonym of the Telegram account is kept.
CREATE TABLE invite_declines (
    id            INTEGER PRIMARY KEY,
    youth_code    TEXT NOT NULL REFERENCES youths (code),
    text_version  TEXT NOT NULL,
    text_sha256   TEXT NOT NULL,
    language      TEXT NOT NULL,
    decided_at    TEXT NOT NULL
);
CREATE INDEX invite_declines_by_code ON invite_declines (youth_code, id);
