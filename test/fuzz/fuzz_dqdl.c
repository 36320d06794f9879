/*
 * fuzz_dqdl.c
 *	  libFuzzer target: the DQDL parser (src/parse/dqdl.h) on arbitrary bytes.
 *
 * Every input goes through dq_parse_rule and dq_parse_ruleset.  Besides "does
 * not crash, leak or hit undefined behaviour" (the sanitizers' job), it
 * checks the promises the caller (gemini_add_rule, the rule compiler)
 * relies on, and abort()s when one is broken so libFuzzer saves the input:
 *  - a failure leaves *out NULL, a position inside the input whose line and
 *    column agree with it, a non-empty message, and a feature name exactly
 *    when the status is DQ_ERR_UNSUPPORTED;
 *  - a success has 1 (dq_parse_rule) or 1..DQ_MAX_RULES rules, each a well
 *    formed tree: spans inside the input and inside their parent, strings
 *    where the kind says so, number texts that numeric_in accepts, last(k)
 *    and index() within range, value trees no taller than DQ_MAX_DEPTH;
 *  - round trips: every top-level rule of a ruleset, parsed alone from its
 *    span, is the same tree (so storing rule texts is lossless), and a rule
 *    that parses alone is also a one-rule ruleset once bracketed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dqdl.h"
#include "gemini_parse.h"

#define REQUIRE(cond) do { if (!(cond)) abort(); } while (0)

static void
check_error(dq_status st, const dq_error *e, const char *text, size_t len,
			const dq_ruleset *out)
{
	int			line = 1;
	int			col = 1;
	int			i;

	REQUIRE(st == DQ_ERR_SYNTAX || st == DQ_ERR_UNSUPPORTED || st == DQ_ERR_NOMEM);
	REQUIRE(out == NULL);
	REQUIRE(e->pos >= 0 && (size_t) e->pos <= len);
	for (i = 0; i < e->pos; i++)
	{
		col++;
		if (text[i] == '\n')
		{
			line++;
			col = 1;
		}
	}
	REQUIRE(e->line == line && e->column == col);
	REQUIRE(memchr(e->message, '\0', sizeof(e->message)) != NULL && e->message[0] != '\0');
	REQUIRE(memchr(e->feature, '\0', sizeof(e->feature)) != NULL);
	REQUIRE((st == DQ_ERR_UNSUPPORTED) == (e->feature[0] != '\0'));
}

/* Height of a well-formed value tree (literals 0), checking it on the way. */
static int
check_value(const dq_value *v, size_t len)
{
	int			h = 0;

	REQUIRE(v != NULL && v->pos >= 0 && (size_t) v->pos < len);
	switch (v->kind)
	{
		case DQ_V_NUMBER:
			REQUIRE(v->text != NULL && gp_is_decimal(v->text));
			break;
		case DQ_V_DURATION:
			REQUIRE(v->text != NULL && gp_is_decimal(v->text));
			REQUIRE(v->unit == DQ_UNIT_MINUTES || v->unit == DQ_UNIT_HOURS ||
					v->unit == DQ_UNIT_DAYS);
			break;
		case DQ_V_STRING:
			REQUIRE(v->text != NULL);
			break;
		case DQ_V_NULL:
		case DQ_V_EMPTY:
		case DQ_V_WHITESPACES_ONLY:
		case DQ_V_NOW:
			break;
		case DQ_V_LAST:
			REQUIRE(v->k >= 1 && v->k <= 1000 && (unsigned) v->agg <= (unsigned) DQ_AGG_STD);
			break;
		case DQ_V_INDEX:
			REQUIRE(v->k >= 1 && v->k <= 1000 && v->index >= 0 && v->index < v->k);
			break;
		case DQ_V_ABS:
		case DQ_V_NEG:
			h = check_value(v->left, len) + 1;
			break;
		case DQ_V_BINOP:
			{
				int			hl = check_value(v->left, len);
				int			hr = check_value(v->right, len);

				REQUIRE(v->binop == '+' || v->binop == '-' || v->binop == '*' || v->binop == '/');
				h = (hl > hr ? hl : hr) + 1;
				break;
			}
		default:
			abort();
	}
	REQUIRE(h <= DQ_MAX_DEPTH);
	REQUIRE(dq_value_is_dynamic(v) == 0 || dq_value_is_dynamic(v) == 1);
	return h;
}

