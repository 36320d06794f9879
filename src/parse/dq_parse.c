/*
 * dq_parse.c
 *	  DQDL text -> dq_ruleset: the recursive-descent parser behind dqdl.h.
 *
 * One function per production of the grammar in dqdl.h, pulling tokens
 * from dq_lex.c.  Everything the tree holds is allocated in one arena, so
 * an error anywhere is handled by freeing that arena: no function has to
 * undo what it built.  Only the first error is kept (p->status), and every
 * function returns NULL or 0 once it is set, so the error names the first
 * problem in text order with its position.
 *
 * What a rule type allows (how many strings, whether a condition, `where`
 * and `with threshold` may follow, what kind of values it compares) is
 * checked here rather than by the compiler, so that a mistake is reported
 * with a line and column while the user still has the text in front of
 * them.
 *
 * Hostile input stays cheap: recursion only happens on parentheses,
 * abs() and unary minus, all counted against DQ_MAX_DEPTH; chains such as
 * 1+1+...+1 are parsed by loops but their tree height is capped at
 * DQ_MAX_DEPTH too, so whoever walks a dq_value recursively (the compiler,
 * dq_value_is_dynamic) is safe as well.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dq_internal.h"

typedef struct parser
{
	const char *text;
	size_t		len;
	dqi_lexer	lx;
	dqi_token	tok;			/* the current (next unconsumed) token */
	size_t		last_end;		/* end of the last consumed token */
	gpi_arena  *arena;
	dq_error   *err;
	dq_status	status;			/* DQ_OK until the first error */
	int			depth;			/* open parentheses, abs( and unary minus */
} parser;

/* What a rule type's condition compares. */
typedef enum value_class
{
	VC_NONE = 0,				/* no condition at all (IsComplete "x") */
	VC_NUMERIC,					/* numbers, last()/index() and arithmetic */
	VC_ANY,						/* ColumnValues: anything */
	VC_DURATION,				/* DataFreshness: 2 hours */
	VC_TYPENAME					/* ColumnDataType: "Integer" */
} value_class;

typedef struct rule_info
{
	const char *name;
	int			min_args;
	int			max_args;		/* -1: up to DQ_MAX_ARGS */
	value_class values;
	int			where_ok;
	int			threshold_ok;
} rule_info;

static const rule_info rule_infos[DQ_RT_COUNT] = {
	[DQ_RT_ROWCOUNT] = {"RowCount", 0, 0, VC_NUMERIC, 1, 0},
	[DQ_RT_COLUMNCOUNT] = {"ColumnCount", 0, 0, VC_NUMERIC, 0, 0},
	[DQ_RT_COLUMNEXISTS] = {"ColumnExists", 1, 1, VC_NONE, 0, 0},
	[DQ_RT_ISCOMPLETE] = {"IsComplete", 1, 1, VC_NONE, 1, 0},
	[DQ_RT_COMPLETENESS] = {"Completeness", 1, 1, VC_NUMERIC, 1, 0},
	[DQ_RT_ISUNIQUE] = {"IsUnique", 1, 1, VC_NONE, 1, 0},
	[DQ_RT_UNIQUENESS] = {"Uniqueness", 1, -1, VC_NUMERIC, 1, 0},
	[DQ_RT_ISPRIMARYKEY] = {"IsPrimaryKey", 1, -1, VC_NONE, 1, 0},
	[DQ_RT_UNIQUEVALUERATIO] = {"UniqueValueRatio", 1, -1, VC_NUMERIC, 1, 0},
	[DQ_RT_DISTINCTVALUESCOUNT] = {"DistinctValuesCount", 1, -1, VC_NUMERIC, 1, 0},
	[DQ_RT_COLUMNVALUES] = {"ColumnValues", 1, 1, VC_ANY, 1, 1},
	[DQ_RT_COLUMNLENGTH] = {"ColumnLength", 1, 1, VC_NUMERIC, 1, 0},
	[DQ_RT_COLUMNDATATYPE] = {"ColumnDataType", 1, 1, VC_TYPENAME, 1, 1},
	[DQ_RT_MEAN] = {"Mean", 1, 1, VC_NUMERIC, 1, 0},
	[DQ_RT_SUM] = {"Sum", 1, 1, VC_NUMERIC, 1, 0},
	[DQ_RT_STANDARDDEVIATION] = {"StandardDeviation", 1, 1, VC_NUMERIC, 1, 0},
	[DQ_RT_ENTROPY] = {"Entropy", 1, 1, VC_NUMERIC, 1, 0},
	[DQ_RT_DATAFRESHNESS] = {"DataFreshness", 1, 1, VC_DURATION, 1, 0},
	[DQ_RT_REFERENTIALINTEGRITY] = {"ReferentialIntegrity", 2, 2, VC_NUMERIC, 0, 0},
	[DQ_RT_CUSTOMSQL] = {"CustomSql", 1, 1, VC_NUMERIC, 0, 1}
};

/* Glue rule types we recognise, to say "not supported" rather than "unknown". */
static const char *const unsupported_types[] = {
	"SchemaMatch", "RowCountMatch", "ColumnNamesMatchPattern", "Variance",
	"Range", "ColumnCorrelation", "DatasetMatch", "AggregateMatch",
	"DetectAnomalies", "FileFreshness", "FileMatch", "FileUniqueness",
	"FileSize", "AllStatistics"
};

