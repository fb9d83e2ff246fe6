-- Customer Portal: inventory query for Deacom (Microsoft SQL Server, T-SQL), read over ODBC.
--
-- Contract (SPEC section 5): one named parameter, erp_customer (written with a leading colon
-- below; the portal binds it as the ERP customer name), and these aliases in this order:
-- customer, part, customer_part, description, on_hand, unit, bin, warehouse, reference, lot,
-- expires, last_transaction, received, po, status. part, on_hand and bin are required; other
-- columns may be removed or returned as NULL. The portal trims trailing blanks (CHAR padding),
-- reads on_hand from any numeric type and dates from date, datetime or text. The portal
-- refuses a file that is not exactly one SELECT/WITH statement.
--
-- Mapping (table and column names from public code that reads Deacom):
--   dtfifo f   one stock lot per row; only fi_balance > 0 is stock
--   dmprod pr  part: pr_codenum, pr_descrip; pr_unid -> dmunit.un_name; pr_user5 -> dmpr1.p1_id
--   dmpr1 p1   the owning customer: p1_name (what portal accounts are linked to)
--   dmloc lo   bin: fi_loid -> lo_name
--   dmware wa  warehouse: fi_waid -> wa_name
--   reference  fi_attrib2;  po: fi_postref;  lot: fi_userlot, else fi_lotnum
--   expires / last_transaction / received: fi_expires / fi_date / fi_lotdate as dates; values
--   before 1900-01-02 (Deacom's "no date") become NULL
--   customer_part: no standard Deacom field, so NULL. A site that keeps the customer's own part
--   number in a user field of dmprod puts that column here instead.
--   status: the first matching rule of the CASE below
--
-- TO VERIFY against a real Deacom instance before going live (none was available to us):
--   1. The names above exist, in particular pr_user5 as the customer link, and the join keys.
--   2. The codes in fi_type ('quarantine', 'job', 'sal-reserv', 'staging'), fi_qc ('Pending',
--      'Failed', 'Passed'/'Approved') and fi_action ('Reject', 'Approve'): run
--          SELECT fi_type, fi_qc, fi_action, COUNT(*) FROM dtfifo WHERE fi_balance > 0
--          GROUP BY fi_type, fi_qc, fi_action
--      and adjust the CASE so every combination lands on the intended status word.
--   3. That fi_postref really holds the PO number and fi_attrib2 the reference the warehouse
--      wants customers to see; whether fi_userlot or fi_lotnum is the customer-facing lot.
--   4. The sentinel used for "no date" (1900-01-01, 1899-12-30, NULL).
--   5. Non-ASCII customer names: SOCI 4.0 binds the parameter as VARCHAR (not NVARCHAR), so a
--      name outside the server's code page (e.g. Japanese) may not match dmpr1.p1_name. Test
--      such a customer through the chosen driver (FreeTDS: ClientCharset=UTF-8 is set by the
--      portal).
--   6. Speed for the largest customer (an index on dmprod.pr_user5 and dtfifo.fi_prid helps),
--      and blocking: the query runs at the login's default isolation level. Add WITH (NOLOCK)
--      table hints only if the site accepts dirty reads.
--   7. The ERP login has only SELECT permission (db_datareader) on these tables: SQL Server does
--      not enforce the ODBC read-only access mode, so the permission is the real guarantee.
SELECT
    p1.p1_name AS customer,
    pr.pr_codenum AS part,
    CAST(NULL AS NVARCHAR(40)) AS customer_part,
    pr.pr_descrip AS description,
    f.fi_balance AS on_hand,
    un.un_name AS unit,
    lo.lo_name AS bin,
    wa.wa_name AS warehouse,
    f.fi_attrib2 AS reference,
    COALESCE(NULLIF(LTRIM(RTRIM(f.fi_userlot)), ''), NULLIF(LTRIM(RTRIM(f.fi_lotnum)), '')) AS lot,
    CASE WHEN f.fi_expires >= '19000102' THEN CAST(f.fi_expires AS DATE) END AS expires,
    CASE WHEN f.fi_date >= '19000102' THEN CAST(f.fi_date AS DATE) END AS last_transaction,
    CASE WHEN f.fi_lotdate >= '19000102' THEN CAST(f.fi_lotdate AS DATE) END AS received,
    f.fi_postref AS po,
    CASE
        WHEN LOWER(LTRIM(RTRIM(f.fi_type))) = 'quarantine' THEN 'Quarantined'
        WHEN LOWER(LTRIM(RTRIM(f.fi_type))) = 'job' THEN 'Issued to Job'
        WHEN LOWER(LTRIM(RTRIM(f.fi_type))) = 'sal-reserv' THEN 'Sales Reserved'
        WHEN LOWER(LTRIM(RTRIM(f.fi_type))) = 'staging' THEN 'Staged to Job'
        WHEN LOWER(LTRIM(RTRIM(f.fi_qc))) IN ('failed', 'fail', 'rejected')
             OR LOWER(LTRIM(RTRIM(f.fi_action))) IN ('reject', 'rejected') THEN 'Failed QC'
        WHEN LOWER(LTRIM(RTRIM(f.fi_qc))) = 'pending' THEN 'Pending QC'
        WHEN LOWER(LTRIM(RTRIM(f.fi_qc))) IN ('passed', 'pass', 'approved')
             OR LOWER(LTRIM(RTRIM(f.fi_action))) IN ('approve', 'approved') THEN 'Approved QC'
        ELSE 'Available'
    END AS status
FROM dtfifo f
    INNER JOIN dmprod pr ON pr.pr_id = f.fi_prid
    INNER JOIN dmpr1 p1 ON p1.p1_id = pr.pr_user5
    LEFT JOIN dmunit un ON un.un_id = pr.pr_unid
    LEFT JOIN dmloc lo ON lo.lo_id = f.fi_loid
    LEFT JOIN dmware wa ON wa.wa_id = f.fi_waid
WHERE p1.p1_name = :erp_customer
    AND f.fi_balance > 0
