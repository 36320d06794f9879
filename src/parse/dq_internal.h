/*
 * dq_internal.h
 *	  Private declarations shared by the DQDL tokenizer (dq_lex.c) and
 *	  parser (dq_parse.c).
 *
 * The public interface is dqdl.h.  Everything here starts with "dqi_" so it
 * cannot clash with PostgreSQL or the rest of the extension once linked into
 * one shared library, and every non-static function has its prototype here
 * because the extension is built with -Wmissing-prototypes.
 */
#ifndef DQ_INTERNAL_H
#define DQ_INTERNAL_H

#include <stddef.h>

#include "dqdl.h"
#include "parse_internal.h"

/*
 * Longest input accepted: positions in dq_error and dq_rule are ints, and a
 * rule longer than PostgreSQL's largest text value is not a rule anyway.
 */
#define DQI_MAX_INPUT ((size_t) 1024 * 1024 * 1024)

/* How much of a token an error message quotes. */
#define DQI_MSG_TOKEN_MAX 40

/* Room for dqi_describe_token's output: the piece, quotes and "string ". */
#define DQI_DESCRIBE_SIZE (DQI_MSG_TOKEN_MAX + 16)

typedef enum dqi_tok_kind
{
	DQI_TOK_EOF = 0,
	DQI_TOK_ERROR,				/* lexical error: the dq_error is filled */
	DQI_TOK_STRING,				/* "..." (the token includes the quotes) */
	DQI_TOK_NUMBER,				/* 12, 0.99, .5, 1e6 (never signed) */
	DQI_TOK_IDENT,				/* rule types and keywords */
	DQI_TOK_LBRACKET,
	DQI_TOK_RBRACKET,
	DQI_TOK_LPAREN,
	DQI_TOK_RPAREN,
	DQI_TOK_COMMA,
	DQI_TOK_EQ,
	DQI_TOK_NE,
	DQI_TOK_GT,
	DQI_TOK_GE,
	DQI_TOK_LT,
	DQI_TOK_LE,
	DQI_TOK_PLUS,
	DQI_TOK_MINUS,
	DQI_TOK_STAR,
	DQI_TOK_SLASH
} dqi_tok_kind;

typedef struct dqi_token
{
	dqi_tok_kind kind;
	size_t		pos;			/* byte offset of the token's first byte */
	size_t		len;			/* bytes of the token as written */
} dqi_token;

typedef struct dqi_lexer
{
	const char *text;
	size_t		len;
	size_t		pos;			/* next byte to look at */
} dqi_lexer;

/* ---------- dq_lex.c ---------- */

void		dqi_lex_init(dqi_lexer *lx, const char *text, size_t len);

/*
 * The next token after whitespace and comments.  Returns its kind (also in
 * tok->kind); DQI_TOK_ERROR after filling err, for an unterminated string,
 * a bad escape, a malformed number, a character that starts no token, or a
 * $constant (DQ_ERR_UNSUPPORTED).  At the end of input DQI_TOK_EOF with
 * tok->pos == len.
 */
dqi_tok_kind dqi_lex_next(dqi_lexer *lx, dqi_token *tok, dq_error *err, dq_status *status);

/* 1 when the token is an identifier spelled exactly word. */
int			dqi_tok_is(const char *text, const dqi_token *tok, const char *word);

/* 1 when the token is an identifier equal to word ignoring ASCII case. */
int			dqi_tok_is_ci(const char *text, const dqi_token *tok, const char *word);

/*
 * Content of a string token with its escapes resolved, copied into the
 * arena; NULL when out of memory.  The token was checked by the lexer.
 */
char	   *dqi_string_value(gpi_arena *a, const char *text, const dqi_token *tok);

/*
 * How a message names a token: end of input, string "abc", or "abc",
 * quoting at most DQI_MSG_TOKEN_MAX bytes.
 */
void		dqi_describe_token(const char *text, const dqi_token *tok, char *buf, size_t size);

/*
 * Fill err: pos, the line and column of pos in text, the printf message and
 * the unsupported feature's name (feature NULL: an empty one).
 */
void		dqi_set_error(dq_error *err, const char *text, size_t pos,
						  const char *feature, const char *fmt,...) GPI_PRINTF(5, 6);

#endif							/* DQ_INTERNAL_H */