static void
check_cond(const dq_cond *c, size_t len)
{
	int			i;

	switch (c->op)
	{
		case DQ_OP_NONE:
			REQUIRE(c->nvalues == 0);
			return;
		case DQ_OP_BETWEEN:
		case DQ_OP_NOT_BETWEEN:
			REQUIRE(c->nvalues == 2);
			break;
		case DQ_OP_IN:
		case DQ_OP_NOT_IN:
			REQUIRE(c->nvalues >= 1 && c->nvalues <= DQ_MAX_LIST);
			break;
		case DQ_OP_MATCHES:
		case DQ_OP_NOT_MATCHES:
			REQUIRE(c->nvalues == 1 && c->values[0]->kind == DQ_V_STRING);
			break;
		default:
			REQUIRE((unsigned) c->op <= (unsigned) DQ_OP_LE && c->nvalues == 1);
			break;
	}
	REQUIRE(c->pos >= 0 && (size_t) c->pos < len);
	for (i = 0; i < c->nvalues; i++)
		check_value(c->values[i], len);
}

static void
check_rule(const dq_rule *r, size_t len, int lo, int hi, int depth)
{
	int			i;

	REQUIRE(depth <= DQ_MAX_DEPTH + 1);
	REQUIRE(r != NULL && r->start >= lo && r->start < r->end && r->end <= hi);
	REQUIRE((size_t) r->end <= len);
	if (r->kind == DQ_AND || r->kind == DQ_OR)
	{
		REQUIRE(r->nchildren >= 2 && r->nchildren <= DQ_MAX_RULES);
		for (i = 0; i < r->nchildren; i++)
		{
			check_rule(r->children[i], len, r->start, r->end, depth + 1);
			if (i > 0)
				REQUIRE(r->children[i]->start >= r->children[i - 1]->end);
		}
		return;
	}
	REQUIRE(r->kind == DQ_LEAF && r->nchildren == 0);
	REQUIRE((int) r->type >= 0 && (int) r->type < DQ_RT_COUNT);
	REQUIRE(strcmp(dq_rule_type_name(r->type), "unknown") != 0);
	REQUIRE(r->nargs >= 0 && r->nargs <= DQ_MAX_ARGS);
	for (i = 0; i < r->nargs; i++)
		REQUIRE(r->args[i] != NULL);
	check_cond(&r->cond, len);
	REQUIRE(r->has_threshold == 0 || r->has_threshold == 1);
	if (r->has_threshold)
	{
		REQUIRE(r->threshold.op != DQ_OP_NONE);
		check_cond(&r->threshold, len);
	}
	else
		REQUIRE(r->threshold.op == DQ_OP_NONE);
}

/* Same values, b's positions being a's minus shift. */
static int
same_value(const dq_value *a, const dq_value *b, int shift)
{
	if (a->kind != b->kind || a->pos != b->pos + shift || a->unit != b->unit ||
		a->agg != b->agg || a->k != b->k || a->index != b->index || a->binop != b->binop)
		return 0;
	if ((a->text == NULL) != (b->text == NULL) ||
		(a->text != NULL && strcmp(a->text, b->text) != 0))
		return 0;
	if ((a->left == NULL) != (b->left == NULL) || (a->right == NULL) != (b->right == NULL))
		return 0;
	if (a->left != NULL && !same_value(a->left, b->left, shift))
		return 0;
	return a->right == NULL || same_value(a->right, b->right, shift);
}

static int
same_cond(const dq_cond *a, const dq_cond *b, int shift)
{
	int			i;

	if (a->op != b->op || a->nvalues != b->nvalues)
		return 0;
	if (a->op != DQ_OP_NONE && a->pos != b->pos + shift)
		return 0;
	for (i = 0; i < a->nvalues; i++)
		if (!same_value(a->values[i], b->values[i], shift))
			return 0;
	return 1;
}

