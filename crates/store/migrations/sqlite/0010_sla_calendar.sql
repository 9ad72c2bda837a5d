-- SLA rules in hours, each on a clock: 'working_hours' (counted by the working calendar, the
-- settings document `work_calendar`) or 'around_the_clock' (24×7). Stored rules keep their
-- durations (minutes ÷ 60); urgent rules keep running around the clock (an urgent call is
-- promised in elapsed time), every other rule now counts working hours.
ALTER TABLE sla_rules ADD COLUMN clock TEXT NOT NULL DEFAULT 'working_hours';
ALTER TABLE sla_rules ADD COLUMN respond_hours REAL NOT NULL DEFAULT 2;
ALTER TABLE sla_rules ADD COLUMN arrive_hours REAL NOT NULL DEFAULT 24;
ALTER TABLE sla_rules ADD COLUMN resolve_hours REAL NOT NULL DEFAULT 72;
UPDATE sla_rules SET
    respond_hours = respond_minutes / 60.0,
    arrive_hours = arrive_minutes / 60.0,
    resolve_hours = resolve_minutes / 60.0,
    clock = CASE WHEN priority = 'urgent' THEN 'around_the_clock' ELSE 'working_hours' END;
ALTER TABLE sla_rules DROP COLUMN respond_minutes;
ALTER TABLE sla_rules DROP COLUMN arrive_minutes;
ALTER TABLE sla_rules DROP COLUMN resolve_minutes;