static const struct
{
	const char *name;
	dq_agg		agg;
}			aggs[] = {
	{"avg", DQ_AGG_AVG},
	{"min", DQ_AGG_MIN},
	{"max", DQ_AGG_MAX},
	{"sum", DQ_AGG_SUM},
	{"median", DQ_AGG_MEDIAN},
	{"std", DQ_AGG_STD}
};

static const struct
{
	const char *name;
	dq_unit		unit;
}			units[] = {
	{"minute", DQ_UNIT_MINUTES},
	{"minutes", DQ_UNIT_MINUTES},
	{"hour", DQ_UNIT_HOURS},
	{"hours", DQ_UNIT_HOURS},
	{"day", DQ_UNIT_DAYS},
	{"days", DQ_UNIT_DAYS}
};

#define LENGTHOF(a) ((int) (sizeof(a) / sizeof((a)[0])))

static dq_rule *parse_rule(parser *p);
static dq_value *parse_value(parser *p, int *height);
static void vfail(parser *p, dq_status st, size_t pos, const char *feature,
				  const char *fmt, va_list ap) GPI_PRINTF(5, 0);
static void fail(parser *p, size_t pos, const char *fmt,...) GPI_PRINTF(3, 4);
static void unsupported(parser *p, size_t pos, const char *feature,
						const char *fmt,...) GPI_PRINTF(4, 5);

const char *
dq_rule_type_name(dq_rule_type t)
{
	if ((int) t < 0 || (int) t >= DQ_RT_COUNT)
		return "unknown";
	return rule_infos[t].name;
}

int
dq_value_is_dynamic(const dq_value *v)
{
	/* iterate down left operands, recurse only into right ones */
	while (v != NULL)
	{
		switch (v->kind)
		{
			case DQ_V_LAST:
			case DQ_V_INDEX:
				return 1;
			case DQ_V_BINOP:
				if (dq_value_is_dynamic(v->right))
					return 1;
				v = v->left;
				break;
			case DQ_V_ABS:
			case DQ_V_NEG:
				v = v->left;
				break;
			default:
				return 0;
		}
	}
	return 0;
}

void
dq_ruleset_free(dq_ruleset *rs)
{
	if (rs != NULL)
		gpi_arena_free((gpi_arena *) rs->arena);	/* rs lives in it too */
}

/* ---------- errors and tokens ---------- */

static void
vfail(parser *p, dq_status st, size_t pos, const char *feature, const char *fmt, va_list ap)
{
	char		msg[sizeof(p->err->message)];

	if (p->status != DQ_OK)
		return;					/* keep the first error */
	vsnprintf(msg, sizeof(msg), fmt, ap);
	p->status = st;
	dqi_set_error(p->err, p->text, pos, feature, "%s", msg);
}

static void
fail(parser *p, size_t pos, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vfail(p, DQ_ERR_SYNTAX, pos, NULL, fmt, ap);
	va_end(ap);
}

static void
unsupported(parser *p, size_t pos, const char *feature, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vfail(p, DQ_ERR_UNSUPPORTED, pos, feature, fmt, ap);
	va_end(ap);
}

/* "expected <what>, found <current token>" at the current token. */
static void
fail_expected(parser *p, const char *what)
{
	char		found[DQI_DESCRIBE_SIZE];

	dqi_describe_token(p->text, &p->tok, found, sizeof(found));
	fail(p, p->tok.pos, "expected %s, found %s", what, found);
}

static void
nomem(parser *p)
{
	if (p->status != DQ_OK)
		return;
	p->status = DQ_ERR_NOMEM;
	dqi_set_error(p->err, p->text, p->tok.pos, NULL, "out of memory parsing DQDL");
}

/* Consume the current token. */
static int
advance(parser *p)
{
	dq_status	st = DQ_ERR_SYNTAX;

	p->last_end = p->tok.pos + p->tok.len;
	if (dqi_lex_next(&p->lx, &p->tok, p->err, &st) == DQI_TOK_ERROR)
	{
		p->status = st;
		return 0;
	}
	return 1;
}

/* Consume a token of the given kind, else "expected <what>". */
static int
expect(parser *p, dqi_tok_kind kind, const char *what)
{
	if (p->tok.kind != kind)
	{
		fail_expected(p, what);
		return 0;
	}
	return advance(p);
}

static int
is_kw(parser *p, const char *word)
{
	return dqi_tok_is_ci(p->text, &p->tok, word);
}

static int
is_word(parser *p, const char *word)
{
	return dqi_tok_is(p->text, &p->tok, word);
}

/* One more level of nesting at pos, within DQ_MAX_DEPTH. */
static int
enter(parser *p, size_t pos)
{
	if (++p->depth > DQ_MAX_DEPTH)
	{
		fail(p, pos, "nesting too deep (limit %d)", DQ_MAX_DEPTH);
		return 0;
	}
	return 1;
}

static void *
alloc0(parser *p, size_t size)
{
	void	   *m = gpi_arena_alloc(p->arena, size);

	if (m == NULL)
	{
		nomem(p);
		return NULL;
	}
	memset(m, 0, size);
	return m;
}

/*
 * Room for element n of a growing array of elem-sized items in the arena:
 * arr itself or a copy twice as large (the old one stays in the arena,
 * which at most doubles what the array costs).  NULL when out of memory.
 */
