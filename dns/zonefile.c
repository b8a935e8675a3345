/* SPDX-License-Identifier: Apache-2.0 */
/* Master-file parser (RFC 1035 §5 and BIND's extensions) into a fedns_zone, and printer. */
#include "dns/zonefile.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/name.h"
#include "dns/rdata.h"

/* The lexer runs over tens of megabytes, so every byte is classified by one table load
 * and the common case (an unquoted token without escapes) is a single tight loop. */
enum {
	CC_TOK = 0, /* part of an unquoted token */
	CC_WS,	    /* space, tab, CR (so CRLF line ends need no special case) */
	CC_NL,
	CC_SEMI,
	CC_LP,
	CC_RP,
	CC_QUOTE,
	CC_BSLASH,
};

static const uint8_t cclass[256] = {
	['\t'] = CC_WS, ['\r'] = CC_WS, [' '] = CC_WS,	  ['\n'] = CC_NL,     [';'] = CC_SEMI,
	['('] = CC_LP,	[')'] = CC_RP,	['"'] = CC_QUOTE, ['\\'] = CC_BSLASH,
};

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* End of the run of plain token bytes at p. Sixteen bytes at a time where the input
 * allows: most tokens end inside the first block, so the loop exit is predictable, where
 * a byte loop mispredicts once per token. */
static inline __attribute__((always_inline)) const unsigned char *
token_end(const unsigned char *p, const unsigned char *end)
{
#ifdef __SSE2__
	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i m = _mm_or_si128(
			_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')),
						  _mm_cmpeq_epi8(v, _mm_set1_epi8('\t'))),
				     _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')),
						  _mm_cmpeq_epi8(v, _mm_set1_epi8('\r')))),
			_mm_or_si128(
				_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(';')),
					     _mm_cmpeq_epi8(v, _mm_set1_epi8('('))),
				_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(')')),
							  _mm_cmpeq_epi8(v, _mm_set1_epi8('"'))),
					     _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')))));
		unsigned mask = (unsigned)_mm_movemask_epi8(m);
		if (mask != 0)
			return p + __builtin_ctz(mask);
		p += 16;
	}
#endif
	while (p < end && cclass[*p] == CC_TOK)
		p++;
	return p;
}

/* First '"', backslash or newline at or after p inside a quoted string, or end. */
static inline __attribute__((always_inline)) const unsigned char *
quoted_end(const unsigned char *p, const unsigned char *end)
{
#ifdef __SSE2__
	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
						      _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
					 _mm_cmpeq_epi8(v, _mm_set1_epi8('\n')));
		unsigned mask = (unsigned)_mm_movemask_epi8(m);
		if (mask != 0)
			return p + __builtin_ctz(mask);
		p += 16;
	}
#endif
	while (p < end && *p != '"' && *p != '\\' && *p != '\n')
		p++;
	return p;
}

/* Tokens of one entry are at most this many; an rdata of 64 KiB written as single hex
 * digits needs 131,070, so this only stops runaway input. */
#define MAX_TOKENS (1u << 18)
/* Longest single token: the hex of a 64 KiB rdata with every character escaped fits. */
#define MAX_TOKEN_LEN (1u << 20)
#define DEFAULT_INCLUDE_DEPTH 8

/* State shared by a file and the files it includes. */
typedef struct parser {
	const fedns_zonefile_opts *opts;
	fedns_zone *z;
	fedns_diag *d;
	uint16_t zclass;
	unsigned depth;
	unsigned max_depth;
	/* TTL rules (BIND): $TTL or an SOA's MINIMUM give the default; without one, the
	 * last explicit TTL is used (RFC 1035), with a warning the first time. */
	bool have_default;
	bool have_last;
	bool warned_rfc1035;
	uint32_t default_ttl;
	uint32_t last_ttl;
	fedns_token *tok;
	size_t captok;
	uint8_t *rdbuf;
} parser;

/* State of one file being read. */
typedef struct source {
	const char *name;
	uint16_t id;
	const char *p;
	const char *end;
	unsigned line;
	uint8_t origin[FEDNS_NAME_MAXLEN];
	unsigned origin_gen;
	/* The previous owner, and its text so a repeated owner is not parsed again. */
	bool have_owner;
	uint8_t owner[FEDNS_NAME_MAXLEN];
	const char *owner_text;
	size_t owner_textlen;
	unsigned owner_gen;
} source;

/* One entry (a logical line) as the lexer hands it over. */
typedef struct entry {
	size_t ntok;
	unsigned line;	   /* where the entry starts */
	const char *start; /* the start of that line */
	bool blank_owner;
} entry;

/* Line of a token of the entry, for messages. Counting on demand keeps a per-token line
 * out of the lexer's hot loop. */
static unsigned
token_line(const source *src, const entry *e, const fedns_token *t)
{
	unsigned line = e->line;
	(void)src;
	for (const char *q = e->start; q < t->s; q++)
		line += *q == '\n';
	return line;
}

static fedns_err parse_source(parser *ps, source *src);

