-- Customer Portal: ERP customer names for Deacom (Microsoft SQL Server, T-SQL).
--
-- One column, name: every customer (dmpr1.p1_name) that owns at least one part
-- (dmprod.pr_user5), trimmed. Customers without stock today are included so an administrator
-- can link an account before goods arrive. The portal sorts the names and drops empty ones and
-- duplicates. The same logic for SQLite/PostgreSQL is in portable_customers.sql.
--
-- TO VERIFY against a real Deacom instance: that dmpr1 holds only customers (if it also holds
-- other classes, add the distinguishing condition here and in deacom_inventory.sql), and that
-- the names returned are exactly the values accounts are linked to (erp_customer_name).
SELECT DISTINCT LTRIM(RTRIM(p1.p1_name)) AS name
FROM dmpr1 p1
WHERE p1.p1_name IS NOT NULL
    AND LTRIM(RTRIM(p1.p1_name)) <> ''
    AND EXISTS (SELECT 1 FROM dmprod pr WHERE pr.pr_user5 = p1.p1_id)
