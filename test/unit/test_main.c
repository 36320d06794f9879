/*
 * test_main.c
 *	  Runs every unit test group of the parse layer and prints the summary.
 *
 * Usage: test_parse [FIXTURES_DIR]   (default $GP_FIXTURES, else ../fixtures)
 * Exit status 0 only when every check passed.
 */
#include <stdio.h>
#include <stdlib.h>

#include "test_util.h"

/* websocket groups (test_ws.c, test_ws_fixtures.c) */
void		test_ws(void);
void		test_ws_fixtures(void);

/* DQDL parser (test_dqdl.c) */
void		test_dqdl(void);

/* S3 text: XML fields, credentials file, key encoding (test_s3_text.c) */
void		test_s3_text(void);

/* Parquet writer pieces (test_parquet.c) */
void		test_parquet(void);

int
main(int argc, char **argv)
{
	const char *env = getenv("GP_FIXTURES");

	if (argc > 1)
		t_fixtures_dir = argv[1];
	else if (env != NULL && env[0] != '\0')
		t_fixtures_dir = env;

	test_jsonc();
	test_numbers();
	test_trades();
	test_json_errors();
	test_symbols();
	test_candles();
	test_fixtures();
	test_ws();
	test_ws_fixtures();
	test_text_escape();
	test_dqdl();
	test_s3_text();
	test_parquet();

	printf("unit: %d passed, %d failed\n", t_passed, t_failed);
	return t_failed == 0 ? 0 : 1;
}