static fedns_err fail(parser *ps, const source *src, unsigned line, fedns_err code, const char *fmt,
		      ...) __attribute__((format(printf, 5, 6)));

static fedns_err
fail(parser *ps, const source *src, unsigned line, fedns_err code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fedns_diag_vset(ps->d, code, fmt, ap);
	va_end(ap);
	fedns_diag_locate(ps->d, src->name, line);
	return code;
}

/* Quotes token text for a message, cutting long tokens and showing controls as \DDD. */
static const char *
show(const char *s, size_t len, char *out, size_t outsz)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o + 8 < outsz; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f) {
			o += (size_t)snprintf(out + o, outsz - o, "\\%03u", c);
		} else {
			out[o++] = (char)c;
		}
		if (i + 1 < len && o + 8 >= outsz) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
	}
	out[o] = '\0';
	return out;
}

#define SHOWBUF 96
#define SHOW(t, b) show((t)->s, (t)->len, (b), sizeof(b))

static fedns_err
push_token_slow(parser *ps, const source *src, size_t *ntok, const char *s, size_t len, bool quoted,
		unsigned line)
{
	if (*ntok == ps->captok) {
		if (ps->captok >= MAX_TOKENS)
			return fail(ps, src, line, FEDNS_ETOOBIG,
				    "more than %u tokens in one record", MAX_TOKENS);
		size_t ncap = ps->captok * 2;
		fedns_token *nt = realloc(ps->tok, ncap * sizeof(*nt));
		if (nt == NULL)
			return fail(ps, src, line, FEDNS_ENOMEM, "out of memory");
		ps->tok = nt;
		ps->captok = ncap;
	}
	if (len > MAX_TOKEN_LEN)
		return fail(ps, src, line, FEDNS_ETOOBIG, "token longer than %u characters",
			    MAX_TOKEN_LEN);
	ps->tok[*ntok] = (fedns_token){.s = s, .len = (uint32_t)len, .quoted = quoted};
	(*ntok)++;
	return FEDNS_OK;
}

static inline __attribute__((always_inline)) fedns_err
push_token(parser *ps, const source *src, size_t *ntok, const char *s, size_t len, bool quoted,
	   unsigned line)
{
	if (__builtin_expect(*ntok < ps->captok && len <= MAX_TOKEN_LEN, 1)) {
		ps->tok[*ntok] = (fedns_token){.s = s, .len = (uint32_t)len, .quoted = quoted};
		(*ntok)++;
		return FEDNS_OK;
	}
	return push_token_slow(ps, src, ntok, s, len, quoted, line);
}

/* Reads the next entry: tokens up to a newline outside parentheses. Returns 1 with an
 * entry, 0 at the end of input, or an error. */
static int
next_entry(parser *ps, source *src, entry *e)
{
	const unsigned char *p = (const unsigned char *)src->p;
	const unsigned char *end = (const unsigned char *)src->end;
	unsigned line = src->line;
	unsigned paren_line = 0;
	unsigned depth = 0;
	size_t ntok = 0;
	fedns_err err;

	e->line = line;
	e->start = (const char *)p;
	e->blank_owner = p < end && cclass[*p] == CC_WS;
	for (;;) {
		while (p < end && cclass[*p] == CC_WS)
			p++;
		if (p == end) {
			if (depth > 0) {
				src->line = line;
				return fail(ps, src, paren_line, FEDNS_ESYNTAX,
					    "unbalanced parenthesis opened at line %u", paren_line);
			}
			break;
		}
		unsigned cc = cclass[*p];
		/* Plain tokens are most of the input: test for them before the switch. */
		if (cc == CC_TOK || cc == CC_BSLASH) {
			const unsigned char *s = p;
			for (;;) {
				p = token_end(p, end);
				if (p < end && *p == '\\') {
					if (end - p < 2)
						return fail(ps, src, line, FEDNS_ESYNTAX,
							    "backslash at end of input");
					if (p[1] == '\n' || p[1] == '\r')
						return fail(
							ps, src, line, FEDNS_ESYNTAX,
							"backslash at end of line outside quotes");
					p += 2;
					continue;
				}
				break;
			}
			err = push_token(ps, src, &ntok, (const char *)s, (size_t)(p - s), false,
					 line);
			if (err != FEDNS_OK)
				return err;
			continue;
		}
		switch (cc) {
		case CC_NL:
			p++;
			line++;
			if (depth > 0)
				continue;
			if (ntok > 0)
				goto done;
			e->line = line;
			e->start = (const char *)p;
			e->blank_owner = p < end && cclass[*p] == CC_WS;
			continue;
		case CC_SEMI: {
			const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
			p = nl != NULL ? nl : end;
			continue;
		}
		case CC_LP:
			if (depth++ == 0)
				paren_line = line;
			p++;
			continue;
		case CC_RP:
			if (depth == 0)
				return fail(ps, src, line, FEDNS_ESYNTAX,
					    "unbalanced parenthesis: \")\" without \"(\"");
			depth--;
			p++;
			continue;
		default: { /* CC_QUOTE */
			const unsigned char *s = ++p;
			unsigned start_line = line;
			for (;;) {
				p = quoted_end(p, end);
				if (p == end)
					return fail(ps, src, start_line, FEDNS_ESYNTAX,
						    "quoted string opened at line %u is not closed",
						    start_line);
				unsigned char c = *p;
				if (c == '"')
					break;
				if (c == '\n')
					return fail(
						ps, src, start_line, FEDNS_ESYNTAX,
						"end of line inside a quoted string (unbalanced "
						"quotes)");
				/* A backslash: it escapes the next byte, a newline included. */
				if (end - p < 2)
					return fail(ps, src, line, FEDNS_ESYNTAX,
						    "backslash at end of input");
				if (p[1] == '\n')
					line++;
				p += 2;
			}
			err = push_token(ps, src, &ntok, (const char *)s, (size_t)(p - s), true,
					 start_line);
			if (err != FEDNS_OK)
				return err;
			p++;
			continue;
		}
		}
	}
done:
	src->p = (const char *)p;
	src->line = line;
	e->ntok = ntok;
	return ntok > 0 ? 1 : 0;
}

