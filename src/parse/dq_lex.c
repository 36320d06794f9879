/*
 * dq_lex.c
 *	  Tokenizer of DQDL text, and the error helpers the DQDL parser shares.
 *
 * The parser (dq_parse.c) pulls one token at a time, so a lexical error
 * far ahead of a syntax error is never reported before it, and nothing is
 * allocated here: a token is a kind and a byte range of the input.  String
 * contents are decoded only when the parser keeps them.
 *
 * Numbers are never signed here: whether "-" is a sign or a subtraction
 * depends on where it stands, which only the parser knows (it folds a sign
 * written right against a number back into the number's text, "-5").
 *
 * Only NUL is refused as such (by the parser, before lexing).  Bytes of
 * 0x80 and above are allowed in strings and comments whatever the encoding
 * is, since the database's encoding need not be UTF-8; elsewhere they start
 * no token.  Error messages quote input only when it is valid UTF-8, so a
 * message never carries a broken sequence.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dq_internal.h"

static int
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int
is_ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int
is_ident_char(unsigned char c)
{
	return is_ident_start(c) || is_digit(c);
}

void
dqi_lex_init(dqi_lexer *lx, const char *text, size_t len)
{
	lx->text = text;
	lx->len = len;
	lx->pos = 0;
}

/*
 * Length of a number starting at s[0] (a digit, or '.' before a digit):
 * digits [ "." digits ] [ (e|E) [+|-] digits ].  An exponent marker without
 * digits is not consumed; the caller then sees a letter glued to the
 * number and reports the whole as malformed.
 */
static size_t
scan_number(const char *s, size_t len)
{
	size_t		i = 0;

	while (i < len && is_digit((unsigned char) s[i]))
		i++;
	if (i < len && s[i] == '.')
	{
		i++;
		while (i < len && is_digit((unsigned char) s[i]))
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		size_t		j = i + 1;

		if (j < len && (s[j] == '+' || s[j] == '-'))
			j++;
		if (j < len && is_digit((unsigned char) s[j]))
		{
			while (j < len && is_digit((unsigned char) s[j]))
				j++;
			i = j;
		}
	}
	return i;
}

/* Length of a valid UTF-8 character at s, else 1 (for messages). */
static size_t
char_len(const char *s, size_t len)
{
	size_t		n = gpi_utf8_seq_len(s, len);

	return n == 0 ? 1 : n;
}

/* The failed token, once err and status are filled: DQI_TOK_ERROR. */
static dqi_tok_kind
lex_error(dqi_token *tok, size_t pos, size_t len)
{
	tok->kind = DQI_TOK_ERROR;
	tok->pos = pos;
	tok->len = len;
	return DQI_TOK_ERROR;
}

