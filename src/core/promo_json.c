/*-------------------------------------------------------------------------
 *
 * promo_json.c
 *	  A small strict JSON reader for promotion rules, the allocation
 *	  helpers and exact money conversion of the promotion core.
 *
 * The reader accepts exactly RFC 8259: no comments, no trailing commas,
 * no NaN/Infinity, no leading zeros, no control characters in strings,
 * paired surrogates only.  It recurses at most PROMO_JSON_MAX_DEPTH deep
 * and makes two passes: the first validates and counts nodes and string
 * bytes without allocating, the second fills exactly two allocations.
 * Every error carries the byte offset (and line/column) of the fault.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "promo.h"

/* ---------------------------------------------------------------- arena */

static void *
promo_arena_alloc(void *ctx, size_t size)
{
	promo_arena *arena = (promo_arena *) ctx;
	size_t		start = (arena->used + 15) & ~(size_t) 15;

	if (start < arena->used || start > arena->size ||
		size > arena->size - start)
		return NULL;
	arena->used = start + size;
	return arena->base + start;
}

void
promo_arena_init(promo_arena *arena, void *buf, size_t size)
{
	arena->base = (unsigned char *) buf;
	arena->size = size;
	arena->used = 0;
}

promo_alloc
promo_arena_hooks(promo_arena *arena)
{
	promo_alloc a;

	a.alloc = promo_arena_alloc;
	a.free = NULL;
	a.ctx = arena;
	return a;
}

/* ---------------------------------------------------------------- errors */

