/*
 * gp_numbers.c
 *	  Strict checks of integer and decimal text.
 *
 * Gemini sends ids and timestamps either as JSON numbers or as strings of
 * digits, and prices as strings.  Both end up in PostgreSQL (int8 and
 * numeric), so these checks accept exactly the plain forms and refuse
 * everything int8in/numeric_in would refuse or silently reinterpret: no
 * spaces, no '+', no hex, no NaN/Infinity, no overflow.  Integers never go
 * through double, which would lose digits beyond 2^53 (tids are ~2.8e15).
 */
#include "parse_internal.h"

gpi_int_status
gpi_parse_int64(const char *s, size_t len, int64_t *out)
{
	size_t		i = 0;
	int			neg = 0;
	uint64_t	acc = 0;
	uint64_t	limit;

	if (s == NULL || len == 0)
		return GPI_INT_SYNTAX;
	if (s[0] == '-')
	{
		neg = 1;
		i = 1;
	}
	if (i == len)
		return GPI_INT_SYNTAX;	/* "-" alone */
	if (len - i > 19)
	{
		/* too many characters: a range error only if all are digits */
		for (; i < len; i++)
			if (s[i] < '0' || s[i] > '9')
				return GPI_INT_SYNTAX;
		return GPI_INT_RANGE;
	}

	/* 19 digits fit in uint64 without overflow; check the range after */
	for (; i < len; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return GPI_INT_SYNTAX;
		acc = acc * 10 + (uint64_t) (s[i] - '0');
	}
	limit = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
	if (acc > limit)
		return GPI_INT_RANGE;
	if (out != NULL)
	{
		if (neg)
			*out = (acc == (uint64_t) INT64_MAX + 1) ? INT64_MIN : -(int64_t) acc;
		else
			*out = (int64_t) acc;
	}
	return GPI_INT_OK;
}

int
gp_parse_int64_text(const char *s, size_t len, int64_t *out)
{
	return gpi_parse_int64(s, len, out) == GPI_INT_OK;
}

/*
 * -?(digits[.digits*]|.digits)([eE][+-]?digits)?
 *
 * ".5" and "5." are accepted because numeric_in accepts them, so refusing
 * them would reject values PostgreSQL stores fine.  The exponent is bounded
 * like numeric_in bounds it, and the length by GPI_DECIMAL_MAX_LEN.
 */
int
gpi_is_decimal_n(const char *s, size_t len)
{
	size_t		i = 0;
	size_t		int_digits = 0;
	size_t		frac_digits = 0;

	if (s == NULL || len == 0 || len > GPI_DECIMAL_MAX_LEN)
		return 0;
	if (s[i] == '-')
		i++;
	while (i < len && s[i] >= '0' && s[i] <= '9')
	{
		i++;
		int_digits++;
	}
	if (i < len && s[i] == '.')
	{
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
		{
			i++;
			frac_digits++;
		}
	}
	if (int_digits + frac_digits == 0)
		return 0;				/* "", "-", ".", "-." */
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		size_t		exp_digits = 0;
		long		exp = 0;

		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
		{
			/* stop accumulating once past the limit: no overflow */
			if (exp <= GPI_DECIMAL_MAX_EXP)
				exp = exp * 10 + (s[i] - '0');
			i++;
			exp_digits++;
		}
		if (exp_digits == 0 || exp > GPI_DECIMAL_MAX_EXP)
			return 0;
	}
	return i == len;
}

int
gp_is_decimal(const char *s)
{
	size_t		len = 0;

	if (s == NULL)
		return 0;
	/* a bounded strlen: stop early on absurdly long input */
	while (len <= GPI_DECIMAL_MAX_LEN && s[len] != '\0')
		len++;
	return gpi_is_decimal_n(s, len);
}
