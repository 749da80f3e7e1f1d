/*-------------------------------------------------------------------------
 *
 * flatjson.c
 *		Reading the string members of a flat JSON object.
 *
 * `icos serve` must read a login request ({"user": ..., "password": ...})
 * before it has a database connection to parse JSON with, so this is the
 * one small JSON reader in C: a strict RFC 8259 scanner for an object whose
 * values are scalars.  It never reads outside text[0..len), and writes at
 * most outcap bytes.
 *
 * src/core/flatjson.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <string.h>

#include "flatjson.h"

typedef struct Scan
{
	const char *p;
	const char *end;
} Scan;

static void
skip_ws(Scan *s)
{
	while (s->p < s->end &&
		   (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int
hexval(char c)
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
read_hex4(Scan *s, unsigned *v)
{
	*v = 0;
	if (s->end - s->p < 4)
		return false;
	for (int i = 0; i < 4; i++)
	{
		int			h = hexval(s->p[i]);

		if (h < 0)
			return false;
		*v = (*v << 4) | (unsigned) h;
	}
	s->p += 4;
	return true;
}

/* Append a byte to out when there is room; count it in *n regardless. */
static void
put(char *out, size_t outcap, size_t *n, unsigned char c)
{
	if (out != NULL && *n < outcap)
		out[*n] = (char) c;
	(*n)++;
}

/*
 * Scan a string starting at the opening quote.  With out given, its value
 * goes there (bytes beyond outcap are counted, not written); *n gets the
 * unescaped length.  Returns false when the string is malformed.
 */
static bool
scan_string(Scan *s, char *out, size_t outcap, size_t *n)
{
	*n = 0;
	if (s->p >= s->end || *s->p != '"')
		return false;
	s->p++;
	while (s->p < s->end)
	{
		unsigned char c = (unsigned char) *s->p++;

		if (c == '"')
			return true;
		if (c < 0x20)
			return false;
		if (c != '\\')
		{
			put(out, outcap, n, c);
			continue;
		}
		if (s->p >= s->end)
			return false;
		c = (unsigned char) *s->p++;
		switch (c)
		{
			case '"':
			case '\\':
			case '/':
				put(out, outcap, n, c);
				break;
			case 'b':
				put(out, outcap, n, '\b');
				break;
			case 'f':
				put(out, outcap, n, '\f');
				break;
			case 'n':
				put(out, outcap, n, '\n');
				break;
			case 'r':
				put(out, outcap, n, '\r');
				break;
			case 't':
				put(out, outcap, n, '\t');
				break;
			case 'u':
				{
					unsigned	cp,
								lo;

					if (!read_hex4(s, &cp) || cp == 0)
						return false;
					if (cp >= 0xDC00 && cp <= 0xDFFF)
						return false;	/* a lone low surrogate */
					if (cp >= 0xD800 && cp <= 0xDBFF)
					{
						if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
							return false;
						s->p += 2;
						if (!read_hex4(s, &lo) || lo < 0xDC00 || lo > 0xDFFF)
							return false;
						cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					}
					if (cp < 0x80)
						put(out, outcap, n, (unsigned char) cp);
					else if (cp < 0x800)
					{
						put(out, outcap, n, (unsigned char) (0xC0 | (cp >> 6)));
						put(out, outcap, n, (unsigned char) (0x80 | (cp & 0x3F)));
					}
					else if (cp < 0x10000)
					{
						put(out, outcap, n, (unsigned char) (0xE0 | (cp >> 12)));
						put(out, outcap, n, (unsigned char) (0x80 | ((cp >> 6) & 0x3F)));
						put(out, outcap, n, (unsigned char) (0x80 | (cp & 0x3F)));
					}
					else
					{
						put(out, outcap, n, (unsigned char) (0xF0 | (cp >> 18)));
						put(out, outcap, n, (unsigned char) (0x80 | ((cp >> 12) & 0x3F)));
						put(out, outcap, n, (unsigned char) (0x80 | ((cp >> 6) & 0x3F)));
						put(out, outcap, n, (unsigned char) (0x80 | (cp & 0x3F)));
					}
					break;
				}
			default:
				return false;
		}
	}
	return false;
}