static void *
grow(parser *p, void *arr, int *cap, int n, size_t elem)
{
	void	   *bigger;
	int			newcap;

	if (n < *cap)
		return arr;
	newcap = *cap > 0 ? *cap * 2 : 4;
	bigger = gpi_arena_alloc(p->arena, (size_t) newcap * elem);
	if (bigger == NULL)
	{
		nomem(p);
		return NULL;
	}
	if (n > 0)
		memcpy(bigger, arr, (size_t) n * elem);
	*cap = newcap;
	return bigger;
}

static const char *
string_token(parser *p)
{
	char	   *s = dqi_string_value(p->arena, p->text, &p->tok);

	if (s == NULL)
		nomem(p);
	return s;
}

/* ---------- values ---------- */

static dq_value *
new_value(parser *p, dq_value_kind kind, size_t pos)
{
	dq_value   *v = alloc0(p, sizeof(dq_value));

	if (v != NULL)
	{
		v->kind = kind;
		v->pos = (int) pos;
	}
	return v;
}

/*
 * Tree height of a new operator node over children of heights h1 and h2
 * (literals count 0), or -1 after an error when it passes DQ_MAX_DEPTH.
 */
static int
op_height(parser *p, size_t pos, int h1, int h2)
{
	int			h = (h1 > h2 ? h1 : h2) + 1;

	if (h > DQ_MAX_DEPTH)
	{
		fail(p, pos, "expression nested too deeply (limit %d)", DQ_MAX_DEPTH);
		return -1;
	}
	return h;
}

/*
 * A number literal whose text runs from start to the end of the current
 * NUMBER token (start is before the token when a sign is folded in),
 * and its time unit if one follows.
 */
static dq_value *
parse_number(parser *p, size_t start)
{
	size_t		end = p->tok.pos + p->tok.len;
	dq_value   *v;
	int			i;

	/* numeric_in must accept whatever we pass on (length, exponent) */
	if (!gpi_is_decimal_n(p->text + start, end - start))
	{
		fail(p, start, "number too long or exponent out of range");
		return NULL;
	}
	v = new_value(p, DQ_V_NUMBER, start);
	if (v == NULL)
		return NULL;
	v->text = gpi_arena_strndup(p->arena, p->text + start, end - start);
	if (v->text == NULL)
	{
		nomem(p);
		return NULL;
	}
	if (!advance(p))
		return NULL;
	for (i = 0; i < LENGTHOF(units); i++)
	{
		if (is_word(p, units[i].name))
		{
			v->kind = DQ_V_DURATION;
			v->unit = units[i].unit;
			if (!advance(p))
				return NULL;
			break;
		}
	}
	return v;
}

/* A plain whole number in [lo, hi] (last(k), index positions). */
static int
parse_int(parser *p, int lo, int hi, const char *what, int *out)
{
	long		v = 0;
	size_t		i;

	if (p->tok.kind == DQI_TOK_NUMBER)
	{
		for (i = 0; i < p->tok.len; i++)
		{
			char		c = p->text[p->tok.pos + i];

			if (c < '0' || c > '9')
				break;
			if (v <= hi)		/* stop growing once out of range */
				v = v * 10 + (c - '0');
		}
		if (i == p->tok.len && v >= lo && v <= hi)
		{
			*out = (int) v;
			return advance(p);
		}
	}
	fail_expected(p, what);
	return 0;
}

/* "last" "(" INT ")": the k of last(k). */
static int
parse_last(parser *p, int *k)
{
	if (!expect(p, DQI_TOK_LPAREN, "\"(\""))
		return 0;
	if (!is_word(p, "last"))
	{
		fail_expected(p, "last(k)");
		return 0;
	}
	if (!advance(p) || !expect(p, DQI_TOK_LPAREN, "\"(\"") ||
		!parse_int(p, 1, 1000, "a count from 1 to 1000", k) ||
		!expect(p, DQI_TOK_RPAREN, "\")\""))
		return 0;
	return 1;
}

