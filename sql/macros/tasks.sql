-- How the follow-up tasks (marts.tasks, sql/marts/tasks.sql) are named to a clerk.
CREATE OR REPLACE MACRO task_kind_cn(kind) AS
    CASE kind WHEN 'verify' THEN '走访核查' WHEN 'deregister' THEN '注销核查' WHEN 'assistance' THEN '救助核查' END;

-- 办理中 / 已逾期 (open, past its overdue days) / 已办结, as of the tasks' D
CREATE OR REPLACE MACRO task_state_cn(state, overdue) AS
    CASE WHEN state = 'closed' THEN '已办结' WHEN overdue THEN '已逾期' ELSE '办理中' END;
