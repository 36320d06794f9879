-- gemini_etl_aws_s3 0.1: the export functions of RDS's aws_s3 extension,
-- with the same schemas, signatures, types and result columns, so scripts
-- written for RDS/Aurora run unchanged on a self-hosted server.  They call
-- gemini.query_export_to_s3 (gemini_etl's uploader; see aws_s3_compat.c).
-- Credentials are gemini_etl's (settings, the server's environment, or its
-- AWS credentials file), as RDS uses the instance's IAM role.
\echo Use "CREATE EXTENSION gemini_etl_aws_s3" to load this file. \quit

CREATE SCHEMA aws_commons;
CREATE SCHEMA aws_s3;

CREATE TYPE aws_commons._s3_uri_1 AS (bucket text, file_path text, region text);

CREATE FUNCTION aws_commons.create_s3_uri(bucket text, file_path text, region text)
RETURNS aws_commons._s3_uri_1
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT ROW(bucket, file_path, region)::aws_commons._s3_uri_1 $$;

-- No SET search_path on these two: query is the caller's own SQL, resolved
-- with the caller's search_path, as on RDS.  Everything they name is
-- schema-qualified.
CREATE FUNCTION aws_s3.query_export_to_s3(query text, s3_info aws_commons._s3_uri_1, options text DEFAULT NULL,
                                          OUT rows_uploaded bigint, OUT files_uploaded bigint,
                                          OUT bytes_uploaded bigint)
LANGUAGE sql VOLATILE
AS $$ SELECT * FROM gemini.query_export_to_s3(query, (s3_info).bucket, (s3_info).file_path, (s3_info).region, options) $$;

CREATE FUNCTION aws_s3.query_export_to_s3(query text, bucket text, file_path text, region text DEFAULT NULL,
                                          options text DEFAULT NULL,
                                          OUT rows_uploaded bigint, OUT files_uploaded bigint,
                                          OUT bytes_uploaded bigint)
LANGUAGE sql VOLATILE
AS $$ SELECT * FROM gemini.query_export_to_s3(query, bucket, file_path, region, options) $$;

-- As on RDS, nobody may export until granted: here, members of
-- gemini_etl_operator (the role gemini_etl made).
REVOKE ALL ON FUNCTION aws_s3.query_export_to_s3(text, aws_commons._s3_uri_1, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION aws_s3.query_export_to_s3(text, text, text, text, text) FROM PUBLIC;
GRANT USAGE ON SCHEMA aws_commons, aws_s3 TO gemini_etl_operator;
GRANT EXECUTE ON FUNCTION aws_s3.query_export_to_s3(text, aws_commons._s3_uri_1, text) TO gemini_etl_operator;
GRANT EXECUTE ON FUNCTION aws_s3.query_export_to_s3(text, text, text, text, text) TO gemini_etl_operator;