static dq_value *
parse_factor(parser *p, int *height)
{
	size_t		pos = p->tok.pos;
	dq_value   *v;
	int			i;

	*height = 0;
	switch (p->tok.kind)
	{
		case DQI_TOK_NUMBER:
			return parse_number(p, pos);

		case DQI_TOK_STRING:
			v = new_value(p, DQ_V_STRING, pos);
			if (v == NULL || (v->text = string_token(p)) == NULL || !advance(p))
				return NULL;
			return v;

		case DQI_TOK_MINUS:
			if (!enter(p, pos) || !advance(p))
				return NULL;
			if (p->tok.kind == DQI_TOK_NUMBER && p->tok.pos == pos + 1)
			{
				/* -5 written as one literal keeps its text */
				v = parse_number(p, pos);
			}
			else
			{
				int			h;
				dq_value   *inner = parse_factor(p, &h);

				if (inner == NULL || (h = op_height(p, pos, h, 0)) < 0)
					return NULL;
				v = new_value(p, DQ_V_NEG, pos);
				if (v == NULL)
					return NULL;
				v->left = inner;
				*height = h;
			}
			p->depth--;
			return v;

		case DQI_TOK_LPAREN:
			if (!enter(p, pos) || !advance(p))
				return NULL;
			v = parse_value(p, height);
			if (v == NULL || !expect(p, DQI_TOK_RPAREN, "\")\""))
				return NULL;
			v->pos = (int) pos;
			p->depth--;
			return v;

		case DQI_TOK_IDENT:
			break;

		default:
			fail_expected(p, "a value");
			return NULL;
	}

	/* keywords: NULL EMPTY WHITESPACES_ONLY now() agg(last(k)) index() abs() */
	if (is_word(p, "NULL") || is_word(p, "EMPTY") || is_word(p, "WHITESPACES_ONLY"))
	{
		v = new_value(p, is_word(p, "NULL") ? DQ_V_NULL :
					  is_word(p, "EMPTY") ? DQ_V_EMPTY : DQ_V_WHITESPACES_ONLY, pos);
		if (v == NULL || !advance(p))
			return NULL;
		return v;
	}
	if (is_word(p, "now"))
	{
		if (!advance(p) || !expect(p, DQI_TOK_LPAREN, "\"(\"") ||
			!expect(p, DQI_TOK_RPAREN, "\")\""))
			return NULL;
		return new_value(p, DQ_V_NOW, pos);
	}
	for (i = 0; i < LENGTHOF(aggs); i++)
	{
		if (is_word(p, aggs[i].name))
		{
			v = new_value(p, DQ_V_LAST, pos);
			if (v == NULL)
				return NULL;
			v->agg = aggs[i].agg;
			if (!advance(p) || !parse_last(p, &v->k) ||
				!expect(p, DQI_TOK_RPAREN, "\")\""))
				return NULL;
			return v;
		}
	}
	if (is_word(p, "index"))
	{
		char		what[64];

		v = new_value(p, DQ_V_INDEX, pos);
		if (v == NULL || !advance(p) || !parse_last(p, &v->k) ||
			!expect(p, DQI_TOK_COMMA, "\",\""))
			return NULL;
		snprintf(what, sizeof(what), "an index from 0 to %d", v->k - 1);
		if (!parse_int(p, 0, v->k - 1, what, &v->index) ||
			!expect(p, DQI_TOK_RPAREN, "\")\""))
			return NULL;
		return v;
	}
	if (is_word(p, "abs"))
	{
		int			h;

		v = new_value(p, DQ_V_ABS, pos);
		if (v == NULL || !enter(p, pos) || !advance(p) ||
			!expect(p, DQI_TOK_LPAREN, "\"(\""))
			return NULL;
		v->left = parse_value(p, &h);
		if (v->left == NULL || (h = op_height(p, pos, h, 0)) < 0 ||
			!expect(p, DQI_TOK_RPAREN, "\")\""))
			return NULL;
		*height = h;
		p->depth--;
		return v;
	}
	fail_expected(p, "a value");
	return NULL;
}

/* The current token as a binary operator of the level (+ - or * /), else 0. */
static char
binop_char(parser *p, int additive)
{
	switch (p->tok.kind)
	{
		case DQI_TOK_PLUS:
			return additive ? '+' : 0;
		case DQI_TOK_MINUS:
			return additive ? '-' : 0;
		case DQI_TOK_STAR:
			return additive ? 0 : '*';
		case DQI_TOK_SLASH:
			return additive ? 0 : '/';
		default:
			return 0;
	}
}

/*
 * term := factor { ("*"|"/") factor }, or with additive set,
 * value := term { ("+"|"-") term }.  Loops, left-associative: a long chain
 * costs no stack, only tree height (capped by op_height).
 */
static dq_value *
parse_chain(parser *p, int additive, int *height)
{
	int			hl;
	dq_value   *left = additive ? parse_chain(p, 0, &hl) : parse_factor(p, &hl);
	char		op;

	if (left == NULL)
		return NULL;
	while ((op = binop_char(p, additive)) != 0)
	{
		size_t		op_pos = p->tok.pos;
		int			hr;
		dq_value   *right;
		dq_value   *v;

		if (!advance(p))
			return NULL;
		right = additive ? parse_chain(p, 0, &hr) : parse_factor(p, &hr);
		if (right == NULL || (hl = op_height(p, op_pos, hl, hr)) < 0)
			return NULL;
		v = new_value(p, DQ_V_BINOP, (size_t) left->pos);
		if (v == NULL)
			return NULL;
		v->binop = op;
		v->left = left;
		v->right = right;
		left = v;
	}
	*height = hl;
	return left;
}

static dq_value *
parse_value(parser *p, int *height)
{
	return parse_chain(p, 1, height);
}

/* ---------- conditions ---------- */

static int
starts_cond(parser *p)
{
	switch (p->tok.kind)
	{
		case DQI_TOK_EQ:
		case DQI_TOK_NE:
		case DQI_TOK_GT:
		case DQI_TOK_GE:
		case DQI_TOK_LT:
		case DQI_TOK_LE:
			return 1;
		default:
			return is_kw(p, "not") || is_kw(p, "between") || is_kw(p, "in") ||
				is_kw(p, "matches");
	}
}

static int
cond_values(parser *p, dq_cond *c, int n)
{
	c->nvalues = n;
	c->values = alloc0(p, (size_t) n * sizeof(dq_value *));
	return c->values != NULL;
}

