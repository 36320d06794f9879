/*
 * test_s3_text.c
 *	  S3's XML fields (errors, multipart, listings as s3rver and AWS send
 *	  them), the AWS credentials file, and SigV4's key encoding.
 */
#include <string.h>

#include "s3_text.h"
#include "test_util.h"

void		test_s3_text(void);

static void
test_xml(void)
{
	const char *err = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code>"
		"<Message>The request signature we calculated does not match &amp; so on &lt;x&gt; &#x41;&#66;</Message></Error>";
	const char *list = "<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>gemini/trades/dt=2026-01-01/hour=00/part-00000.csv.gz</Key>"
		"<ETag>&quot;abc&quot;</ETag></Contents><Contents><Key>a&amp;b</Key></Contents>"
		"<NextContinuationToken>tok/+=</NextContinuationToken></ListBucketResult>";
	char		out[256];
	size_t		pos = 0;

	CHECK_I64(s3x_next(err, strlen(err), &pos, "Code", out, sizeof(out)), 1);
	CHECK_STR(out, "SignatureDoesNotMatch");
	CHECK_I64(s3x_next(err, strlen(err), &pos, "Message", out, sizeof(out)), 1);
	CHECK_STR(out, "The request signature we calculated does not match & so on <x> AB");
	CHECK_I64(s3x_next(err, strlen(err), &pos, "Message", out, sizeof(out)), 0);

	pos = 0;
	CHECK_I64(s3x_next(list, strlen(list), &pos, "IsTruncated", out, sizeof(out)), 1);
	CHECK_STR(out, "true");
	CHECK_I64(s3x_next(list, strlen(list), &pos, "Key", out, sizeof(out)), 1);
	CHECK_STR(out, "gemini/trades/dt=2026-01-01/hour=00/part-00000.csv.gz");
	{
		size_t		p2 = pos;

		CHECK_I64(s3x_next(list, strlen(list), &p2, "ETag", out, sizeof(out)), 1);
		CHECK_STR(out, "\"abc\"");
	}
	CHECK_I64(s3x_next(list, strlen(list), &pos, "Key", out, sizeof(out)), 1);
	CHECK_STR(out, "a&b");
	CHECK_I64(s3x_next(list, strlen(list), &pos, "Key", out, sizeof(out)), 0);
	pos = 0;
	CHECK_I64(s3x_next(list, strlen(list), &pos, "NextContinuationToken", out, sizeof(out)), 1);
	CHECK_STR(out, "tok/+=");

	/* too small, unterminated, nested, bad entity, not NUL-terminated input */
	pos = 0;
	CHECK_I64(s3x_next(list, strlen(list), &pos, "Key", out, 5), -1);
	pos = 0;
	CHECK_I64(s3x_next("<Key>abc", 8, &pos, "Key", out, sizeof(out)), -1);
	pos = 0;
	CHECK_I64(s3x_next("<Key>a<b/>c</Key>", 17, &pos, "Key", out, sizeof(out)), -1);
	pos = 0;
	CHECK_I64(s3x_next("<Key>a&bogus;</Key>", 19, &pos, "Key", out, sizeof(out)), -1);
	pos = 0;
	CHECK_I64(s3x_next("<Key>a&#0;</Key>", 16, &pos, "Key", out, sizeof(out)), -1);
	pos = 0;
	CHECK_I64(s3x_next("<Key>xy</Key>zzzz", 10, &pos, "Key", out, sizeof(out)), -1);
	pos = 0;
	CHECK_I64(s3x_next("<Key></Key>", 11, &pos, "Key", out, sizeof(out)), 1);
	CHECK_STR(out, "");
	pos = 99;
	CHECK_I64(s3x_next("<Key></Key>", 11, &pos, "Key", out, sizeof(out)), -1);
}

static void
test_ini(void)
{
	const char *ini = "# AWS credentials\n[other]\naws_access_key_id = WRONG\n\n"
		"[default]\r\naws_access_key_id=AKIDEXAMPLE\r\n ; comment\n"
		"  aws_secret_access_key =  wJalr/XUtnFEMI+K7MDENG  \n"
		"[ spaced ]\naws_access_key_id = SP\nnovalue\n";
	char		out[64];

	CHECK_I64(s3_ini_value(ini, strlen(ini), "default", "aws_access_key_id", out, sizeof(out)), 1);
	CHECK_STR(out, "AKIDEXAMPLE");
	CHECK_I64(s3_ini_value(ini, strlen(ini), "default", "aws_secret_access_key", out, sizeof(out)), 1);
	CHECK_STR(out, "wJalr/XUtnFEMI+K7MDENG");
	CHECK_I64(s3_ini_value(ini, strlen(ini), "other", "aws_access_key_id", out, sizeof(out)), 1);
	CHECK_STR(out, "WRONG");
	CHECK_I64(s3_ini_value(ini, strlen(ini), "spaced", "aws_access_key_id", out, sizeof(out)), 1);
	CHECK_STR(out, "SP");
	CHECK_I64(s3_ini_value(ini, strlen(ini), "other", "aws_secret_access_key", out, sizeof(out)), 0);
	CHECK_I64(s3_ini_value(ini, strlen(ini), "missing", "aws_access_key_id", out, sizeof(out)), 0);
	CHECK_I64(s3_ini_value(ini, strlen(ini), "default", "aws_secret_access_key", out, 5), -1);
	CHECK_I64(s3_ini_value("", 0, "default", "x", out, sizeof(out)), 0);
	CHECK_I64(s3_ini_value("[default", 8, "default", "x", out, sizeof(out)), 0);
}

static void
test_encode(void)
{
	char		out[256];

	s3_uri_encode("gemini/trades/dt=2026-11-24/hour=15/part-00000.csv.gz", true, out);
	CHECK_STR(out, "gemini/trades/dt%3D2026-11-24/hour%3D15/part-00000.csv.gz");
	s3_uri_encode("a b+c/d~e_f.g-h", false, out);
	CHECK_STR(out, "a%20b%2Bc%2Fd~e_f.g-h");
	CHECK_I64(s3_uri_encode("\xc3\xa9", true, out), 6);
	CHECK_STR(out, "%C3%A9");
	CHECK_I64(s3_uri_encode("", true, out), 0);
}

void
test_s3_text(void)
{
	test_xml();
	test_ini();
	test_encode();
}