dqi_tok_kind
dqi_lex_next(dqi_lexer *lx, dqi_token *tok, dq_error *err, dq_status *status)
{
	const char *s = lx->text;
	size_t		len = lx->len;
	size_t		i = lx->pos;
	size_t		start;
	unsigned char c;

	/* whitespace and # comments, which run to the end of the line */
	for (;;)
	{
		while (i < len && is_space((unsigned char) s[i]))
			i++;
		if (i < len && s[i] == '#')
		{
			const char *nl = memchr(s + i, '\n', len - i);

			i = nl != NULL ? (size_t) (nl - s) + 1 : len;
			continue;
		}
		break;
	}

	start = i;
	tok->pos = start;
	tok->len = 0;
	if (i >= len)
	{
		lx->pos = len;
		tok->kind = DQI_TOK_EOF;
		return DQI_TOK_EOF;
	}

	c = (unsigned char) s[i];
	if (c == '"')
	{
		i++;
		while (i < len && s[i] != '"')
		{
			if (s[i] == '\\')
			{
				char		e = i + 1 < len ? s[i + 1] : '\0';

				if (e != '"' && e != '\\' && e != 'n' && e != 't')
				{
					char		shown[8];

					/* a string cannot end in the middle of an escape */
					if (i + 1 >= len)
					{
						dqi_set_error(err, s, start, NULL, "unterminated string");
						*status = DQ_ERR_SYNTAX;
						return lex_error(tok, start, len - start);
					}
					if ((unsigned char) e >= 0x20 && (unsigned char) e < 0x7f)
						snprintf(shown, sizeof(shown), "\\%c", e);
					else
						snprintf(shown, sizeof(shown), "\\x%02X", (unsigned char) e);
					dqi_set_error(err, s, i, NULL,
								  "invalid escape \"%s\" in string (use \\\" \\\\ \\n or \\t)",
								  shown);
					*status = DQ_ERR_SYNTAX;
					return lex_error(tok, i, 2);
				}
				i += 2;
			}
			else
				i++;
		}
		if (i >= len)
		{
			dqi_set_error(err, s, start, NULL, "unterminated string");
			*status = DQ_ERR_SYNTAX;
			return lex_error(tok, start, len - start);
		}
		i++;
		tok->kind = DQI_TOK_STRING;
	}
	else if (is_digit(c) || (c == '.' && i + 1 < len && is_digit((unsigned char) s[i + 1])))
	{
		i += scan_number(s + i, len - i);
		if (i < len && (is_ident_char((unsigned char) s[i]) || s[i] == '.'))
		{
			/* 3days, 1.2.3, 1e, 0x10: name all of it */
			size_t		end = i;
			char		what[DQI_DESCRIBE_SIZE];

			while (end < len && (is_ident_char((unsigned char) s[end]) || s[end] == '.'))
				end++;
			tok->kind = DQI_TOK_NUMBER;
			tok->len = end - start;
			dqi_describe_token(s, tok, what, sizeof(what));
			dqi_set_error(err, s, start, NULL, "malformed number %s", what);
			*status = DQ_ERR_SYNTAX;
			return lex_error(tok, start, end - start);
		}
		tok->kind = DQI_TOK_NUMBER;
	}
	else if (is_ident_start(c))
	{
		while (i < len && is_ident_char((unsigned char) s[i]))
			i++;
		tok->kind = DQI_TOK_IDENT;
	}
	else if (c == '$' && i + 1 < len && is_ident_start((unsigned char) s[i + 1]))
	{
		dqi_set_error(err, s, start, "constants",
					  "DQDL constants are not supported by gemini_etl");
		*status = DQ_ERR_UNSUPPORTED;
		return lex_error(tok, start, 1);
	}
	else
	{
		char		next = i + 1 < len ? s[i + 1] : '\0';

		i++;
		switch (c)
		{
			case '[':
				tok->kind = DQI_TOK_LBRACKET;
				break;
			case ']':
				tok->kind = DQI_TOK_RBRACKET;
				break;
			case '(':
				tok->kind = DQI_TOK_LPAREN;
				break;
			case ')':
				tok->kind = DQI_TOK_RPAREN;
				break;
			case ',':
				tok->kind = DQI_TOK_COMMA;
				break;
			case '=':
				tok->kind = DQI_TOK_EQ;
				break;
			case '+':
				tok->kind = DQI_TOK_PLUS;
				break;
			case '-':
				tok->kind = DQI_TOK_MINUS;
				break;
			case '*':
				tok->kind = DQI_TOK_STAR;
				break;
			case '/':
				tok->kind = DQI_TOK_SLASH;
				break;
			case '>':
				tok->kind = next == '=' ? DQI_TOK_GE : DQI_TOK_GT;
				break;
			case '<':
				tok->kind = next == '=' ? DQI_TOK_LE : DQI_TOK_LT;
				break;
			case '!':
				if (next == '=')
				{
					tok->kind = DQI_TOK_NE;
					break;
				}
				/* FALLTHROUGH */
			default:
				{
					char		what[DQI_DESCRIBE_SIZE];
					dqi_token	bad;

					bad.kind = DQI_TOK_ERROR;
					bad.pos = start;
					bad.len = char_len(s + start, len - start);
					dqi_describe_token(s, &bad, what, sizeof(what));
					dqi_set_error(err, s, start, NULL, "unexpected character %s", what);
					*status = DQ_ERR_SYNTAX;
					return lex_error(tok, start, bad.len);
				}
		}
		if (tok->kind == DQI_TOK_GE || tok->kind == DQI_TOK_LE || tok->kind == DQI_TOK_NE)
			i++;
	}
	tok->len = i - start;
	lx->pos = i;
	return tok->kind;
}