static int
same_rule(const dq_rule *a, const dq_rule *b, int shift)
{
	int			i;

	if (a->kind != b->kind || a->nchildren != b->nchildren ||
		a->start != b->start + shift || a->end != b->end + shift)
		return 0;
	for (i = 0; i < a->nchildren; i++)
		if (!same_rule(a->children[i], b->children[i], shift))
			return 0;
	if (a->kind != DQ_LEAF)
		return 1;
	if (a->type != b->type || a->nargs != b->nargs || a->has_threshold != b->has_threshold)
		return 0;
	for (i = 0; i < a->nargs; i++)
		if (strcmp(a->args[i], b->args[i]) != 0)
			return 0;
	if ((a->where == NULL) != (b->where == NULL) ||
		(a->where != NULL && strcmp(a->where, b->where) != 0))
		return 0;
	return same_cond(&a->cond, &b->cond, shift) &&
		same_cond(&a->threshold, &b->threshold, shift);
}

/* An exact-size copy, so ASan flags any read past len. */
static char *
copy_of(const char *s, size_t len)
{
	char	   *c = malloc(len ? len : 1);

	memcpy(c, s, len);
	return c;
}

static void
fuzz_rule(const char *buf, size_t size)
{
	dq_ruleset *rs = (dq_ruleset *) &size;
	dq_ruleset *again = (dq_ruleset *) &size;
	dq_error	e;
	dq_status	st = dq_parse_rule(buf, size, &rs, &e);
	char	   *wrapped;

	if (st != DQ_OK)
	{
		check_error(st, &e, buf, size, rs);
		return;
	}
	REQUIRE(rs != NULL && rs->nrules == 1 && e.message[0] == '\0');
	check_rule(rs->rules[0], size, 0, (int) size, 0);

	/* as the only rule of a bracketed ruleset, the same rule */
	wrapped = malloc(size + 4);
	memcpy(wrapped, "[\n", 2);
	memcpy(wrapped + 2, buf, size);
	memcpy(wrapped + 2 + size, "\n]", 2);
	st = dq_parse_ruleset(wrapped, size + 4, &again, &e);
	REQUIRE(st == DQ_OK && again->nrules == 1);
	REQUIRE(same_rule(again->rules[0], rs->rules[0], 2));
	dq_ruleset_free(again);
	free(wrapped);
	dq_ruleset_free(rs);
}

static void
fuzz_ruleset(const char *buf, size_t size)
{
	dq_ruleset *rs = (dq_ruleset *) &size;
	dq_error	e;
	dq_status	st = dq_parse_ruleset(buf, size, &rs, &e);
	int			i;

	if (st != DQ_OK)
	{
		check_error(st, &e, buf, size, rs);
		return;
	}
	REQUIRE(rs != NULL && rs->nrules >= 1 && rs->nrules <= DQ_MAX_RULES);
	REQUIRE(e.message[0] == '\0');
	for (i = 0; i < rs->nrules; i++)
	{
		const dq_rule *r = rs->rules[i];
		dq_ruleset *alone = (dq_ruleset *) &size;
		char	   *text;

		check_rule(r, size, 0, (int) size, 0);
		if (i > 0)
			REQUIRE(r->start >= rs->rules[i - 1]->end);

		/* a rule's span is a rule on its own: storing it loses nothing */
		text = copy_of(buf + r->start, (size_t) (r->end - r->start));
		st = dq_parse_rule(text, (size_t) (r->end - r->start), &alone, &e);
		REQUIRE(st == DQ_OK && alone->nrules == 1);
		REQUIRE(same_rule(r, alone->rules[0], r->start));
		dq_ruleset_free(alone);
		free(text);
	}
	dq_ruleset_free(rs);
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *buf = copy_of((const char *) data, size);

	fuzz_rule(buf, size);
	fuzz_ruleset(buf, size);
	free(buf);
	return 0;
}
