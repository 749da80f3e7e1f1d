/*-------------------------------------------------------------------------
 *
 * strbuf.c
 *		Growable strings, JSON string literals and reading input files.
 *
 * The client builds JSON documents (the till's order) as text and sends
 * them as query parameters; sb_json_string() is the one place that quotes
 * a string for JSON.
 *
 * src/cli/strbuf.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icos.h"

void *
xmalloc(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	if (p == NULL)
	{
		fputs("icos: out of memory\n", stderr);
		exit(EXIT_REFUSED);
	}
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void	   *q = realloc(p, n ? n : 1);

	if (q == NULL)
	{
		fputs("icos: out of memory\n", stderr);
		exit(EXIT_REFUSED);
	}
	return q;
}

char *
xstrdup(const char *s)
{
	size_t		n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

void
sb_init(StrBuf *sb)
{
	sb->cap = 256;
	sb->len = 0;
	sb->data = xmalloc(sb->cap);
	sb->data[0] = '\0';
}

void
sb_free(StrBuf *sb)
{
	free(sb->data);
	sb->data = NULL;
	sb->len = sb->cap = 0;
}

void
sb_reset(StrBuf *sb)
{
	sb->len = 0;
	sb->data[0] = '\0';
}

static void
sb_reserve(StrBuf *sb, size_t more)
{
	if (sb->len + more + 1 <= sb->cap)
		return;
	while (sb->len + more + 1 > sb->cap)
		sb->cap *= 2;
	sb->data = xrealloc(sb->data, sb->cap);
}

void
sb_appendn(StrBuf *sb, const char *s, size_t n)
{
	sb_reserve(sb, n);
	memcpy(sb->data + sb->len, s, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

void
sb_append(StrBuf *sb, const char *s)
{
	sb_appendn(sb, s, strlen(s));
}

void
sb_printf(StrBuf *sb, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sb_reserve(sb, (size_t) n);
	va_start(ap, fmt);
	vsnprintf(sb->data + sb->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t) n;
}

/*
 * Append s as a JSON string literal.  Bytes are passed through (the server
 * checks the encoding); quotes, backslashes and control characters are
 * escaped.
 */
void
sb_json_string(StrBuf *sb, const char *s)
{
	sb_append(sb, "\"");
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		switch (*p)
		{
			case '"':
				sb_append(sb, "\\\"");
				break;
			case '\\':
				sb_append(sb, "\\\\");
				break;
			case '\n':
				sb_append(sb, "\\n");
				break;
			case '\r':
				sb_append(sb, "\\r");
				break;
			case '\t':
				sb_append(sb, "\\t");
				break;
			default:
				if (*p < 0x20)
					sb_printf(sb, "\\u%04x", *p);
				else
					sb_appendn(sb, (const char *) p, 1);
		}
	}
	sb_append(sb, "\"");
}

/*
 * The whole of a file, or of standard input for "-", as a NUL-terminated
 * string.  Returns NULL (with a message on stderr) when it cannot be read
 * or holds a NUL byte.
 */
char *
read_input_file(const char *path, size_t *len)
{
	FILE	   *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	StrBuf		sb;
	char		chunk[8192];
	size_t		n;

	if (f == NULL)
	{
		client_error("client", "could not open \"%s\": %s", path, strerror(errno));
		return NULL;
	}
	sb_init(&sb);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		sb_appendn(&sb, chunk, n);
	if (ferror(f))
	{
		client_error("client", "could not read \"%s\": %s", path, strerror(errno));
		if (f != stdin)
			fclose(f);
		sb_free(&sb);
		return NULL;
	}
	if (f != stdin)
		fclose(f);
	if (strlen(sb.data) != sb.len)
	{
		client_error("client", "\"%s\" is not a JSON text file (it holds a NUL byte)", path);
		sb_free(&sb);
		return NULL;
	}
	*len = sb.len;
	return sb.data;
}