int
dqi_tok_is(const char *text, const dqi_token *tok, const char *word)
{
	size_t		n = strlen(word);

	return tok->kind == DQI_TOK_IDENT && tok->len == n &&
		memcmp(text + tok->pos, word, n) == 0;
}

int
dqi_tok_is_ci(const char *text, const dqi_token *tok, const char *word)
{
	size_t		n = strlen(word);
	size_t		i;

	if (tok->kind != DQI_TOK_IDENT || tok->len != n)
		return 0;
	for (i = 0; i < n; i++)
	{
		char		c = text[tok->pos + i];

		if (c >= 'A' && c <= 'Z')
			c = (char) (c - 'A' + 'a');
		if (c != word[i])
			return 0;
	}
	return 1;
}

char *
dqi_string_value(gpi_arena *a, const char *text, const dqi_token *tok)
{
	const char *s = text + tok->pos + 1;
	size_t		n = tok->len - 2;
	char	   *out = gpi_arena_alloc(a, n + 1);
	size_t		i;
	size_t		o = 0;

	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++)
	{
		if (s[i] == '\\' && i + 1 < n)
		{
			i++;
			switch (s[i])
			{
				case 'n':
					out[o++] = '\n';
					break;
				case 't':
					out[o++] = '\t';
					break;
				default:
					/* \" and \\ (the lexer let no other escape through) */
					out[o++] = s[i];
					break;
			}
		}
		else
			out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

/*
 * Up to DQI_MSG_TOKEN_MAX bytes of s[0..len) for a message: control
 * characters (newlines of a multi-line string) become spaces, and when the
 * piece is not valid UTF-8 its non-ASCII bytes become '?'.
 */
static void
quote_piece(const char *s, size_t len, char *buf, size_t size)
{
	char		piece[DQI_MSG_TOKEN_MAX + 1];
	size_t		n;
	size_t		i;
	int			utf8_ok;

	gpi_copy_text(piece, sizeof(piece), s, len);
	n = strlen(piece);
	utf8_ok = gpi_utf8_invalid_at(piece, n) == n;
	for (i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) piece[i];

		if (c < 0x20 || c == 0x7f)
			piece[i] = ' ';
		else if (c >= 0x80 && !utf8_ok)
			piece[i] = '?';
	}
	snprintf(buf, size, "\"%s\"", piece);
}

void
dqi_describe_token(const char *text, const dqi_token *tok, char *buf, size_t size)
{
	char		quoted[DQI_MSG_TOKEN_MAX + 3];

	if (tok->kind == DQI_TOK_EOF)
		snprintf(buf, size, "end of input");
	else if (tok->kind == DQI_TOK_STRING && tok->len >= 2)
	{
		quote_piece(text + tok->pos + 1, tok->len - 2, quoted, sizeof(quoted));
		snprintf(buf, size, "string %s", quoted);
	}
	else
	{
		quote_piece(text + tok->pos, tok->len, quoted, sizeof(quoted));
		snprintf(buf, size, "%s", quoted);
	}
}

void
dqi_set_error(dq_error *err, const char *text, size_t pos,
			  const char *feature, const char *fmt,...)
{
	va_list		ap;
	size_t		i;
	size_t		line_start = 0;
	int			line = 1;

	/* lines and columns only matter for the one error: count them now */
	for (i = 0; i < pos; i++)
	{
		if (text[i] == '\n')
		{
			line++;
			line_start = i + 1;
		}
	}
	err->pos = (int) pos;
	err->line = line;
	err->column = (int) (pos - line_start) + 1;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	if (feature != NULL)
		snprintf(err->feature, sizeof(err->feature), "%s", feature);
	else
		err->feature[0] = '\0';
}