static inline bool
ieq(const char *s, size_t len, const char *lit, size_t litlen)
{
	if (len != litlen)
		return false;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] | 0x20) != (unsigned char)lit[i])
			return false;
	return true;
}

/* The types that make up nearly every zone, without the generic lookup's loop. */
static bool
fast_type(const char *s, size_t len, uint16_t *out)
{
#define T(lit, v)                                                                                  \
	if (ieq(s, len, lit, sizeof(lit) - 1)) {                                                   \
		*out = (v);                                                                        \
		return true;                                                                       \
	}
	switch (len) {
	case 1:
		T("a", FEDNS_T_A);
		break;
	case 2:
		T("ns", FEDNS_T_NS);
		T("mx", FEDNS_T_MX);
		T("ds", FEDNS_T_DS);
		break;
	case 3:
		switch ((unsigned char)s[0] | 0x20) {
		case 't':
			T("txt", FEDNS_T_TXT);
			break;
		case 's':
			T("srv", FEDNS_T_SRV);
			T("soa", FEDNS_T_SOA);
			break;
		case 'p':
			T("ptr", FEDNS_T_PTR);
			break;
		case 'c':
			T("caa", FEDNS_T_CAA);
			break;
		default:
			break;
		}
		break;
	case 4:
		T("aaaa", FEDNS_T_AAAA);
		break;
	case 5:
		T("cname", FEDNS_T_CNAME);
		T("https", FEDNS_T_HTTPS);
		T("rrsig", FEDNS_T_RRSIG);
		break;
	default:
		break;
	}
#undef T
	return false;
}

static fedns_err
parse_ttl(parser *ps, const source *src, const fedns_token *t, unsigned line, uint32_t *out)
{
	char b[SHOWBUF];
	uint64_t v = 0;
	size_t i = 0;
	while (i < t->len && t->s[i] >= '0' && t->s[i] <= '9' && v <= UINT32_MAX)
		v = v * 10 + (uint64_t)(t->s[i++] - '0');
	if (i == t->len && i > 0 && i <= 10 && v <= UINT32_MAX) {
		*out = (uint32_t)v;
		return FEDNS_OK;
	}
	fedns_diag tmp;
	fedns_diag_clear(&tmp);
	fedns_err err = t->quoted ? FEDNS_ESYNTAX : fedns_ttl_from_text(t->s, t->len, out, &tmp);
	if (err == FEDNS_OK)
		return FEDNS_OK;
	if (err == FEDNS_ERANGE)
		return fail(ps, src, line, FEDNS_ESYNTAX, "TTL \"%s\" is out of range", SHOW(t, b));
	return fail(ps, src, line, FEDNS_ESYNTAX, "TTL \"%s\" is not a number", SHOW(t, b));
}

/* Makes a name from token text relative to 'origin'; the name module's message is kept
 * and the line added. */
static fedns_err
parse_name(parser *ps, const source *src, const fedns_token *t, unsigned line,
	   const uint8_t *origin, const char *what, uint8_t out[FEDNS_NAME_MAXLEN])
{
	char b[SHOWBUF];
	size_t outlen;
	fedns_diag tmp;
	fedns_diag_clear(&tmp);
	fedns_err err = fedns_name_from_text(t->s, t->len, origin, out, &outlen, &tmp);
	if (err == FEDNS_OK)
		return FEDNS_OK;
	if (tmp.msg[0])
		return fail(ps, src, line, err, "%s \"%s\": %s", what, SHOW(t, b), tmp.msg);
	return fail(ps, src, line, err, "%s \"%s\" is not a valid name", what, SHOW(t, b));
}