static int
parse_cond(parser *p, dq_cond *c)
{
	int			h;
	int			negated = 0;

	c->pos = (int) p->tok.pos;
	switch (p->tok.kind)
	{
		case DQI_TOK_EQ:
			c->op = DQ_OP_EQ;
			break;
		case DQI_TOK_NE:
			c->op = DQ_OP_NE;
			break;
		case DQI_TOK_GT:
			c->op = DQ_OP_GT;
			break;
		case DQI_TOK_GE:
			c->op = DQ_OP_GE;
			break;
		case DQI_TOK_LT:
			c->op = DQ_OP_LT;
			break;
		case DQI_TOK_LE:
			c->op = DQ_OP_LE;
			break;
		default:
			c->op = DQ_OP_NONE;
			break;
	}
	if (c->op != DQ_OP_NONE)
	{
		if (!advance(p) || !cond_values(p, c, 1))
			return 0;
		c->values[0] = parse_value(p, &h);
		return c->values[0] != NULL;
	}

	if (is_kw(p, "not"))
	{
		negated = 1;
		if (!advance(p))
			return 0;
	}
	if (is_kw(p, "between"))
	{
		c->op = negated ? DQ_OP_NOT_BETWEEN : DQ_OP_BETWEEN;
		if (!advance(p) || !cond_values(p, c, 2) ||
			(c->values[0] = parse_value(p, &h)) == NULL)
			return 0;
		if (!is_kw(p, "and"))
		{
			fail_expected(p, "\"and\"");
			return 0;
		}
		if (!advance(p))
			return 0;
		c->values[1] = parse_value(p, &h);
		return c->values[1] != NULL;
	}
	if (is_kw(p, "in"))
	{
		dq_value  **vals = NULL;
		int			cap = 0;
		int			n = 0;

		c->op = negated ? DQ_OP_NOT_IN : DQ_OP_IN;
		if (!advance(p) || !expect(p, DQI_TOK_LBRACKET, "\"[\""))
			return 0;
		for (;;)
		{
			dq_value   *v;

			if (n == DQ_MAX_LIST)
			{
				fail(p, p->tok.pos, "too many values in the list (limit %d)", DQ_MAX_LIST);
				return 0;
			}
			if ((v = parse_value(p, &h)) == NULL ||
				(vals = grow(p, vals, &cap, n, sizeof(*vals))) == NULL)
				return 0;
			vals[n++] = v;
			if (p->tok.kind != DQI_TOK_COMMA)
				break;
			if (!advance(p))
				return 0;
		}
		if (!expect(p, DQI_TOK_RBRACKET, "\",\" or \"]\""))
			return 0;
		c->nvalues = n;
		c->values = vals;
		return 1;
	}
	if (is_kw(p, "matches"))
	{
		c->op = negated ? DQ_OP_NOT_MATCHES : DQ_OP_MATCHES;
		if (!advance(p))
			return 0;
		if (p->tok.kind != DQI_TOK_STRING)
		{
			fail_expected(p, "a quoted regular expression");
			return 0;
		}
		if (!cond_values(p, c, 1) ||
			(c->values[0] = new_value(p, DQ_V_STRING, p->tok.pos)) == NULL ||
			(c->values[0]->text = string_token(p)) == NULL)
			return 0;
		return advance(p);
	}
	fail_expected(p, negated ? "between, in or matches after not" :
				  "a condition (=, !=, >, >=, <, <=, between, in or matches)");
	return 0;
}

/* Numbers, history references and arithmetic on them. */
static int
is_numeric(const dq_value *v)
{
	switch (v->kind)
	{
		case DQ_V_NUMBER:
		case DQ_V_LAST:
		case DQ_V_INDEX:
			return 1;
		case DQ_V_ABS:
		case DQ_V_NEG:
			return is_numeric(v->left);
		case DQ_V_BINOP:
			return is_numeric(v->left) && is_numeric(v->right);
		default:
			return 0;
	}
}

static int
is_comparison_or_between(dq_op op)
{
	return (op >= DQ_OP_EQ && op <= DQ_OP_LE) || op == DQ_OP_BETWEEN ||
		op == DQ_OP_NOT_BETWEEN;
}

/* What the rule type compares, checked with the positions of the text. */
static int
check_cond(parser *p, const rule_info *info, const dq_cond *c)
{
	int			i;

	switch (info->values)
	{
		case VC_NUMERIC:
			if (c->op == DQ_OP_MATCHES || c->op == DQ_OP_NOT_MATCHES)
			{
				fail(p, (size_t) c->pos, "matches is only allowed on ColumnValues");
				return 0;
			}
			for (i = 0; i < c->nvalues; i++)
			{
				if (!is_numeric(c->values[i]))
				{
					fail(p, (size_t) c->values[i]->pos, "%s needs a numeric value here",
						 info->name);
					return 0;
				}
			}
			return 1;
		case VC_DURATION:
			if (!is_comparison_or_between(c->op))
			{
				fail(p, (size_t) c->pos, "%s takes a comparison or between", info->name);
				return 0;
			}
			for (i = 0; i < c->nvalues; i++)
			{
				if (c->values[i]->kind != DQ_V_DURATION)
				{
					fail(p, (size_t) c->values[i]->pos,
						 "%s needs a time unit (hours, days or minutes)", info->name);
					return 0;
				}
			}
			return 1;
		case VC_TYPENAME:
			if (c->op != DQ_OP_EQ && c->op != DQ_OP_NE && c->op != DQ_OP_IN &&
				c->op != DQ_OP_NOT_IN)
			{
				fail(p, (size_t) c->pos, "%s takes =, !=, in or not in", info->name);
				return 0;
			}
			for (i = 0; i < c->nvalues; i++)
			{
				if (c->values[i]->kind != DQ_V_STRING)
				{
					fail(p, (size_t) c->values[i]->pos,
						 "%s needs a quoted type name such as \"Integer\"", info->name);
					return 0;
				}
			}
			return 1;
		case VC_ANY:
		case VC_NONE:
			break;
	}
	return 1;
}

