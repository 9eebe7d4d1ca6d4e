-- The board filtered by status, in schedule order, straight from an index: without
-- it the planner walks the schedule index and drops the other statuses, which for a
-- status whose jobs sort late (unscheduled ones have no date and come last) reads
-- most of the jobs for the first page (bench/console.py: 92,000 rows at 100,000 jobs).
CREATE INDEX entities_job_status_schedule_idx
    ON entities ((data ->> 'status'), job_schedule_key(data ->> 'scheduled_date'), id)
    WHERE entity = 'job' AND NOT deleted;
