-- Customer Portal: ERP customer names, portable SQL (SQLite and PostgreSQL).
--
-- Same logic as deacom_customers.sql: every customer (dmpr1.p1_name) that owns at least one
-- part (dmprod.pr_user5), trimmed, one column called name. Customers without stock today are
-- included so an administrator can link an account before goods arrive. The portal sorts the
-- names and drops empty ones and duplicates.
SELECT DISTINCT TRIM(p1.p1_name) AS name
FROM dmpr1 p1
WHERE p1.p1_name IS NOT NULL
    AND TRIM(p1.p1_name) <> ''
    AND EXISTS (SELECT 1 FROM dmprod pr WHERE pr.pr_user5 = p1.p1_id)