static int
check_threshold(parser *p, const dq_cond *c)
{
	int			i;

	if (!is_comparison_or_between(c->op))
	{
		fail(p, (size_t) c->pos, "with threshold takes a comparison or between");
		return 0;
	}
	for (i = 0; i < c->nvalues; i++)
	{
		if (!is_numeric(c->values[i]))
		{
			fail(p, (size_t) c->values[i]->pos, "with threshold needs a numeric value");
			return 0;
		}
	}
	return 1;
}

/* ---------- rules ---------- */

/*
 * The current token cannot follow a rule where expected was wanted.  and/or
 * after a bare rule get their own message: it is the usual mistake.  Labels
 * after a composite rule are named like those after a leaf.
 */
static void
fail_after_rule(parser *p, const char *expected)
{
	if (is_kw(p, "labels"))
		unsupported(p, p->tok.pos, "labels", "DQDL labels are not supported by gemini_etl");
	else if (is_kw(p, "and") || is_kw(p, "or"))
		fail(p, p->tok.pos,
			 "each operand of and/or needs parentheses, as in (A) and (B)");
	else
		fail_expected(p, expected);
}

static void
arity_error(parser *p, const rule_info *info, size_t pos, int nargs)
{
	char		want[32];

	if (info->max_args == 0)
		snprintf(want, sizeof(want), "no quoted argument");
	else if (info->max_args < 0)
		snprintf(want, sizeof(want), "at least %d quoted argument%s",
				 info->min_args, info->min_args == 1 ? "" : "s");
	else
		snprintf(want, sizeof(want), "%d quoted argument%s",
				 info->min_args, info->min_args == 1 ? "" : "s");
	fail(p, pos, "%s takes %s, found %d", info->name, want, nargs);
}

/* RuleType { STRING } [ cond ] [ where STRING ] [ with threshold cond ], at an identifier. */
static dq_rule *
parse_leaf(parser *p)
{
	size_t		start = p->tok.pos;
	size_t		argpos[DQ_MAX_ARGS];
	const char *args[DQ_MAX_ARGS];
	int			nargs = 0;
	const rule_info *info = NULL;
	dq_rule    *r;
	int			t;
	int			i;

	for (t = 0; t < DQ_RT_COUNT; t++)
	{
		if (is_word(p, rule_infos[t].name))
		{
			info = &rule_infos[t];
			break;
		}
	}
	if (info == NULL)
	{
		char		found[DQI_DESCRIBE_SIZE];

		for (i = 0; i < LENGTHOF(unsupported_types); i++)
		{
			if (is_word(p, unsupported_types[i]))
			{
				unsupported(p, start, unsupported_types[i],
							"DQDL rule type %s is not supported by gemini_etl",
							unsupported_types[i]);
				return NULL;
			}
		}
		/* the other sections of a document, pasted as one rule */
		if (is_word(p, "Analyzers"))
			unsupported(p, start, "Analyzers", "DQDL Analyzers are not supported by gemini_etl");
		else if (is_word(p, "DefaultLabels"))
			unsupported(p, start, "labels", "DQDL labels are not supported by gemini_etl");
		else
		{
			dqi_describe_token(p->text, &p->tok, found, sizeof(found));
			fail(p, start, "unknown rule type %s", found);
		}
		return NULL;
	}

	r = alloc0(p, sizeof(dq_rule));
	if (r == NULL || !advance(p))
		return NULL;
	r->kind = DQ_LEAF;
	r->type = (dq_rule_type) t;
	r->start = (int) start;

	while (p->tok.kind == DQI_TOK_STRING)
	{
		if (nargs == DQ_MAX_ARGS)
		{
			fail(p, p->tok.pos, "too many quoted arguments (limit %d)", DQ_MAX_ARGS);
			return NULL;
		}
		argpos[nargs] = p->tok.pos;
		if ((args[nargs] = string_token(p)) == NULL || !advance(p))
			return NULL;
		nargs++;
	}
	if (nargs < info->min_args)
	{
		arity_error(p, info, p->tok.pos, nargs);
		return NULL;
	}
	if (info->max_args >= 0 && nargs > info->max_args)
	{
		arity_error(p, info, argpos[info->max_args], nargs);
		return NULL;
	}
	if (nargs > 0)
	{
		r->args = alloc0(p, (size_t) nargs * sizeof(const char *));
		if (r->args == NULL)
			return NULL;
		memcpy(r->args, args, (size_t) nargs * sizeof(const char *));
	}
	r->nargs = nargs;

	if (starts_cond(p))
	{
		if (info->values == VC_NONE)
		{
			fail(p, p->tok.pos, "%s takes no condition", info->name);
			return NULL;
		}
		if (!parse_cond(p, &r->cond) || !check_cond(p, info, &r->cond))
			return NULL;
	}
	else if (info->values != VC_NONE &&
			 !(info->threshold_ok && info->min_args == 1 && strcmp(info->name, "CustomSql") == 0 && is_kw(p, "with")))
	{
		/* (Glue's row-level CustomSql: "select id from primary where ..." with threshold > 0.9) */
		fail_expected(p, "a condition (=, !=, >, >=, <, <=, between, in or matches)");
		return NULL;
	}

	if (is_kw(p, "where"))
	{
		if (!info->where_ok)
		{
			fail(p, p->tok.pos, "where is not allowed on %s", info->name);
			return NULL;
		}
		if (!advance(p))
			return NULL;
		if (p->tok.kind != DQI_TOK_STRING)
		{
			fail_expected(p, "a quoted filter after where");
			return NULL;
		}
		if ((r->where = string_token(p)) == NULL || !advance(p))
			return NULL;
	}

	if (is_kw(p, "with"))
	{
		if (!info->threshold_ok)
		{
			fail(p, p->tok.pos,
				 "with threshold is only allowed on ColumnValues, ColumnDataType and CustomSql");
			return NULL;
		}
		if (!advance(p))
			return NULL;
		if (!is_kw(p, "threshold"))
		{
			fail_expected(p, "\"threshold\"");
			return NULL;
		}
		if (!advance(p))
			return NULL;
		if (!starts_cond(p))
		{
			fail_expected(p, "a comparison or between after with threshold");
			return NULL;
		}
		if (!parse_cond(p, &r->threshold) || !check_threshold(p, &r->threshold))
			return NULL;
		r->has_threshold = 1;
		if (is_kw(p, "where"))
		{
			fail(p, p->tok.pos, "where must come before with threshold");
			return NULL;
		}
	}

	if (is_kw(p, "labels"))
	{
		unsupported(p, p->tok.pos, "labels", "DQDL labels are not supported by gemini_etl");
		return NULL;
	}
	r->end = (int) p->last_end;
	return r;
}