void
promo_set_error(promo_error *err, const char *text, size_t len, size_t pos,
				const char *fmt,...)
{
	va_list		ap;
	size_t		i;

	if (err == NULL)
		return;
	err->pos = pos;
	err->line = 1;
	err->column = 1;
	for (i = 0; text != NULL && i < pos && i < len; i++)
	{
		if (text[i] == '\n')
		{
			err->line++;
			err->column = 1;
		}
		else
			err->column++;
	}
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------------- money */

int64_t
promo_percent_of(int64_t n, int32_t bp)
{
	/* n <= 10^17 / 10^4 would overflow only above 9.2 * 10^14 pence */
	int64_t		q = n / 10000;
	int64_t		r = n % 10000;

	return q * bp + (r * bp + 5000) / 10000;
}

bool
promo_money_from_text(const char *s, size_t len, int64_t *pence)
{
	size_t		i = 0;
	int64_t		digits = 0;		/* all significant digits as an integer */
	int			scale = 0;		/* digits after the point */
	int			ndig = 0;
	long		exp = 0;
	bool		any = false;

	if (len == 0)
		return false;
	if (s[0] == '-')
		return false;			/* negatives (even -0) are refused */
	/* integer part: 0 or [1-9][0-9]* */
	if (s[i] == '0')
	{
		i++;
		any = true;
	}
	else
	{
		while (i < len && s[i] >= '0' && s[i] <= '9')
		{
			if (ndig > 0 || s[i] != '0')
				ndig++;
			if (ndig > 18)
				return false;
			digits = digits * 10 + (s[i] - '0');
			i++;
			any = true;
		}
	}
	if (!any)
		return false;
	if (i < len && s[i] == '.')
	{
		bool		frac = false;

		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
		{
			if (ndig > 0 || s[i] != '0')
				ndig++;
			if (ndig > 18 || scale > 30)
				return false;
			digits = digits * 10 + (s[i] - '0');
			scale++;
			i++;
			frac = true;
		}
		if (!frac)
			return false;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		bool		neg = false;
		bool		edig = false;

		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			neg = (s[i++] == '-');
		while (i < len && s[i] >= '0' && s[i] <= '9')
		{
			if (exp < 1000)
				exp = exp * 10 + (s[i] - '0');
			i++;
			edig = true;
		}
		if (!edig)
			return false;
		if (neg)
			exp = -exp;
	}
	if (i != len)
		return false;

	/* value = digits * 10^(exp - scale); pence = digits * 10^(exp-scale+2) */
	exp = exp - scale + 2;
	while (exp < 0)
	{
		if (digits % 10 != 0)
			return false;		/* a fraction of a penny */
		digits /= 10;
		exp++;
	}
	while (exp > 0)
	{
		if (digits > PROMO_MAX_MONEY)
			return false;
		digits *= 10;
		exp--;
	}
	if (digits > PROMO_MAX_MONEY)
		return false;
	*pence = digits;
	return true;
}

/* ---------------------------------------------------------------- JSON */

typedef struct jparser
{
	const char *s;
	size_t		len;
	size_t		i;
	promo_json_doc *doc;		/* NULL in the counting pass */
	size_t		nnodes;
	size_t		nbytes;			/* decoded string bytes incl. NULs */
	promo_error *err;
	bool		failed;
} jparser;

static void
jfail(jparser *p, size_t pos, const char *what)
{
	if (p->failed)
		return;
	p->failed = true;
	if (pos >= p->len)
		promo_set_error(p->err, p->s, p->len, p->len,
						"invalid JSON: %s at end of input", what);
	else
		promo_set_error(p->err, p->s, p->len, pos,
						"invalid JSON: %s at offset %zu", what, pos);
}

static void
jskip_ws(jparser *p)
{
	while (p->i < p->len &&
		   (p->s[p->i] == ' ' || p->s[p->i] == '\t' ||
			p->s[p->i] == '\n' || p->s[p->i] == '\r'))
		p->i++;
}

static size_t
jnew_node(jparser *p, promo_json_type type, size_t pos)
{
	size_t		n = p->nnodes++;

	if (p->doc)
	{
		promo_json_node *node = &p->doc->nodes[n];

		node->type = type;
		node->pos = pos;
		node->str = NULL;
		node->len = 0;
		node->count = 0;
		node->next = n + 1;
	}
	return n;
}

static int
jhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
jhex4(jparser *p, size_t at, unsigned *out)
{
	unsigned	v = 0;
	int			k;

	if (at + 4 > p->len)
	{
		jfail(p, p->len, "truncated \\u escape");
		return false;
	}
	for (k = 0; k < 4; k++)
	{
		int			h = jhex(p->s[at + k]);

		if (h < 0)
		{
			jfail(p, at + k, "bad hex digit in \\u escape");
			return false;
		}
		v = v * 16 + (unsigned) h;
	}
	*out = v;
	return true;
}

/* Length of a valid UTF-8 sequence at s[i], or 0. */
static size_t
jutf8_len(const unsigned char *s, size_t i, size_t len)
{
	unsigned char c = s[i];
	size_t		n,
				k;
	unsigned	cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (i + n > len)
		return 0;
	for (k = 1; k < n; k++)
	{
		if ((s[i + k] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i + k] & 0x3F);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
		(n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return n;
}

static size_t
jput_utf8(char *out, unsigned cp)
{
	if (cp < 0x80)
	{
		out[0] = (char) cp;
		return 1;
	}
	if (cp < 0x800)
	{
		out[0] = (char) (0xC0 | (cp >> 6));
		out[1] = (char) (0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000)
	{
		out[0] = (char) (0xE0 | (cp >> 12));
		out[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char) (0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char) (0xF0 | (cp >> 18));
	out[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char) (0x80 | (cp & 0x3F));
	return 4;
}

static void
jstring(jparser *p)
{
	size_t		start = p->i;
	size_t		node = jnew_node(p, PROMO_JSON_STRING, start);
	char	   *out = p->doc ? p->doc->strings + p->nbytes : NULL;
	size_t		n = 0;
	char		buf[4];

	p->i++;						/* opening quote */
	for (;;)
	{
		unsigned char c;
		size_t		w = 0;

		if (p->i >= p->len)
		{
			jfail(p, start, "unterminated string");
			return;
		}
		c = (unsigned char) p->s[p->i];
		if (c == '"')
		{
			p->i++;
			break;
		}
		if (c < 0x20)
		{
			jfail(p, p->i, "control character in string");
			return;
		}
		if (c == '\\')
		{
			char		e;
			unsigned	cp;

			if (p->i + 1 >= p->len)
			{
				jfail(p, p->len, "unterminated string");
				return;
			}
			e = p->s[p->i + 1];
			switch (e)
			{
				case '"':
				case '\\':
				case '/':
					buf[0] = e;
					w = 1;
					break;
				case 'b':
					buf[0] = '\b';
					w = 1;
					break;
				case 'f':
					buf[0] = '\f';
					w = 1;
					break;
				case 'n':
					buf[0] = '\n';
					w = 1;
					break;
				case 'r':
					buf[0] = '\r';
					w = 1;
					break;
				case 't':
					buf[0] = '\t';
					w = 1;
					break;
				case 'u':
					if (!jhex4(p, p->i + 2, &cp))
						return;
					if (cp >= 0xDC00 && cp <= 0xDFFF)
					{
						jfail(p, p->i, "unpaired low surrogate");
						return;
					}
					if (cp >= 0xD800 && cp <= 0xDBFF)
					{
						unsigned	lo;

						if (p->i + 7 >= p->len || p->s[p->i + 6] != '\\' ||
							p->s[p->i + 7] != 'u')
						{
							jfail(p, p->i, "unpaired high surrogate");
							return;
						}
						if (!jhex4(p, p->i + 8, &lo))
							return;
						if (lo < 0xDC00 || lo > 0xDFFF)
						{
							jfail(p, p->i + 6, "unpaired high surrogate");
							return;
						}
						cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
						p->i += 6;
					}
					if (cp == 0)
					{
						jfail(p, p->i, "\\u0000 in string");
						return;
					}
					w = jput_utf8(buf, cp);
					p->i += 4;
					break;
				default:
					jfail(p, p->i, "bad escape in string");
					return;
			}
			p->i += 2;
			if (out)
				memcpy(out + n, buf, w);
			n += w;
			continue;
		}
		w = jutf8_len((const unsigned char *) p->s, p->i, p->len);
		if (w == 0)
		{
			jfail(p, p->i, "invalid UTF-8 in string");
			return;
		}
		if (out)
			memcpy(out + n, p->s + p->i, w);
		n += w;
		p->i += w;
	}
	if (out)
	{
		out[n] = '\0';
		p->doc->nodes[node].str = out;
		p->doc->nodes[node].len = n;
	}
	p->nbytes += n + 1;
}

static void
jnumber(jparser *p)
{
	size_t		start = p->i;
	size_t		node = jnew_node(p, PROMO_JSON_NUMBER, start);
	const char *s = p->s;

	if (p->i < p->len && s[p->i] == '-')
		p->i++;
	if (p->i < p->len && s[p->i] == '0')
		p->i++;
	else if (p->i < p->len && s[p->i] >= '1' && s[p->i] <= '9')
	{
		while (p->i < p->len && s[p->i] >= '0' && s[p->i] <= '9')
			p->i++;
	}
	else
	{
		jfail(p, p->i, "bad number");
		return;
	}
	if (p->i < p->len && s[p->i] == '.')
	{
		p->i++;
		if (!(p->i < p->len && s[p->i] >= '0' && s[p->i] <= '9'))
		{
			jfail(p, p->i, "digit expected after decimal point");
			return;
		}
		while (p->i < p->len && s[p->i] >= '0' && s[p->i] <= '9')
			p->i++;
	}
	if (p->i < p->len && (s[p->i] == 'e' || s[p->i] == 'E'))
	{
		p->i++;
		if (p->i < p->len && (s[p->i] == '+' || s[p->i] == '-'))
			p->i++;
		if (!(p->i < p->len && s[p->i] >= '0' && s[p->i] <= '9'))
		{
			jfail(p, p->i, "digit expected in exponent");
			return;
		}
		while (p->i < p->len && s[p->i] >= '0' && s[p->i] <= '9')
			p->i++;
	}
	if (p->doc)
	{
		p->doc->nodes[node].str = s + start;
		p->doc->nodes[node].len = p->i - start;
	}
}

static bool
jliteral(jparser *p, const char *word, promo_json_type type)
{
	size_t		n = strlen(word);

	if (p->len - p->i < n || memcmp(p->s + p->i, word, n) != 0)
		return false;
	jnew_node(p, type, p->i);
	p->i += n;
	return true;
}

static void jvalue(jparser *p, int depth);

static void
jcontainer(jparser *p, int depth, bool object)
{
	size_t		node = jnew_node(p, object ? PROMO_JSON_OBJECT : PROMO_JSON_ARRAY,
								 p->i);
	size_t		count = 0;
	char		close = object ? '}' : ']';

	if (depth >= PROMO_JSON_MAX_DEPTH)
	{
		jfail(p, p->i, "nesting too deep");
		return;
	}
	p->i++;
	jskip_ws(p);
	if (p->i < p->len && p->s[p->i] == close)
		p->i++;
	else
	{
		for (;;)
		{
			jskip_ws(p);
			if (object)
			{
				if (p->i >= p->len || p->s[p->i] != '"')
				{
					jfail(p, p->i, "object key (a string) expected");
					return;
				}
				jstring(p);
				if (p->failed)
					return;
				jskip_ws(p);
				if (p->i >= p->len || p->s[p->i] != ':')
				{
					jfail(p, p->i, "':' expected");
					return;
				}
				p->i++;
			}
			jvalue(p, depth + 1);
			if (p->failed)
				return;
			count++;
			jskip_ws(p);
			if (p->i < p->len && p->s[p->i] == ',')
			{
				p->i++;
				continue;
			}
			if (p->i < p->len && p->s[p->i] == close)
			{
				p->i++;
				break;
			}
			jfail(p, p->i, object ? "',' or '}' expected" : "',' or ']' expected");
			return;
		}
	}
	if (p->doc)
	{
		p->doc->nodes[node].count = count;
		p->doc->nodes[node].next = p->nnodes;
	}
}

static void
jvalue(jparser *p, int depth)
{
	char		c;

	jskip_ws(p);
	if (p->i >= p->len)
	{
		jfail(p, p->len, "value expected");
		return;
	}
	c = p->s[p->i];
	if (c == '{' || c == '[')
		jcontainer(p, depth, c == '{');
	else if (c == '"')
		jstring(p);
	else if (c == '-' || (c >= '0' && c <= '9'))
		jnumber(p);
	else if (!(jliteral(p, "true", PROMO_JSON_TRUE) ||
			   jliteral(p, "false", PROMO_JSON_FALSE) ||
			   jliteral(p, "null", PROMO_JSON_NULL)))
		jfail(p, p->i, "unexpected character");
}

static void
jrun(jparser *p)
{
	jvalue(p, 0);
	if (p->failed)
		return;
	jskip_ws(p);
	if (p->i != p->len)
		jfail(p, p->i, "trailing characters after the value");
}

promo_status
promo_json_parse(const char *text, size_t len, const promo_alloc *a,
				 promo_json_doc *doc, promo_error *err)
{
	jparser		p;

	memset(doc, 0, sizeof(*doc));
	memset(&p, 0, sizeof(p));
	p.s = text;
	p.len = len;
	p.err = err;
	jrun(&p);					/* counting pass */
	if (p.failed)
		return PROMO_EJSON;

	doc->text = text;
	doc->textlen = len;
	doc->nnodes = p.nnodes;
	if (p.nnodes > SIZE_MAX / sizeof(promo_json_node))
		return PROMO_ENOMEM;
	doc->nodes = a->alloc(a->ctx, p.nnodes * sizeof(promo_json_node));
	if (doc->nodes == NULL)
		return PROMO_ENOMEM;
	doc->strings = a->alloc(a->ctx, p.nbytes + 1);
	if (doc->strings == NULL)
	{
		if (a->free)
			a->free(a->ctx, doc->nodes);
		doc->nodes = NULL;
		return PROMO_ENOMEM;
	}

	memset(&p, 0, sizeof(p));	/* filling pass: same input, same path */
	p.s = text;
	p.len = len;
	p.err = err;
	p.doc = doc;
	jrun(&p);
	return PROMO_OK;
}

void
promo_json_free(promo_json_doc *doc, const promo_alloc *a)
{
	if (a->free)
	{
		if (doc->nodes)
			a->free(a->ctx, doc->nodes);
		if (doc->strings)
			a->free(a->ctx, doc->strings);
	}
	doc->nodes = NULL;
	doc->strings = NULL;
}

long
promo_json_member(const promo_json_doc *doc, size_t obj, const char *key)
{
	size_t		i,
				k;
	size_t		keylen = strlen(key);

	if (obj >= doc->nnodes || doc->nodes[obj].type != PROMO_JSON_OBJECT)
		return -1;
	i = obj + 1;
	for (k = 0; k < doc->nodes[obj].count; k++)
	{
		const promo_json_node *kn = &doc->nodes[i];

		if (kn->len == keylen && memcmp(kn->str, key, keylen) == 0)
			return (long) (i + 1);
		i = doc->nodes[i + 1].next;
	}
	return -1;
}