/* Decodes the escapes of a file name token (\X and \DDD) into a malloc'd string. */
static char *
unescape(const fedns_token *t)
{
	char *out = malloc((size_t)t->len + 1);
	if (out == NULL)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < t->len; i++) {
		char c = t->s[i];
		if (c == '\\' && i + 1 < t->len) {
			if (i + 3 < t->len && t->s[i + 1] >= '0' && t->s[i + 1] <= '9' &&
			    t->s[i + 2] >= '0' && t->s[i + 2] <= '9' && t->s[i + 3] >= '0' &&
			    t->s[i + 3] <= '9') {
				int v = (t->s[i + 1] - '0') * 100 + (t->s[i + 2] - '0') * 10 +
					(t->s[i + 3] - '0');
				if (v > 255) {
					free(out);
					return NULL;
				}
				c = (char)v;
				i += 3;
			} else {
				c = t->s[++i];
			}
		}
		out[o++] = c;
	}
	out[o] = '\0';
	if (memchr(out, '\0', o) != NULL) {
		free(out);
		return NULL;
	}
	return out;
}

static fedns_err
do_include(parser *ps, source *src, const entry *e)
{
	char b[SHOWBUF];
	const fedns_token *t = ps->tok;
	if (e->ntok < 2 || e->ntok > 3)
		return fail(ps, src, e->line, FEDNS_ESYNTAX,
			    "$INCLUDE takes a file name and an optional origin");
	if (ps->opts->include == NULL)
		return fail(ps, src, e->line, FEDNS_EACCES, "$INCLUDE \"%s\" is not allowed here",
			    SHOW(&t[1], b));
	if (ps->depth >= ps->max_depth)
		return fail(ps, src, e->line, FEDNS_ETOOBIG,
			    "$INCLUDE \"%s\" nests deeper than %u files", SHOW(&t[1], b),
			    ps->max_depth);

	source child;
	memset(&child, 0, sizeof(child));
	fedns_err err;
	if (e->ntok == 3) {
		err = parse_name(ps, src, &t[2], e->line, src->origin, "$INCLUDE origin",
				 child.origin);
		if (err != FEDNS_OK)
			return err;
	} else {
		fedns_name_copy(child.origin, src->origin);
	}
	char *ref = unescape(&t[1]);
	if (ref == NULL || ref[0] == '\0') {
		free(ref);
		return fail(ps, src, e->line, FEDNS_ESYNTAX, "$INCLUDE file name \"%s\" is invalid",
			    SHOW(&t[1], b));
	}

	char *text = NULL;
	char *resolved = NULL;
	size_t len = 0;
	fedns_diag tmp;
	fedns_diag_clear(&tmp);
	err = ps->opts->include(ps->opts->include_ctx, ref, src->name, &text, &len, &resolved,
				&tmp);
	if (err != FEDNS_OK) {
		if (err == FEDNS_EACCES)
			fail(ps, src, e->line, err, "$INCLUDE \"%s\" is outside the zone directory",
			     SHOW(&t[1], b));
		else
			fail(ps, src, e->line, err, "$INCLUDE \"%s\": %s", SHOW(&t[1], b),
			     tmp.msg[0] ? tmp.msg : fedns_strerror(err));
		free(text);
		free(resolved);
		free(ref);
		return err;
	}
	child.name = resolved != NULL ? resolved : ref;
	child.id = fedns_zone_add_source(ps->z, child.name);
	child.p = text;
	child.end = text + len;
	child.line = 1;
	/* RFC 1035 §5.1: the included file starts from the includer's owner; what it sets
	 * (origin, owner) does not flow back. */
	child.have_owner = src->have_owner;
	if (src->have_owner)
		fedns_name_copy(child.owner, src->owner);
	ps->depth++;
	err = parse_source(ps, &child);
	ps->depth--;
	free(text);
	free(resolved);
	free(ref);
	return err;
}

/* Most lines $GENERATE may produce from one directive: a /16 reverse zone fits, and a
 * typo'd range cannot make the parser spin for minutes. */
#define MAX_GENERATE 65536
/* Longest generated line; each of its (at most 7) parts may add 3 bytes past it. */
#define GEN_LINE_MAX 8000