static bool
scan_literal(Scan *s, const char *word)
{
	size_t		n = strlen(word);

	if ((size_t) (s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return false;
	s->p += n;
	return true;
}

static bool
is_digit(Scan *s)
{
	return s->p < s->end && *s->p >= '0' && *s->p <= '9';
}

/* A JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool
scan_number(Scan *s)
{
	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (!is_digit(s))
		return false;
	if (*s->p == '0')
		s->p++;
	else
		while (is_digit(s))
			s->p++;
	if (s->p < s->end && *s->p == '.')
	{
		s->p++;
		if (!is_digit(s))
			return false;
		while (is_digit(s))
			s->p++;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E'))
	{
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!is_digit(s))
			return false;
		while (is_digit(s))
			s->p++;
	}
	return true;
}

static FjStatus
get_string(const char *text, size_t len, const char *key,
		   char *out, size_t outcap)
{
	Scan		s = {text, text + len};
	size_t		keylen = strlen(key);
	bool		found = false;
	FjStatus	status = FJ_MISSING;
	bool		first = true;

	if (outcap > 0)
		out[0] = '\0';
	skip_ws(&s);
	if (s.p >= s.end || *s.p != '{')
		return FJ_MALFORMED;
	s.p++;
	for (;;)
	{
		const char *kstart;
		size_t		klen;
		bool		match;

		skip_ws(&s);
		if (first && s.p < s.end && *s.p == '}')
		{
			s.p++;
			break;
		}
		first = false;

		/* the key, compared after unescaping */
		kstart = s.p;
		if (!scan_string(&s, NULL, 0, &klen))
			return FJ_MALFORMED;
		match = false;
		if (klen == keylen)
		{
			char		kbuf[64];
			Scan		again = {kstart, s.end};
			size_t		n;

			if (keylen < sizeof(kbuf))
			{
				scan_string(&again, kbuf, sizeof(kbuf), &n);
				match = memcmp(kbuf, key, keylen) == 0;
			}
		}
		skip_ws(&s);
		if (s.p >= s.end || *s.p != ':')
			return FJ_MALFORMED;
		s.p++;
		skip_ws(&s);
		if (s.p >= s.end)
			return FJ_MALFORMED;

		if (match && found)
			return FJ_MALFORMED;	/* the key twice */
		if (*s.p == '"')
		{
			size_t		n;

			if (match)
			{
				if (!scan_string(&s, out, outcap, &n))
					return FJ_MALFORMED;
				found = true;
				if (n >= outcap)
				{
					status = FJ_TOO_LONG;
					if (outcap > 0)
						out[0] = '\0';
				}
				else
				{
					out[n] = '\0';
					status = FJ_OK;
				}
			}
			else if (!scan_string(&s, NULL, 0, &n))
				return FJ_MALFORMED;
		}
		else
		{
			if (!(scan_literal(&s, "true") || scan_literal(&s, "false") ||
				  scan_literal(&s, "null") || scan_number(&s)))
				return FJ_MALFORMED;
			if (match)
			{
				found = true;
				status = FJ_NOT_STRING;
			}
		}
		skip_ws(&s);
		if (s.p < s.end && *s.p == ',')
		{
			s.p++;
			continue;
		}
		if (s.p < s.end && *s.p == '}')
		{
			s.p++;
			break;
		}
		return FJ_MALFORMED;
	}
	skip_ws(&s);
	if (s.p != s.end)
		return FJ_MALFORMED;
	return status;
}

FjStatus
fj_get_string(const char *text, size_t len, const char *key,
			  char *out, size_t outcap)
{
	FjStatus	status = get_string(text, len, key, out, outcap);

	/* a value scanned before the text turned out malformed is not given */
	if (status != FJ_OK && outcap > 0)
		out[0] = '\0';
	return status;
}