/* "(" rule ")": the rule, its span widened to the parentheses. */
static dq_rule *
parse_paren(parser *p)
{
	size_t		start = p->tok.pos;
	dq_rule    *r;

	if (!enter(p, start) || !advance(p))
		return NULL;
	r = parse_rule(p);
	if (r == NULL)
		return NULL;
	if (p->tok.kind != DQI_TOK_RPAREN)
	{
		fail_after_rule(p, "\")\"");
		return NULL;
	}
	if (!advance(p))
		return NULL;
	r->start = (int) start;
	r->end = (int) p->last_end;
	p->depth--;
	return r;
}

static dq_rule *
parse_rule(parser *p)
{
	dq_rule    *first;
	dq_rule    *r;
	dq_rule   **kids = NULL;
	int			cap = 0;
	int			n = 0;
	int			is_and;

	if (p->tok.kind == DQI_TOK_IDENT)
		return parse_leaf(p);
	if (p->tok.kind != DQI_TOK_LPAREN)
	{
		fail_expected(p, "a rule");
		return NULL;
	}
	first = parse_paren(p);
	if (first == NULL)
		return NULL;
	if (!is_kw(p, "and") && !is_kw(p, "or"))
		return first;			/* (A) alone is A */

	is_and = is_kw(p, "and");
	if ((kids = grow(p, kids, &cap, n, sizeof(*kids))) == NULL)
		return NULL;
	kids[n++] = first;
	while (is_kw(p, "and") || is_kw(p, "or"))
	{
		dq_rule    *kid;

		if (is_kw(p, "and") != is_and)
		{
			fail(p, p->tok.pos, "and and or cannot be mixed at one level: add parentheses");
			return NULL;
		}
		if (!advance(p))
			return NULL;
		if (p->tok.kind != DQI_TOK_LPAREN)
		{
			fail_expected(p, "\"(\" (each operand of and/or needs parentheses)");
			return NULL;
		}
		if (n == DQ_MAX_RULES)
		{
			fail(p, p->tok.pos, "too many operands in one composite rule (limit %d)",
				 DQ_MAX_RULES);
			return NULL;
		}
		if ((kid = parse_paren(p)) == NULL ||
			(kids = grow(p, kids, &cap, n, sizeof(*kids))) == NULL)
			return NULL;
		kids[n++] = kid;
	}
	r = alloc0(p, sizeof(dq_rule));
	if (r == NULL)
		return NULL;
	r->kind = is_and ? DQ_AND : DQ_OR;
	r->nchildren = n;
	r->children = kids;
	r->start = first->start;
	r->end = (int) p->last_end;
	return r;
}

/* ---------- documents ---------- */

static int
add_rule(parser *p, dq_ruleset *rs, int *cap, dq_rule *r)
{
	if ((rs->rules = grow(p, rs->rules, cap, rs->nrules, sizeof(*rs->rules))) == NULL)
		return 0;
	rs->rules[rs->nrules++] = r;
	return 1;
}

/* "[" rule { "," rule } [","] "]", the current token being "[". */
static int
parse_list(parser *p, dq_ruleset *rs)
{
	int			cap = 0;

	if (!advance(p))
		return 0;
	if (p->tok.kind == DQI_TOK_RBRACKET)
	{
		fail(p, p->tok.pos, "a ruleset needs at least one rule");
		return 0;
	}
	for (;;)
	{
		dq_rule    *r;

		if (rs->nrules == DQ_MAX_RULES)
		{
			fail(p, p->tok.pos, "too many rules (limit %d)", DQ_MAX_RULES);
			return 0;
		}
		if ((r = parse_rule(p)) == NULL || !add_rule(p, rs, &cap, r))
			return 0;
		if (p->tok.kind == DQI_TOK_COMMA)
		{
			if (!advance(p))
				return 0;
			if (p->tok.kind == DQI_TOK_RBRACKET)
				break;			/* trailing comma */
			continue;
		}
		if (p->tok.kind == DQI_TOK_RBRACKET)
			break;
		fail_after_rule(p, "\",\" or \"]\"");
		return 0;
	}
	return advance(p);
}

