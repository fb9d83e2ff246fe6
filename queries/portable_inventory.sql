-- Customer Portal: inventory query, portable SQL (SQLite and PostgreSQL).
--
-- Used by `customer-portal demo` (SQLite) and the tests (SQLite and PostgreSQL); it is the same
-- logic as deacom_inventory.sql written without T-SQL, against a database that copies Deacom's
-- table and column names. Keep the two files in step.
--
-- Contract (SPEC section 5): one named parameter, erp_customer (written with a leading colon
-- below), and these aliases in this order: customer, part, customer_part, description, on_hand,
-- unit, bin, warehouse, reference, lot, expires, last_transaction, received, po, status.
-- part, on_hand and bin are required; the portal trims trailing blanks from text and reads
-- dates whether the driver returns a date type or 'YYYY-MM-DD hh:mm:ss' text.
--
-- Mapping:
--   dtfifo f   one stock lot per row; only fi_balance > 0 is stock
--   dmprod pr  part: pr_codenum, pr_descrip; pr_unid -> dmunit.un_name; pr_user5 -> dmpr1.p1_id
--   dmpr1 p1   the owning customer: p1_name
--   dmloc lo   bin: fi_loid -> lo_name
--   dmware wa  warehouse: fi_waid -> wa_name
--   reference  fi_attrib2;  po: fi_postref;  lot: fi_userlot, else fi_lotnum
--   expires / last_transaction / received: fi_expires / fi_date / fi_lotdate, where a date
--   before 1900-01-02 (Deacom's "no date") becomes NULL
--   customer_part: Deacom has no standard field for it, so it is NULL here
--   status: the first matching rule of the CASE below (codes compared trimmed, lower-cased)
--
-- The customer filter compares the trimmed name, because SQL Server pads CHAR columns and the
-- customers query returns trimmed names. No ORDER BY: the portal sorts.
SELECT
    p1.p1_name AS customer,
    pr.pr_codenum AS part,
    CAST(NULL AS VARCHAR(40)) AS customer_part,
    pr.pr_descrip AS description,
    f.fi_balance AS on_hand,
    un.un_name AS unit,
    lo.lo_name AS bin,
    wa.wa_name AS warehouse,
    f.fi_attrib2 AS reference,
    COALESCE(NULLIF(TRIM(f.fi_userlot), ''), NULLIF(TRIM(f.fi_lotnum), '')) AS lot,
    CASE WHEN f.fi_expires >= '1900-01-02' THEN f.fi_expires END AS expires,
    CASE WHEN f.fi_date >= '1900-01-02' THEN f.fi_date END AS last_transaction,
    CASE WHEN f.fi_lotdate >= '1900-01-02' THEN f.fi_lotdate END AS received,
    f.fi_postref AS po,
    CASE
        WHEN LOWER(TRIM(f.fi_type)) = 'quarantine' THEN 'Quarantined'
        WHEN LOWER(TRIM(f.fi_type)) = 'job' THEN 'Issued to Job'
        WHEN LOWER(TRIM(f.fi_type)) = 'sal-reserv' THEN 'Sales Reserved'
        WHEN LOWER(TRIM(f.fi_type)) = 'staging' THEN 'Staged to Job'
        WHEN LOWER(TRIM(f.fi_qc)) IN ('failed', 'fail', 'rejected')
             OR LOWER(TRIM(f.fi_action)) IN ('reject', 'rejected') THEN 'Failed QC'
        WHEN LOWER(TRIM(f.fi_qc)) = 'pending' THEN 'Pending QC'
        WHEN LOWER(TRIM(f.fi_qc)) IN ('passed', 'pass', 'approved')
             OR LOWER(TRIM(f.fi_action)) IN ('approve', 'approved') THEN 'Approved QC'
        ELSE 'Available'
    END AS status
FROM dtfifo f
    JOIN dmprod pr ON pr.pr_id = f.fi_prid
    JOIN dmpr1 p1 ON p1.p1_id = pr.pr_user5
    LEFT JOIN dmunit un ON un.un_id = pr.pr_unid
    LEFT JOIN dmloc lo ON lo.lo_id = f.fi_loid
    LEFT JOIN dmware wa ON wa.wa_id = f.fi_waid
WHERE TRIM(p1.p1_name) = :erp_customer
    AND f.fi_balance > 0
