-- When a pull set is known to be complete (its page left nothing behind) for a role
-- and areas, a pull that finds them unchanged and no entity changed since its cursor
-- has nothing to compare.
ALTER TABLE pull_sets ADD COLUMN view text NOT NULL DEFAULT '';
ALTER TABLE pull_sets ADD COLUMN complete boolean NOT NULL DEFAULT false;