/*
 * Top-level sections.  Only one rule list is taken; the other sections of
 * Glue documents are named as unsupported wherever they stand, so pasting
 * a document that relies on them fails loudly rather than half-parsed.
 */
static int
parse_document(parser *p, dq_ruleset *rs)
{
	int			have_rules = 0;

	for (;;)
	{
		size_t		pos = p->tok.pos;

		if (p->tok.kind == DQI_TOK_EOF && have_rules)
			return 1;
		if (p->tok.kind == DQI_TOK_LBRACKET && !have_rules)
		{
			if (!parse_list(p, rs))
				return 0;
			have_rules = 1;
			continue;
		}
		if (p->tok.kind == DQI_TOK_IDENT)
		{
			if (is_word(p, "Analyzers"))
			{
				unsupported(p, pos, "Analyzers", "DQDL Analyzers are not supported by gemini_etl");
				return 0;
			}
			if (is_word(p, "DefaultLabels"))
			{
				unsupported(p, pos, "labels", "DQDL labels are not supported by gemini_etl");
				return 0;
			}
			if (is_word(p, "Metadata") || is_word(p, "Sources"))
			{
				const char *what = is_word(p, "Metadata") ? "Metadata" : "Sources";

				unsupported(p, pos, what, "the DQDL %s section is not supported by gemini_etl",
							what);
				return 0;
			}
			if (is_word(p, "Rules") && !have_rules)
			{
				if (!advance(p) || !expect(p, DQI_TOK_EQ, "\"=\""))
					return 0;
				if (p->tok.kind != DQI_TOK_LBRACKET)
				{
					fail_expected(p, "\"[\"");
					return 0;
				}
				if (!parse_list(p, rs))
					return 0;
				have_rules = 1;
				continue;
			}
			if (!is_word(p, "Rules"))
			{
				/* name = ... is a constant definition */
				dqi_token	name = p->tok;
				char		found[DQI_DESCRIBE_SIZE];

				if (!advance(p))
					return 0;
				if (p->tok.kind == DQI_TOK_EQ)
				{
					unsupported(p, pos, "constants",
								"DQDL constants are not supported by gemini_etl");
					return 0;
				}
				dqi_describe_token(p->text, &name, found, sizeof(found));
				fail(p, pos, "expected %s, found %s",
					 have_rules ? "end of input" : "Rules = [", found);
				return 0;
			}
		}
		fail_expected(p, have_rules ? "end of input" : "Rules = [");
		return 0;
	}
}

static dq_status
parse_text(const char *text, size_t len, dq_ruleset **out, dq_error *err, int document)
{
	dq_error	scratch;
	parser		p;
	dq_ruleset *rs;
	const char *nul;

	if (err == NULL)
		err = &scratch;
	memset(err, 0, sizeof(*err));
	if (out == NULL)
	{
		snprintf(err->message, sizeof(err->message), "no place for the result (out is NULL)");
		return DQ_ERR_SYNTAX;
	}
	*out = NULL;
	if (text == NULL)
		len = 0;
	if (text == NULL)
		text = "";
	if (len > DQI_MAX_INPUT)
	{
		dqi_set_error(err, text, 0, NULL, "DQDL text longer than %zu bytes", DQI_MAX_INPUT);
		return DQ_ERR_SYNTAX;
	}
	nul = memchr(text, '\0', len);
	if (nul != NULL)
	{
		dqi_set_error(err, text, (size_t) (nul - text), NULL, "NUL byte in DQDL text");
		return DQ_ERR_SYNTAX;
	}

	memset(&p, 0, sizeof(p));
	p.text = text;
	p.len = len;
	p.err = err;
	p.status = DQ_OK;
	/* a few hundred bytes of tree per short rule; grows if that was short */
	p.arena = gpi_arena_new(len < 64 * 1024 ? 1024 + len * 4 : 256 * 1024);
	if (p.arena == NULL)
	{
		dqi_set_error(err, text, 0, NULL, "out of memory parsing DQDL");
		return DQ_ERR_NOMEM;
	}
	rs = alloc0(&p, sizeof(dq_ruleset));
	if (rs != NULL)
	{
		rs->arena = p.arena;
		dqi_lex_init(&p.lx, text, len);
		if (advance(&p))
		{
			if (document)
				parse_document(&p, rs);
			else
			{
				dq_rule    *r = parse_rule(&p);
				int			cap = 0;

				if (r != NULL)
				{
					if (p.tok.kind != DQI_TOK_EOF)
						fail_after_rule(&p, "end of input");
					else
						add_rule(&p, rs, &cap, r);
				}
			}
		}
	}
	if (p.status != DQ_OK)
	{
		gpi_arena_free(p.arena);
		return p.status;
	}
	memset(err, 0, sizeof(*err));
	*out = rs;
	return DQ_OK;
}

dq_status
dq_parse_rule(const char *text, size_t len, dq_ruleset **out, dq_error *err)
{
	return parse_text(text, len, out, err, 0);
}

dq_status
dq_parse_ruleset(const char *text, size_t len, dq_ruleset **out, dq_error *err)
{
	return parse_text(text, len, out, err, 1);
}
