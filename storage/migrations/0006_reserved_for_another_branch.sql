-- Placeholder on branch `blackbox` only: 0006 belongs to another helper's branch.
-- The migration runner refuses gaps, and this branch's own migration is 0008.
-- DELETE this file when merging the branch that brings the real 0006.
SELECT 1;
