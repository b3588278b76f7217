-- Placeholder on branch `blackbox` only: 0007 belongs to another helper's branch.
-- The migration runner refuses gaps, and this branch's own migration is 0008.
-- DELETE this file when merging the branch that brings the real 0007.
SELECT 1;