static bool
parse_u32(const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;
	if (len == 0 || len > 10)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Expands the iterator in a $GENERATE template: '$' is the value, ${offset[,width[,base]]}
 * formats it (base d, o, x or X), escapes are copied for the next parse to decode.
 * Returns false when the template is malformed or the result does not fit. */
static bool
expand(const fedns_token *t, uint32_t v, char *out, size_t cap, size_t *o)
{
	for (size_t i = 0; i < t->len; i++) {
		char c = t->s[i];
		if (c == '\\' && i + 1 < t->len) {
			if (cap - *o < 2)
				return false;
			out[(*o)++] = c;
			out[(*o)++] = t->s[++i];
			continue;
		}
		if (c != '$') {
			if (cap - *o < 1)
				return false;
			out[(*o)++] = c;
			continue;
		}
		long long offset = 0;
		unsigned width = 0;
		char base = 'd';
		if (i + 1 < t->len && t->s[i + 1] == '{') {
			const char *close = memchr(t->s + i, '}', t->len - i);
			if (close == NULL)
				return false;
			char spec[64];
			size_t sl = (size_t)(close - (t->s + i + 2));
			if (sl >= sizeof(spec))
				return false;
			memcpy(spec, t->s + i + 2, sl);
			spec[sl] = '\0';
			char b = 'd';
			int n = sscanf(spec, "%lld,%u,%c", &offset, &width, &b);
			if (n < 1 || width > 64 || (n == 3 && strchr("doxX", b) == NULL) ||
			    offset < -(long long)UINT32_MAX || offset > (long long)UINT32_MAX)
				return false;
			base = n == 3 ? b : 'd';
			i = (size_t)(close - t->s);
		}
		long long val = (long long)v + offset;
		if (val < 0)
			return false;
		char num[80];
		int nl;
		if (base == 'o')
			nl = snprintf(num, sizeof(num), "%0*llo", (int)width,
				      (unsigned long long)val);
		else if (base == 'x')
			nl = snprintf(num, sizeof(num), "%0*llx", (int)width,
				      (unsigned long long)val);
		else if (base == 'X')
			nl = snprintf(num, sizeof(num), "%0*llX", (int)width,
				      (unsigned long long)val);
		else
			nl = snprintf(num, sizeof(num), "%0*lld", (int)width, val);
		if (nl < 0 || (size_t)nl >= sizeof(num) || cap - *o < (size_t)nl)
			return false;
		memcpy(out + *o, num, (size_t)nl);
		*o += (size_t)nl;
	}
	return true;
}

/* $GENERATE range lhs [ttl] [class] type rhs (BIND): each value in the range makes one
 * record line, parsed as if it stood on the directive's line. */
static fedns_err
do_generate(parser *ps, source *src, const entry *e)
{
	char b[SHOWBUF];
	if (e->ntok < 5 || e->ntok > 7)
		return fail(
			ps, src, e->line, FEDNS_ESYNTAX,
			"$GENERATE takes a range, a left side, [TTL] [class], a type and a right "
			"side");
	/* The parse of each generated line reuses the token array: keep our own copy. */
	fedns_token t[7];
	memcpy(t, ps->tok, e->ntok * sizeof(t[0]));
	size_t n = e->ntok;

	uint32_t start, stop, step = 1;
	const char *r = t[1].s;
	size_t rl = t[1].len;
	const char *dash = memchr(r, '-', rl);
	const char *slash = memchr(r, '/', rl);
	if (t[1].quoted || dash == NULL || (slash != NULL && slash < dash) ||
	    !parse_u32(r, (size_t)(dash - r), &start) ||
	    !parse_u32(dash + 1, (size_t)((slash ? slash : r + rl) - dash - 1), &stop) ||
	    (slash != NULL && !parse_u32(slash + 1, (size_t)(r + rl - slash - 1), &step)) ||
	    step == 0 || start > stop)
		return fail(ps, src, e->line, FEDNS_ESYNTAX, "$GENERATE range \"%s\" is invalid",
			    SHOW(&t[1], b));
	if ((stop - start) / step >= MAX_GENERATE)
		return fail(ps, src, e->line, FEDNS_ETOOBIG,
			    "$GENERATE range \"%s\" makes more than %u records", SHOW(&t[1], b),
			    MAX_GENERATE);

	char *line = malloc(GEN_LINE_MAX + 8);
	if (line == NULL)
		return fail(ps, src, e->line, FEDNS_ENOMEM, "out of memory");
	fedns_err err = FEDNS_OK;
	for (uint64_t v = start; v <= stop && err == FEDNS_OK; v += step) {
		/* Each step leaves room for the separator, quotes and newline it adds. */
		size_t o = 0;
		bool ok = expand(&t[2], (uint32_t)v, line, GEN_LINE_MAX, &o);
		for (size_t i = 3; ok && i < n; i++) {
			if (o > GEN_LINE_MAX - 3) {
				ok = false;
				break;
			}
			/* BIND re-reads the parts unquoted, so a quoted right side splits. */
			line[o++] = ' ';
			if (i == n - 1) {
				ok = expand(&t[i], (uint32_t)v, line, GEN_LINE_MAX, &o);
			} else if (t[i].len <= GEN_LINE_MAX - o) {
				memcpy(line + o, t[i].s, t[i].len);
				o += t[i].len;
			} else {
				ok = false;
			}
		}
		if (!ok) {
			err = fail(ps, src, e->line, FEDNS_ESYNTAX,
				   "$GENERATE template is invalid or too long");
			break;
		}
		line[o++] = '\n';
		source child;
		memset(&child, 0, sizeof(child));
		child.name = src->name;
		child.id = src->id;
		child.p = line;
		child.end = line + o;
		child.line = e->line;
		fedns_name_copy(child.origin, src->origin);
		err = parse_source(ps, &child);
	}
	free(line);
	return err;
}

static fedns_err
do_directive(parser *ps, source *src, const entry *e)
{
	char b[SHOWBUF];
	const fedns_token *t = ps->tok;
	fedns_err err;
	if (ieq(t[0].s, t[0].len, "$origin", 7)) {
		if (e->ntok != 2)
			return fail(ps, src, e->line, FEDNS_ESYNTAX, "$ORIGIN takes one name");
		uint8_t o[FEDNS_NAME_MAXLEN];
		err = parse_name(ps, src, &t[1], e->line, src->origin, "$ORIGIN", o);
		if (err != FEDNS_OK)
			return err;
		fedns_name_copy(src->origin, o);
		src->origin_gen++;
		return FEDNS_OK;
	}
	if (ieq(t[0].s, t[0].len, "$ttl", 4)) {
		if (e->ntok != 2)
			return fail(ps, src, e->line, FEDNS_ESYNTAX, "$TTL takes one TTL");
		err = parse_ttl(ps, src, &t[1], e->line, &ps->default_ttl);
		if (err != FEDNS_OK)
			return err;
		ps->have_default = true;
		return FEDNS_OK;
	}
	if (ieq(t[0].s, t[0].len, "$include", 8))
		return do_include(ps, src, e);
	if (ieq(t[0].s, t[0].len, "$generate", 9))
		return do_generate(ps, src, e);
	return fail(ps, src, e->line, FEDNS_ESYNTAX, "unknown directive \"%s\"", SHOW(&t[0], b));
}

static void
warn(parser *ps, const source *src, unsigned line, const char *msg)
{
	if (ps->opts->warn == NULL)
		return;
	fedns_diag w;
	fedns_diag_clear(&w);
	fedns_diag_set(&w, FEDNS_OK, "%s", msg);
	snprintf(w.file, sizeof(w.file), "%s", src->name);
	w.line = line;
	ps->opts->warn(ps->opts->warn_ctx, &w);
}

static bool
is_class(const fedns_token *t, uint16_t *out)
{
	/* Most tokens tried here are types ("A", "AAAA"): rule them out by shape before the
	 * generic lookup. */
	switch (t->len) {
	case 2:
		if (ieq(t->s, 2, "in", 2)) {
			*out = FEDNS_C_IN;
			return true;
		}
		if (!ieq(t->s, 2, "ch", 2) && !ieq(t->s, 2, "hs", 2))
			return false;
		break;
	case 3:
		if (!ieq(t->s, 3, "any", 3))
			return false;
		break;
	case 4:
		if (!ieq(t->s, 4, "none", 4))
			return false;
		break;
	default:
		if (t->len < 6 || !ieq(t->s, 5, "class", 5))
			return false;
		break;
	}
	return fedns_class_from_text(t->s, t->len, out) == FEDNS_OK;
}

static fedns_err
do_record(parser *ps, source *src, const entry *e)
{
	char b[SHOWBUF];
	const fedns_token *t = ps->tok;
	size_t i = 0;
	fedns_err err;

	if (e->blank_owner) {
		if (!src->have_owner)
			return fail(ps, src, e->line, FEDNS_ESYNTAX,
				    "record without an owner name and no previous owner");
	} else {
		/* Zones list many records per owner: skip the parse when the text repeats. */
		if (!src->have_owner || src->owner_text == NULL || t[0].quoted ||
		    src->owner_gen != src->origin_gen || src->owner_textlen != t[0].len ||
		    memcmp(src->owner_text, t[0].s, t[0].len) != 0) {
			err = parse_name(ps, src, &t[0], e->line, src->origin, "owner name",
					 src->owner);
			if (err != FEDNS_OK)
				return err;
			src->have_owner = true;
			src->owner_text = t[0].s;
			src->owner_textlen = t[0].len;
			src->owner_gen = src->origin_gen;
		}
		i = 1;
	}

	bool have_ttl = false, have_class = false;
	uint32_t ttl = 0;
	uint16_t rclass = ps->zclass;
	while (i < e->ntok && !t[i].quoted && !(have_ttl && have_class)) {
		unsigned char c0 = (unsigned char)t[i].s[0];
		if (!have_ttl && c0 >= '0' && c0 <= '9') {
			err = parse_ttl(ps, src, &t[i], token_line(src, e, &t[i]), &ttl);
			if (err != FEDNS_OK)
				return err;
			have_ttl = true;
		} else if (!have_class && is_class(&t[i], &rclass)) {
			have_class = true;
		} else {
			break;
		}
		i++;
	}
	if (i >= e->ntok)
		return fail(ps, src, e->line, FEDNS_ESYNTAX, "record has no type");
	if (have_class && rclass != ps->zclass) {
		char zc[16];
		return fail(ps, src, e->line, FEDNS_ESYNTAX,
			    "class \"%s\" does not match the zone class \"%s\"", SHOW(&t[i - 1], b),
			    fedns_class_to_text(ps->zclass, zc));
	}
	uint16_t type;
	if (t[i].quoted || (!fast_type(t[i].s, t[i].len, &type) &&
			    fedns_rrtype_from_text(t[i].s, t[i].len, &type) != FEDNS_OK))
		return fail(ps, src, token_line(src, e, &t[i]), FEDNS_ESYNTAX,
			    "unknown RR type \"%s\"", SHOW(&t[i], b));
	if (fedns_rrtype_is_meta(type))
		return fail(ps, src, token_line(src, e, &t[i]), FEDNS_ESYNTAX,
			    "RR type \"%s\" cannot appear in a zone", SHOW(&t[i], b));
	i++;

	size_t rdlen = 0;
	fedns_diag tmp;
	fedns_diag_clear(&tmp);
	err = fedns_rdata_from_text(type, t + i, e->ntok - i, src->origin, ps->rdbuf,
				    FEDNS_RDATA_MAXLEN, &rdlen, &tmp);
	if (err != FEDNS_OK) {
		char tb[16];
		if (tmp.msg[0])
			return fail(ps, src, e->line, err, "%s", tmp.msg);
		return fail(ps, src, e->line, err, "bad %s rdata: %s",
			    fedns_rrtype_to_text(type, tb), fedns_strerror(err));
	}

	if (!have_ttl) {
		if (ps->have_default) {
			ttl = ps->default_ttl;
		} else if (ps->have_last) {
			ttl = ps->last_ttl;
			if (!ps->warned_rfc1035) {
				ps->warned_rfc1035 = true;
				warn(ps, src, e->line, "using RFC1035 TTL semantics");
			}
		} else if (type == FEDNS_T_SOA && rdlen >= 20) {
			ttl = fedns_soa_minimum(ps->rdbuf, rdlen);
			ps->default_ttl = ttl;
			ps->have_default = true;
			warn(ps, src, e->line, "no TTL specified; using SOA MINTTL instead");
		} else {
			return fail(ps, src, e->line, FEDNS_ESYNTAX,
				    "no TTL specified (no $TTL and no earlier TTL)");
		}
	} else if (!ps->have_default) {
		ps->last_ttl = ttl;
		ps->have_last = true;
	}

	fedns_rr rr = {
		.owner = src->owner,
		.type = type,
		.rclass = ps->zclass,
		.ttl = ttl,
		.rdlen = (uint16_t)rdlen,
		.rdata = ps->rdbuf,
	};
	err = fedns_zone_add(ps->z, &rr, src->id, e->line);
	if (err != FEDNS_OK) {
		if (err == FEDNS_ETOOBIG)
			return fail(ps, src, e->line, err,
				    "zone is too large (record count or memory cap reached)");
		return fail(ps, src, e->line, err, "record refused: %s", fedns_strerror(err));
	}
	return FEDNS_OK;
}

static fedns_err
parse_source(parser *ps, source *src)
{
	size_t len = (size_t)(src->end - src->p);
	const char *nul = memchr(src->p, '\0', len);
	if (nul != NULL) {
		unsigned line = 1;
		for (const char *q = src->p; q < nul; q++)
			line += *q == '\n';
		return fail(ps, src, line, FEDNS_ESYNTAX, "NUL byte in input");
	}
	for (;;) {
		entry e;
		int r = next_entry(ps, src, &e);
		if (r < 0)
			return r;
		if (r == 0)
			return FEDNS_OK;
		fedns_err err;
		if (!e.blank_owner && !ps->tok[0].quoted && ps->tok[0].len > 0 &&
		    ps->tok[0].s[0] == '$')
			err = do_directive(ps, src, &e);
		else
			err = do_record(ps, src, &e);
		if (err != FEDNS_OK)
			return err;
	}
}

fedns_err
fedns_zonefile_parse(const char *name, const char *text, size_t len,
		     const fedns_zonefile_opts *opts, fedns_zone *z, fedns_diag *d)
{
	if (opts == NULL || opts->origin == NULL || z == NULL || (text == NULL && len > 0))
		return fedns_diag_set(d, FEDNS_EINVAL, "zonefile: bad arguments");
	parser ps;
	memset(&ps, 0, sizeof(ps));
	ps.opts = opts;
	ps.z = z;
	ps.d = d;
	ps.zclass = fedns_zone_class(z);
	ps.max_depth = opts->max_include_depth ? opts->max_include_depth : DEFAULT_INCLUDE_DEPTH;
	ps.captok = 64;
	ps.tok = malloc(ps.captok * sizeof(*ps.tok));
	ps.rdbuf = malloc(FEDNS_RDATA_MAXLEN);

	source src;
	memset(&src, 0, sizeof(src));
	src.name = name != NULL ? name : "(input)";
	fedns_err err;
	if (ps.tok == NULL || ps.rdbuf == NULL) {
		err = fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
		goto out;
	}
	fedns_name_copy(src.origin, opts->origin);
	src.id = fedns_zone_add_source(z, src.name);
	src.p = text != NULL ? text : "";
	src.end = src.p + len;
	src.line = 1;
	err = parse_source(&ps, &src);
out:
	free(ps.rdbuf);
	free(ps.tok);
	return err;
}

fedns_err
fedns_zonefile_origin(const char *text, size_t len, uint8_t out[FEDNS_NAME_MAXLEN], size_t *outlen,
		      fedns_diag *d)
{
	static const uint8_t root[1] = {0};
	fedns_zonefile_opts opts = {.origin = root};
	parser ps;
	memset(&ps, 0, sizeof(ps));
	ps.opts = &opts;
	ps.d = d;
	ps.captok = 64;
	ps.tok = malloc(ps.captok * sizeof(*ps.tok));
	source src;
	memset(&src, 0, sizeof(src));
	src.name = "(input)";
	src.p = text != NULL ? text : "";
	src.end = src.p + (text != NULL ? len : 0);
	src.line = 1;
	fedns_err err = FEDNS_ESYNTAX;
	const char *why = "the file has no records";
	uint8_t origin[FEDNS_NAME_MAXLEN];
	size_t tmplen;
	bool have_origin = false;
	if (ps.tok == NULL) {
		err = fedns_diag_set(d, FEDNS_ENOMEM, "out of memory");
		goto out;
	}
	if (memchr(src.p, '\0', (size_t)(src.end - src.p)) != NULL) {
		why = "the file holds a NUL byte";
		goto fail;
	}
	for (;;) {
		entry e;
		int r = next_entry(&ps, &src, &e);
		if (r <= 0) {
			if (r < 0) {
				err = r;
				goto out;
			}
			goto fail;
		}
		const fedns_token *t = ps.tok;
		fedns_diag tmp;
		fedns_diag_clear(&tmp);
		if (!e.blank_owner && t[0].len > 0 && t[0].s[0] == '$') {
			if (ieq(t[0].s, t[0].len, "$ttl", 4))
				continue;
			/* An $ORIGIN before the SOA names the zone as well as its owner does. */
			uint8_t next[FEDNS_NAME_MAXLEN];
			if (ieq(t[0].s, t[0].len, "$origin", 7) && e.ntok == 2 &&
			    fedns_name_from_text(t[1].s, t[1].len, have_origin ? origin : NULL,
						 next, &tmplen, &tmp) == FEDNS_OK) {
				memcpy(origin, next, tmplen);
				have_origin = true;
				continue;
			}
			why = "a directive other than $TTL or an absolute $ORIGIN comes before the "
			      "first record";
			goto fail;
		}
		if (e.blank_owner || t[0].quoted ||
		    fedns_name_from_text(t[0].s, t[0].len, have_origin ? origin : NULL, out, outlen,
					 &tmp) != FEDNS_OK) {
			why = "the first record's owner is not an absolute name";
			goto fail;
		}
		size_t i = 1;
		uint16_t cl;
		while (i < e.ntok && i < 3 && !t[i].quoted &&
		       ((t[i].s[0] >= '0' && t[i].s[0] <= '9') || is_class(&t[i], &cl)))
			i++;
		uint16_t type = 0;
		if (i >= e.ntok ||
		    (!fast_type(t[i].s, t[i].len, &type) &&
		     fedns_rrtype_from_text(t[i].s, t[i].len, &type) != FEDNS_OK) ||
		    type != FEDNS_T_SOA) {
			why = "the first record is not an SOA";
			goto fail;
		}
		err = FEDNS_OK;
		goto out;
	}
fail:
	err = fedns_diag_set(d, FEDNS_ESYNTAX, "cannot tell the zone's origin: %s", why);
out:
	free(ps.tok);
	return err;
}

fedns_err
fedns_rr_print(const fedns_rr *rr, fedns_buf *out)
{
	char name[FEDNS_NAME_MAXTEXT + 1];
	char cb[16], tb[16];
	if (fedns_name_to_text(rr->owner, name, sizeof(name)) == 0)
		return FEDNS_EMALFORMED;
	fedns_buf_printf(out, "%s\t%u\t%s\t%s\t", name, (unsigned)rr->ttl,
			 fedns_class_to_text(rr->rclass, cb), fedns_rrtype_to_text(rr->type, tb));
	if (out->err != FEDNS_OK)
		return out->err;
	fedns_err err = fedns_rdata_to_text(rr->type, rr->rdata, rr->rdlen, out);
	if (err != FEDNS_OK)
		return err;
	return fedns_buf_putc(out, '\n');
}

static fedns_err
print_set(const fedns_rrset *set, fedns_buf *out)
{
	const uint8_t *pos = set->rdata;
	for (uint32_t i = 0; i < set->count; i++) {
		fedns_rr rr = {.owner = set->owner,
			       .type = set->type,
			       .rclass = set->rclass,
			       .ttl = set->ttl};
		rr.rdata = fedns_rrset_next_rdata(&pos, &rr.rdlen);
		fedns_err err = fedns_rr_print(&rr, out);
		if (err != FEDNS_OK)
			return err;
	}
	return FEDNS_OK;
}

fedns_err
fedns_zone_print(const fedns_zone *z, fedns_buf *out)
{
	const uint8_t *origin = fedns_zone_origin(z);
	const fedns_rrset *soa = fedns_zone_find(z, origin, FEDNS_T_SOA);
	fedns_err err;
	if (soa != NULL && (err = print_set(soa, out)) != FEDNS_OK)
		return err;
	fedns_zone_iter it;
	fedns_zone_iter_init(&it, z);
	const fedns_rrset *set;
	while ((set = fedns_zone_iter_next(&it)) != NULL) {
		if (set->type == FEDNS_T_SOA && fedns_name_equal(set->owner, origin))
			continue;
		if ((err = print_set(set, out)) != FEDNS_OK)
			return err;
	}
	return out->err;
}
