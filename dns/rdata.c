/* SPDX-License-Identifier: Apache-2.0 */
/* RR types and rdata: one descriptor per type drives parse, print, check, unpack, canonical
 * form. */
#include "dns/rdata.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encode.h"
#include "dns/name.h"

/* ------------------------------------------------------------------------------------ */
/* Type and class mnemonics                                                              */

typedef struct mnem {
	uint16_t type;
	const char *name;
} mnem;

/* Every type BIND knows by name, so TYPEnnn is only printed where BIND prints it too. */
static const mnem type_names[] = {
	{1, "A"},	  {2, "NS"},	  {3, "MD"},	      {4, "MF"},
	{5, "CNAME"},	  {6, "SOA"},	  {7, "MB"},	      {8, "MG"},
	{9, "MR"},	  {10, "NULL"},	  {11, "WKS"},	      {12, "PTR"},
	{13, "HINFO"},	  {14, "MINFO"},  {15, "MX"},	      {16, "TXT"},
	{17, "RP"},	  {18, "AFSDB"},  {19, "X25"},	      {20, "ISDN"},
	{21, "RT"},	  {22, "NSAP"},	  {23, "NSAP-PTR"},   {24, "SIG"},
	{25, "KEY"},	  {26, "PX"},	  {27, "GPOS"},	      {28, "AAAA"},
	{29, "LOC"},	  {30, "NXT"},	  {31, "EID"},	      {32, "NIMLOC"},
	{33, "SRV"},	  {34, "ATMA"},	  {35, "NAPTR"},      {36, "KX"},
	{37, "CERT"},	  {38, "A6"},	  {39, "DNAME"},      {40, "SINK"},
	{41, "OPT"},	  {42, "APL"},	  {43, "DS"},	      {44, "SSHFP"},
	{45, "IPSECKEY"}, {46, "RRSIG"},  {47, "NSEC"},	      {48, "DNSKEY"},
	{49, "DHCID"},	  {50, "NSEC3"},  {51, "NSEC3PARAM"}, {52, "TLSA"},
	{53, "SMIMEA"},	  {55, "HIP"},	  {56, "NINFO"},      {57, "RKEY"},
	{58, "TALINK"},	  {59, "CDS"},	  {60, "CDNSKEY"},    {61, "OPENPGPKEY"},
	{62, "CSYNC"},	  {63, "ZONEMD"}, {64, "SVCB"},	      {65, "HTTPS"},
	{99, "SPF"},	  {100, "UINFO"}, {101, "UID"},	      {102, "GID"},
	{103, "UNSPEC"},  {104, "NID"},	  {105, "L32"},	      {106, "L64"},
	{107, "LP"},	  {108, "EUI48"}, {109, "EUI64"},     {249, "TKEY"},
	{250, "TSIG"},	  {251, "IXFR"},  {252, "AXFR"},      {253, "MAILB"},
	{254, "MAILA"},	  {255, "ANY"},	  {256, "URI"},	      {257, "CAA"},
	{258, "AVC"},	  {259, "DOA"},	  {260, "AMTRELAY"},  {32768, "TA"},
	{32769, "DLV"},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static bool
ci_equal(const char *a, size_t alen, const char *b)
{
	size_t i = 0;
	for (; i < alen && b[i] != '\0'; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x >= 'a' && x <= 'z')
			x = (unsigned char)(x - 32);
		if (y >= 'a' && y <= 'z')
			y = (unsigned char)(y - 32);
		if (x != y)
			return false;
	}
	return i == alen && b[i] == '\0';
}

/* Decimal digits only (no sign, no base prefix, as BIND's lexer reads numbers).
 * Returns 0, -1 (not a number) or -2 (above max). */
static int
parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)((unsigned char)s[i] - '0');
		if (d > 9)
			return -1;
		if (v <= max)
			v = v * 10 + d;
	}
	if (v > max)
		return -2;
	*out = v;
	return 0;
}

/* "TYPE" or "CLASS" followed by a decimal number up to 65535. */
static bool
parse_generic(const char *s, size_t len, const char *prefix, uint16_t *out)
{
	size_t pl = strlen(prefix);
	uint64_t v;
	if (len <= pl || len > pl + 5 || !ci_equal(s, pl, prefix))
		return false;
	if (parse_uint(s + pl, len - pl, 65535, &v) != 0)
		return false;
	*out = (uint16_t)v;
	return true;
}

const char *
fedns_rrtype_to_text(uint16_t type, char buf[16])
{
	for (size_t i = 0; i < NELEM(type_names); i++) {
		if (type_names[i].type == type) {
			size_t n = strlen(type_names[i].name);
			memcpy(buf, type_names[i].name, n + 1);
			return buf;
		}
	}
	snprintf(buf, 16, "TYPE%u", (unsigned)type);
	return buf;
}

fedns_err
fedns_rrtype_from_text(const char *s, size_t len, uint16_t *out)
{
	for (size_t i = 0; i < NELEM(type_names); i++) {
		if (ci_equal(s, len, type_names[i].name)) {
			*out = type_names[i].type;
			return FEDNS_OK;
		}
	}
	if (parse_generic(s, len, "TYPE", out))
		return FEDNS_OK;
	return FEDNS_ESYNTAX;
}

static const mnem class_names[] = {
	{FEDNS_C_IN, "IN"},	{FEDNS_C_CH, "CH"},   {FEDNS_C_HS, "HS"},
	{FEDNS_C_NONE, "NONE"}, {FEDNS_C_ANY, "ANY"},
};

const char *
fedns_class_to_text(uint16_t rclass, char buf[16])
{
	for (size_t i = 0; i < NELEM(class_names); i++) {
		if (class_names[i].type == rclass) {
			snprintf(buf, 16, "%s", class_names[i].name);
			return buf;
		}
	}
	snprintf(buf, 16, "CLASS%u", (unsigned)rclass);
	return buf;
}

fedns_err
fedns_class_from_text(const char *s, size_t len, uint16_t *out)
{
	if (len == 2 && (s[0] | 0x20) == 'i' && (s[1] | 0x20) == 'n') {
		*out = FEDNS_C_IN;
		return FEDNS_OK;
	}
	/* Master-file parsers ask this of every TTL and type token too. */
	if (len < 2 || len > 10 || (unsigned)((s[0] | 0x20) - 'a') > 25)
		return FEDNS_ESYNTAX;
	for (size_t i = 0; i < NELEM(class_names); i++) {
		if (ci_equal(s, len, class_names[i].name)) {
			*out = class_names[i].type;
			return FEDNS_OK;
		}
	}
	if (parse_generic(s, len, "CLASS", out))
		return FEDNS_OK;
	return FEDNS_ESYNTAX;
}

bool
fedns_rrtype_is_meta(uint16_t type)
{
	/* RFC 6895 §3.1: OPT and the 128-255 range are meta and question types; TYPE0 is
	 * reserved and BIND refuses it in zones as a meta type too. */
	return type == 0 || type == FEDNS_T_OPT || (type >= 128 && type <= 255);
}

/* ------------------------------------------------------------------------------------ */
/* Descriptors                                                                           */

enum fkind {
	FK_END = 0,
	FK_NAME,   /* domain name; see NF_* flags */
	FK_U8,	   /* 8-bit number */
	FK_U16,	   /* 16-bit number */
	FK_U32,	   /* 32-bit number */
	FK_TTL,	   /* 32-bit number, text accepts TTL units (SOA timers) */
	FK_A,	   /* IPv4 address */
	FK_AAAA,   /* IPv6 address */
	FK_STR,	   /* one <character-string> */
	FK_STRS,   /* one or more <character-string>s to the end */
	FK_HEX,	   /* at least one octet to the end, hex in text (tokens joined) */
	FK_B64,	   /* at least one octet to the end, base64 in text (tokens joined) */
	FK_CAATAG, /* CAA tag: length-prefixed, alphanumeric, non-empty */
	FK_CAAVAL, /* CAA value: the rest of the rdata, one (quoted) string in text */
	FK_SVC,	   /* SVCB/HTTPS SvcParams to the end (RFC 9460) */
	FK_TYPE,   /* RR type number, a mnemonic in text (RRSIG type covered) */
	FK_TIME,   /* 32-bit time, YYYYMMDDHHmmSS in text (RFC 4034 §3.2) */
	FK_BITMAP, /* NSEC type bit map to the end (RFC 4034 §4.1.2); see NF_EMPTY_OK */
	FK_SALT,   /* length-prefixed octets, hex or "-" in text (NSEC3 salt) */
	FK_B32,	   /* length-prefixed octets, base32hex in text (NSEC3 next owner) */
	FK_ALG,	   /* 8-bit DNSSEC algorithm; text also takes mnemonics (RFC 4034 A.1) */
	FK_DIGEST, /* 8-bit DS digest type; text also takes mnemonics (SHA-256, ...) */
};

/* RFC 3597 §4: the RFC 1035 types whose names may be compressed (and must be
 * decompressed on receipt). */
#define NF_COMPRESS 0x01
/* RFC 4034 §6.2 as amended by RFC 6840 §5.1: names lowercased in canonical form. */
#define NF_LOWER 0x02
/* A type bit map may be empty (NSEC3, RFC 5155 §3.2); NSEC's may not. */
#define NF_EMPTY_OK 0x04

typedef struct field {
	uint8_t kind;
	uint8_t flags;
	const char *name; /* for messages: 'MX preference "x" is not a number' */
} field;

#define MAXFIELDS 10

/* Extra rule over the wire form, after the fields are known to be well-formed
 * (digest lengths, SvcParam rules). 'strict' adds the presentation-only rules.
 * Returns NULL or a reason. */
typedef const char *(*extra_fn)(const uint8_t *rd, size_t len, bool strict);

typedef struct rdesc {
	extra_fn extra;
	field f[MAXFIELDS];
} rdesc;

static const char *ds_extra(const uint8_t *rd, size_t len, bool strict);
static const char *zonemd_extra(const uint8_t *rd, size_t len, bool strict);
static const char *svc_extra(const uint8_t *rd, size_t len, bool strict);
static const char *nsec3_extra(const uint8_t *rd, size_t len, bool strict);

/* clang-format off */
#define NC (NF_COMPRESS | NF_LOWER)
#define NL NF_LOWER
#define F(...) { NULL, { __VA_ARGS__ } }
#define XF(x, ...) { x, { __VA_ARGS__ } }
#define NAME(fl, n) { FK_NAME, fl, n }
#define U8(n) { FK_U8, 0, n }
#define U16(n) { FK_U16, 0, n }
#define U32(n) { FK_U32, 0, n }
#define TTL(n) { FK_TTL, 0, n }
#define ALG(n) { FK_ALG, 0, n }
#define DIGEST(n) { FK_DIGEST, 0, n }
#define DS_FIELDS \
	{ U16("key tag"), ALG("algorithm"), DIGEST("digest type"), { FK_HEX, 0, "digest" } }
#define DNSKEY_FIELDS \
	{ U16("flags"), U8("protocol"), ALG("algorithm"), { FK_B64, 0, "public key" } }
#define TLSA_FIELDS \
	{ U8("usage"), U8("selector"), U8("matching type"), { FK_HEX, 0, "certificate data" } }
/* RFC 9460 §2.2: TargetName is never compressed and, not being in the RFC 4034 §6.2
 * list, keeps its case in canonical form. */
#define SVC_FIELDS { U16("priority"), NAME(0, "target"), { FK_SVC, 0, "parameter" } }
/* RFC 6840 §5.1: the signer's name is lowercased in canonical form. */
#define RRSIG_FIELDS                                                                   \
	{ { FK_TYPE, 0, "type covered" }, ALG("algorithm"), U8("labels"),               \
	  U32("original TTL"), { FK_TIME, 0, "expiration" }, { FK_TIME, 0, "inception" }, \
	  U16("key tag"), NAME(NL, "signer"), { FK_B64, 0, "signature" } }

/* Types 0..127 by number; CAA apart. An entry whose first field is FK_END is unknown. */
static const rdesc desc_low[128] = {
	[FEDNS_T_A] = F({FK_A, 0, "address"}),
	[FEDNS_T_NS] = F(NAME(NC, "nameserver")),
	[3 /* MD */] = F(NAME(NC, "host")),
	[4 /* MF */] = F(NAME(NC, "host")),
	[FEDNS_T_CNAME] = F(NAME(NC, "target")),
	[FEDNS_T_SOA] = {NULL,
			 {NAME(NC, "mname"), NAME(NC, "rname"), U32("serial"), TTL("refresh"),
			  TTL("retry"), TTL("expire"), TTL("minimum")}},
	[7 /* MB */] = F(NAME(NC, "mailbox")),
	[8 /* MG */] = F(NAME(NC, "mailbox")),
	[9 /* MR */] = F(NAME(NC, "mailbox")),
	[FEDNS_T_PTR] = F(NAME(NC, "target")),
	[FEDNS_T_HINFO] = F({FK_STR, 0, "cpu"}, {FK_STR, 0, "os"}),
	[14 /* MINFO */] = F(NAME(NC, "rmailbx"), NAME(NC, "emailbx")),
	[FEDNS_T_MX] = F(U16("preference"), NAME(NC, "exchange")),
	[FEDNS_T_TXT] = F({FK_STRS, 0, "string"}),
	[17 /* RP */] = F(NAME(NL, "mbox"), NAME(NL, "txt")),
	[18 /* AFSDB */] = F(U16("subtype"), NAME(NL, "hostname")),
	[21 /* RT */] = F(U16("preference"), NAME(NL, "host")),
	[26 /* PX */] = {NULL, {U16("preference"), NAME(NL, "map822"), NAME(NL, "mapx400")}},
	[FEDNS_T_AAAA] = F({FK_AAAA, 0, "address"}),
	[FEDNS_T_SRV] = {NULL, {U16("priority"), U16("weight"), U16("port"), NAME(NL, "target")}},
	[36 /* KX */] = F(U16("preference"), NAME(NL, "exchanger")),
	[FEDNS_T_DNAME] = F(NAME(NL, "target")),
	[FEDNS_T_DS] = {ds_extra, DS_FIELDS},
	[FEDNS_T_DNSKEY] = {NULL, DNSKEY_FIELDS},
	[FEDNS_T_TLSA] = {NULL, TLSA_FIELDS},
	[53 /* SMIMEA */] = {NULL, TLSA_FIELDS},
	[59 /* CDS */] = {ds_extra, DS_FIELDS},
	[60 /* CDNSKEY */] = {NULL, DNSKEY_FIELDS},
	[FEDNS_T_ZONEMD] =
		{zonemd_extra,
		 {U32("serial"), U8("scheme"), U8("hash algorithm"), {FK_HEX, 0, "digest"}}},
	[24 /* SIG */] = { NULL, RRSIG_FIELDS },
	[FEDNS_T_RRSIG] = { NULL, RRSIG_FIELDS },
	/* RFC 6840 §5.1: NSEC's next name keeps its case in canonical form. */
	[FEDNS_T_NSEC] = F(NAME(0, "next name"), { FK_BITMAP, 0, "type list" }),
	[FEDNS_T_NSEC3] = XF(nsec3_extra, U8("hash algorithm"), U8("flags"), U16("iterations"),
			     { FK_SALT, 0, "salt" }, { FK_B32, 0, "next hashed owner" },
			     { FK_BITMAP, NF_EMPTY_OK, "type list" }),
	[FEDNS_T_NSEC3PARAM] = F(U8("hash algorithm"), U8("flags"), U16("iterations"),
				  { FK_SALT, 0, "salt" }),
	[FEDNS_T_SVCB] = {svc_extra, SVC_FIELDS},
	[FEDNS_T_HTTPS] = {svc_extra, SVC_FIELDS},
	[99 /* SPF */] = F({FK_STRS, 0, "string"}),
};

static const rdesc desc_caa = {NULL, {U8("flags"), {FK_CAATAG, 0, "tag"}, {FK_CAAVAL, 0, "value"}}};

#undef NC
#undef NL
#undef F
#undef XF
#undef NAME
#undef U8
#undef U16
#undef U32
#undef TTL
#undef ALG
#undef DIGEST
#undef DS_FIELDS
#undef DNSKEY_FIELDS
#undef TLSA_FIELDS
#undef SVC_FIELDS
#undef RRSIG_FIELDS
/* clang-format on */

static const rdesc *
desc_get(uint16_t type)
{
	const rdesc *d;
	if (type < 128)
		d = &desc_low[type];
	else if (type == FEDNS_T_CAA)
		d = &desc_caa;
	else
		return NULL;
	return d->f[0].kind == FK_END ? NULL : d;
}

/* Summary of a descriptor's names: NF_* bits of any name, plus 0x80 when it has one. */
static unsigned
desc_name_flags(const rdesc *d)
{
	unsigned fl = 0;
	for (size_t k = 0; k < MAXFIELDS && d->f[k].kind != FK_END; k++)
		if (d->f[k].kind == FK_NAME)
			fl |= 0x80u | d->f[k].flags;
	return fl;
}

/* ------------------------------------------------------------------------------------ */
/* Diagnostics helpers                                                                   */

/* Shows a token as the user wrote it, with non-printables as \DDD, shortened. */
static const char *
show(const char *s, size_t len, char *buf, size_t bufsz)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (o + 8 >= bufsz) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(buf + o, bufsz - o, "\\%03u", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

#define SHOWMAX 100

static fedns_err
bad_number(fedns_diag *d, const char *tname, const char *fname, const fedns_token *t, int why,
	   uint64_t max)
{
	char sb[SHOWMAX];
	show(t->s, t->len, sb, sizeof(sb));
	if (t->quoted)
		return fedns_diag_set(d, FEDNS_ESYNTAX, "%s %s \"%s\" must not be quoted", tname,
				      fname, sb);
	if (why == -2)
		return fedns_diag_set(d, FEDNS_ESYNTAX, "%s %s \"%s\" is out of range (0-%llu)",
				      tname, fname, sb, (unsigned long long)max);
	return fedns_diag_set(d, FEDNS_ESYNTAX, "%s %s \"%s\" is not a number", tname, fname, sb);
}

/* ------------------------------------------------------------------------------------ */
/* Text primitives                                                                       */

/* Hex digit value plus one (0: not a hex digit); a table keeps the address and hex
 * loops free of unpredictable branches. */
static const uint8_t hex1[256] = {
	['0'] = 1,  ['1'] = 2,	['2'] = 3,  ['3'] = 4,	['4'] = 5,  ['5'] = 6,
	['6'] = 7,  ['7'] = 8,	['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
	['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16, ['A'] = 11, ['B'] = 12,
	['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/* Dotted quad as inet_pton accepts it: exactly four decimal octets, no leading zeros,
 * nothing else. */
static bool
parse_ip4(const char *s, size_t n, uint8_t out[4])
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
	for (int k = 0; k < 4; k++) {
		if (k != 0) {
			if (p == e || *p != '.')
				return false;
			p++;
		}
		unsigned d, v;
		if (p == e || (v = (unsigned)(*p - '0')) > 9)
			return false;
		p++;
		if (p < e && (d = (unsigned)(*p - '0')) <= 9) {
			if (v == 0)
				return false;
			v = v * 10 + d;
			p++;
			if (p < e && (d = (unsigned)(*p - '0')) <= 9) {
				v = v * 10 + d;
				p++;
				if (v > 255 || (p < e && (unsigned)(*p - '0') <= 9))
					return false;
			}
		}
		out[k] = (uint8_t)v;
	}
	return p == e;
}

/* IPv6 text with inet_pton's rules: 1-4 hex digits per group, one "::", an optional
 * dotted quad in the last 32 bits, nothing trailing. */
static bool
parse_ip6(const char *s, size_t n, uint8_t out[16])
{
	uint8_t tmp[16];
	size_t tp = 0, i = 0;
	int colonp = -1;

	if (n == 0)
		return false;
	if (s[0] == ':') {
		if (n < 2 || s[1] != ':')
			return false;
		colonp = 0;
		i = 2;
	}
	while (i < n) {
		size_t st = i;
		unsigned v = 0, h;
		while (i < n && (h = hex1[(unsigned char)s[i]]) != 0) {
			v = (v << 4) | (h - 1);
			i++;
		}
		if (i < n && s[i] == '.') {
			/* A dotted quad ends the address and fills its last 32 bits. */
			if (tp + 4 > 16 || !parse_ip4(s + st, n - st, tmp + tp))
				return false;
			tp += 4;
			break;
		}
		if (i == st || i - st > 4 || tp == 16)
			return false;
		tmp[tp++] = (uint8_t)(v >> 8);
		tmp[tp++] = (uint8_t)v;
		if (i == n)
			break;
		if (s[i] != ':' || ++i == n)
			return false;
		if (s[i] == ':') {
			if (colonp >= 0)
				return false;
			colonp = (int)tp;
			i++;
		}
	}
	if (colonp >= 0) {
		if (tp == 16)
			return false;
		size_t nmove = tp - (size_t)colonp;
		memmove(tmp + 16 - nmove, tmp + colonp, nmove);
		memset(tmp + colonp, 0, 16 - nmove - (size_t)colonp);
		tp = 16;
	}
	if (tp != 16)
		return false;
	memcpy(out, tmp, 16);
	return true;
}

/* Decodes a <character-string>'s escapes (\X and \DDD, as BIND: \D must be followed by
 * two more digits, value at most 255). Returns 0, -1 (bad escape) or -2 (longer than
 * cap). */
static int
decode_cs(const char *s, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t o = 0;
	if (memchr(s, '\\', len) == NULL) {
		/* Most strings have no escapes: one copy. */
		if (len > cap)
			return -2;
		memcpy(out, s, len);
		*outlen = len;
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\') {
			if (++i >= len)
				return -1;
			c = (unsigned char)s[i];
			if (c >= '0' && c <= '9') {
				if (len - i < 3)
					return -1;
				unsigned d1 = (unsigned)((unsigned char)s[i + 1] - '0');
				unsigned d2 = (unsigned)((unsigned char)s[i + 2] - '0');
				if (d1 > 9 || d2 > 9)
					return -1;
				unsigned v = (unsigned)(c - '0') * 100 + d1 * 10 + d2;
				if (v > 255)
					return -1;
				c = (unsigned char)v;
				i += 2;
			}
		}
		if (o == cap)
			return -2;
		out[o++] = c;
	}
	*outlen = o;
	return 0;
}

/* Hex and base64 spread over several tokens decode as if joined (common/encode.h's
 * streaming decoders). Running out of room is left in the cursor's sticky error. */
typedef fedns_hexdec hexdec;
typedef fedns_b64dec b64dec;

static bool
feed_result(fedns_err err, size_t n, fedns_wbuf *w)
{
	if (w->err == FEDNS_OK)
		w->len = n;
	if (err == FEDNS_ETOOBIG) {
		if (w->err == FEDNS_OK)
			w->err = FEDNS_ETOOBIG;
		return true;
	}
	return err == FEDNS_OK;
}

static bool
hex_feed(hexdec *h, const char *s, size_t len, fedns_wbuf *w)
{
	size_t n = w->len;
	size_t cap = w->err == FEDNS_OK ? w->cap : w->len;
	fedns_err err = fedns_hexdec_feed(h, s, len, w->buf, cap, &n);
	return feed_result(err, n, w);
}

static bool
b64_feed(b64dec *b, const char *s, size_t len, fedns_wbuf *w)
{
	size_t n = w->len;
	size_t cap = w->err == FEDNS_OK ? w->cap : w->len;
	fedns_err err = fedns_b64dec_feed(b, s, len, w->buf, cap, &n);
	return feed_result(err, n, w);
}

/* Whole quanta, padding matching the bit count, and zero pad bits (as BIND insists). */
static bool
b64_done(const b64dec *b)
{
	return fedns_b64dec_done(b) == FEDNS_OK;
}

static int
ttl_parse(const char *s, size_t len, uint32_t *out)
{
	uint64_t v;
	int r = parse_uint(s, len, UINT32_MAX, &v);
	if (r == 0) {
		*out = (uint32_t)v;
		return 0;
	}
	if (r == -2)
		return -2;
	/* Units in any order, repeats summed (BIND: 1h1h is 7200), every number with a unit. */
	uint64_t total = 0;
	size_t i = 0;
	if (len == 0)
		return -1;
	while (i < len) {
		uint64_t n = 0;
		size_t st = i;
		while (i < len && (unsigned)((unsigned char)s[i] - '0') <= 9) {
			if (n <= UINT32_MAX)
				n = n * 10 + (uint64_t)(s[i] - '0');
			i++;
		}
		if (i == st || i == len)
			return -1;
		if (n > UINT32_MAX)
			return -2;
		uint64_t mul;
		switch (s[i] | 0x20) {
		case 'w':
			mul = 604800;
			break;
		case 'd':
			mul = 86400;
			break;
		case 'h':
			mul = 3600;
			break;
		case 'm':
			mul = 60;
			break;
		case 's':
			mul = 1;
			break;
		default:
			return -1;
		}
		i++;
		total += n * mul;
		if (total > UINT32_MAX)
			return -2;
	}
	*out = (uint32_t)total;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* RRSIG times: YYYYMMDDHHmmSS (UTC, kept modulo 2^32 as RFC 4034 §3.2 says) or, as
 * BIND also reads, up to 10 digits of seconds. BIND's ranges: years 0-9999, a leap
 * second 60. */
static bool
time_parse(const char *s, size_t len, uint32_t *out)
{
	uint64_t v;
	if (len <= 10) {
		if (parse_uint(s, len, UINT32_MAX, &v) != 0)
			return false;
		*out = (uint32_t)v;
		return true;
	}
	if (len != 14 || parse_uint(s, len, UINT64_MAX / 10, &v) != 0)
		return false;
	unsigned sec = (unsigned)(v % 100), min = (unsigned)(v / 100 % 100);
	unsigned hour = (unsigned)(v / 10000 % 100), day = (unsigned)(v / 1000000 % 100);
	unsigned mon = (unsigned)(v / 100000000 % 100);
	int64_t year = (int64_t)(v / 10000000000ull);
	static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (mon < 1 || mon > 12 || day < 1 || hour > 23 || min > 59 || sec > 60)
		return false;
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	if (day > mdays[mon - 1] + (mon == 2 && leap))
		return false;
	int64_t t = days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
	*out = (uint32_t)t;
	return true;
}

/* BIND prints a time in the 2^32 window around its clock; dns/ has no clock, so the
 * window here is fixed at 1970-2106. They differ only for times past about 2094. */
static void
time_to_text(uint32_t t, char out[16])
{
	int64_t z = t / 86400 + 719468;
	unsigned secs = t % 86400;
	int64_t era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	snprintf(out, 16, "%04u%02u%02u%02u%02u%02u", (unsigned)y % 10000u, m % 100u, d % 100u,
		 secs / 3600 % 100u, secs / 60 % 60, secs % 60);
}

static fedns_err
ttl_error(fedns_diag *d, fedns_err range_code, const char *what, const char *s, size_t len, int r)
{
	char sb[SHOWMAX];
	show(s, len, sb, sizeof(sb));
	if (r == -2)
		return fedns_diag_set(d, range_code, "%s \"%s\" is out of range (0-4294967295)",
				      what, sb);
	return fedns_diag_set(d, FEDNS_ESYNTAX, "%s \"%s\" is not a number", what, sb);
}

fedns_err
fedns_ttl_from_text(const char *s, size_t len, uint32_t *out, fedns_diag *d)
{
	uint32_t v;
	int r = ttl_parse(s, len, &v);
	if (r != 0)
		return ttl_error(d, FEDNS_ERANGE, "TTL", s, len, r);
	*out = v;
	return FEDNS_OK;
}

/* ------------------------------------------------------------------------------------ */
/* Wire walking: one routine validates rdata by its descriptor and reports the names.    */

typedef void (*walk_name_fn)(void *ctx, size_t off, size_t len, uint8_t flags);

/* RFC 4034 §4.1.2: windows in increasing order, 1-32 octets each, no trailing zero
 * octet (so no empty window). */
static const char *
bitmap_check(const uint8_t *p, size_t len, bool empty_ok)
{
	size_t off = 0;
	int prev = -1;
	if (len == 0)
		return empty_ok ? NULL : "empty type bit map";
	while (off < len) {
		if (len - off < 2)
			return "truncated type bit map";
		uint8_t win = p[off], bl = p[off + 1];
		if ((int)win <= prev)
			return "type bit map windows out of order";
		prev = win;
		if (bl == 0 || bl > 32 || len - off - 2 < bl)
			return "bad type bit map window length";
		if (p[off + 1 + bl] == 0)
			return "type bit map window has a trailing zero octet";
		off += 2 + (size_t)bl;
	}
	return NULL;
}

static const char *
walk(const rdesc *dsc, const uint8_t *rd, size_t len, bool strict, walk_name_fn fn, void *ctx)
{
	size_t off = 0;
	for (size_t k = 0; k < MAXFIELDS && dsc->f[k].kind != FK_END; k++) {
		const field *f = &dsc->f[k];
		size_t left = len - off;
		switch (f->kind) {
		case FK_NAME: {
			size_t n = fedns_name_check(rd + off, left);
			if (n == 0)
				return "bad or compressed name";
			if (fn != NULL)
				fn(ctx, off, n, f->flags);
			off += n;
			break;
		}
		case FK_U8:
		case FK_ALG:
		case FK_DIGEST:
			if (left < 1)
				return "truncated";
			off += 1;
			break;
		case FK_U16:
			if (left < 2)
				return "truncated";
			off += 2;
			break;
		case FK_U32:
		case FK_TTL:
		case FK_A:
			if (left < 4)
				return "truncated";
			off += 4;
			break;
		case FK_AAAA:
			if (left < 16)
				return "truncated";
			off += 16;
			break;
		case FK_STR:
			if (left < 1 || left - 1 < rd[off])
				return "truncated string";
			off += 1 + (size_t)rd[off];
			break;
		case FK_STRS:
			if (left == 0)
				return "no strings";
			while (off < len) {
				if (len - off - 1 < rd[off])
					return "truncated string";
				off += 1 + (size_t)rd[off];
			}
			break;
		case FK_HEX:
		case FK_B64:
			if (left == 0)
				return "missing data";
			off = len;
			break;
		case FK_CAATAG:
			if (left < 1 || rd[off] == 0 || left - 1 < rd[off])
				return "bad tag";
			for (size_t i = 0; i < rd[off]; i++) {
				unsigned char c = rd[off + 1 + i];
				if (!((c >= '0' && c <= '9') ||
				      ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')))
					return "tag is not alphanumeric";
			}
			off += 1 + (size_t)rd[off];
			break;
		case FK_CAAVAL:
		case FK_SVC:
			off = len;
			break;
		case FK_TYPE:
			if (left < 2)
				return "truncated";
			off += 2;
			break;
		case FK_TIME:
			if (left < 4)
				return "truncated";
			off += 4;
			break;
		case FK_SALT:
		case FK_B32:
			if (left < 1 || left - 1 < rd[off])
				return "truncated";
			if (f->kind == FK_B32 && rd[off] == 0)
				return "empty next hashed owner";
			off += 1 + (size_t)rd[off];
			break;
		case FK_BITMAP: {
			const char *why = bitmap_check(rd + off, left, f->flags & NF_EMPTY_OK);
			if (why != NULL)
				return why;
			off = len;
			break;
		}
		default:
			return "internal";
		}
	}
	if (off != len)
		return "trailing data";
	if (dsc->extra != NULL)
		return dsc->extra(rd, len, strict);
	return NULL;
}

static const char *
ds_extra(const uint8_t *rd, size_t len, bool strict)
{
	(void)strict;
	size_t want;
	switch (rd[3]) {
	case 1:
		want = 20;
		break;
	case 2:
		want = 32;
		break;
	case 4:
		want = 48;
		break;
	default:
		return NULL;
	}
	return len - 4 == want ? NULL : "digest length does not match the digest type";
}

static const char *
nsec3_extra(const uint8_t *rd, size_t len, bool strict)
{
	(void)strict;
	(void)len;
	/* RFC 5155 §3.2: with SHA-1 (algorithm 1) the hashed owner is 20 octets; BIND
	 * refuses other lengths for it. */
	size_t hl = rd[5 + (size_t)rd[4]];
	return rd[0] == 1 && hl != 20 ? "SHA-1 next hashed owner must be 20 bytes" : NULL;
}

static const char *
zonemd_extra(const uint8_t *rd, size_t len, bool strict)
{
	(void)strict;
	size_t dl = len - 6;
	/* RFC 8976 §2.2.4: at least 12 octets; known algorithms have exact sizes. */
	if (rd[5] == 1 && dl != 48)
		return "SHA-384 digest must be 48 bytes";
	if (rd[5] == 2 && dl != 64)
		return "SHA-512 digest must be 64 bytes";
	if (dl < 12)
		return "digest is shorter than 12 bytes";
	return NULL;
}

enum {
	SVC_MANDATORY = 0,
	SVC_ALPN = 1,
	SVC_NODEFALPN = 2,
	SVC_PORT = 3,
	SVC_IPV4HINT = 4,
	SVC_ECH = 5,
	SVC_IPV6HINT = 6,
	SVC_DOHPATH = 7,
};

/* Whether SvcParams at p[0..len) holds 'key'. Params are known well-formed. */
static bool
svc_has(const uint8_t *p, size_t len, uint16_t key)
{
	size_t off = 0;
	while (off < len) {
		uint16_t k = fedns_get_u16(p + off);
		if (k == key)
			return true;
		off += 4 + fedns_get_u16(p + off + 2);
	}
	return false;
}

static bool
utf8_ok(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint8_t c = p[i];
		size_t k;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i - 1 < k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + j] & 0x3f);
		}
		/* No overlong forms, surrogates or code points past U+10FFFF. */
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += 1 + k;
	}
	return true;
}

/* RFC 9461 §5: dohpath is a relative URI template (RFC 6570) using the variable
 * "dns". As BIND checks it: starts with '/', UTF-8, balanced expressions, one of which
 * names dns. */
static bool
dohpath_ok(const uint8_t *v, size_t n)
{
	bool dns = false;
	if (n == 0 || v[0] != '/' || !utf8_ok(v, n))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '}')
			return false;
		if (v[i] != '{')
			continue;
		size_t j = i + 1;
		if (j < n && memchr("+#./;?&", v[j], 7) != NULL)
			j++;
		for (;;) {
			size_t st = j;
			while (j < n && v[j] != ',' && v[j] != '}' && v[j] != '*' && v[j] != ':' &&
			       v[j] != '{')
				j++;
			if (j - st == 3 && memcmp(v + st, "dns", 3) == 0)
				dns = true;
			if (j < n && v[j] == '*') {
				j++;
			} else if (j < n && v[j] == ':') {
				j++;
				while (j < n && v[j] >= '0' && v[j] <= '9')
					j++;
			}
			if (j >= n || v[j] == '{')
				return false;
			if (v[j] == '}')
				break;
			if (v[j] != ',')
				return false;
			j++;
		}
		i = j;
	}
	return dns;
}

static const char *
svc_value_check(uint16_t key, const uint8_t *v, size_t vl)
{
	switch (key) {
	case SVC_MANDATORY:
		if (vl == 0 || vl % 2 != 0)
			return "mandatory must be a non-empty list of keys";
		for (size_t i = 0; i < vl; i += 2) {
			uint16_t k = fedns_get_u16(v + i);
			if (k == SVC_MANDATORY)
				return "mandatory lists itself";
			if (i > 0 && k <= fedns_get_u16(v + i - 2))
				return "mandatory keys are not in strictly increasing order";
		}
		return NULL;
	case SVC_ALPN:
		if (vl == 0)
			return "alpn is empty";
		for (size_t i = 0; i < vl;) {
			if (v[i] == 0)
				return "alpn has an empty protocol id";
			if (vl - i - 1 < v[i])
				return "alpn protocol id is truncated";
			i += 1 + (size_t)v[i];
		}
		return NULL;
	case SVC_NODEFALPN:
		return vl == 0 ? NULL : "no-default-alpn takes no value";
	case SVC_PORT:
		return vl == 2 ? NULL : "port must be 2 bytes";
	case SVC_IPV4HINT:
		return vl != 0 && vl % 4 == 0 ? NULL
					      : "ipv4hint must be a non-empty list of addresses";
	case SVC_DOHPATH:
		return dohpath_ok(v, vl) ? NULL
					 : "dohpath must be a relative URI template with {?dns}";
	case SVC_IPV6HINT:
		return vl != 0 && vl % 16 == 0 ? NULL
					       : "ipv6hint must be a non-empty list of addresses";
	default:
		return NULL;
	}
}

static const char *
svc_extra(const uint8_t *rd, size_t len, bool strict)
{
	size_t tl = fedns_name_len(rd + 2);
	const uint8_t *p = rd + 2 + tl;
	size_t plen = len - 2 - tl;
	size_t off = 0;
	int prev = -1;
	while (off < plen) {
		if (plen - off < 4)
			return "truncated parameter";
		uint16_t key = fedns_get_u16(p + off);
		uint16_t vl = fedns_get_u16(p + off + 2);
		if (plen - off - 4 < vl)
			return "truncated parameter";
		if ((int)key <= prev)
			return "parameter keys are not in strictly increasing order";
		prev = key;
		const char *why = svc_value_check(key, p + off + 4, vl);
		if (why != NULL)
			return why;
		off += 4 + (size_t)vl;
	}
	if (!strict)
		return NULL;
	/* Presentation-only rules (RFC 9460 §8, §7.1.1): a record must be self-consistent.
	 * AliasMode records with parameters are kept: §2.4.2 says SHOULD NOT and recipients
	 * MUST ignore them, and BIND loads them. */
	off = 0;
	while (off < plen) {
		uint16_t key = fedns_get_u16(p + off);
		uint16_t vl = fedns_get_u16(p + off + 2);
		if (key == SVC_MANDATORY) {
			for (size_t i = 0; i < vl; i += 2)
				if (!svc_has(p, plen, fedns_get_u16(p + off + 4 + i)))
					return "a key listed in mandatory is missing";
		}
		if (key == SVC_NODEFALPN && !svc_has(p, plen, SVC_ALPN))
			return "no-default-alpn requires alpn";
		off += 4 + (size_t)vl;
	}
	return NULL;
}

fedns_err
fedns_rdata_check(uint16_t type, const uint8_t *rd, size_t rdlen)
{
	if (rdlen > FEDNS_RDATA_MAXLEN)
		return FEDNS_EMALFORMED;
	/* Zones re-check every record they take in; the common types skip the walk. */
	switch (type) {
	case FEDNS_T_A:
		return rdlen == 4 ? FEDNS_OK : FEDNS_EMALFORMED;
	case FEDNS_T_AAAA:
		return rdlen == 16 ? FEDNS_OK : FEDNS_EMALFORMED;
	case FEDNS_T_CNAME:
	case FEDNS_T_NS:
	case FEDNS_T_PTR:
		return rdlen != 0 && fedns_name_check(rd, rdlen) == rdlen ? FEDNS_OK
									  : FEDNS_EMALFORMED;
	case FEDNS_T_MX:
		return rdlen > 2 && fedns_name_check(rd + 2, rdlen - 2) == rdlen - 2
			       ? FEDNS_OK
			       : FEDNS_EMALFORMED;
	default:
		break;
	}
	const rdesc *dsc = desc_get(type);
	if (dsc == NULL)
		return FEDNS_OK;
	if (rd == NULL && rdlen != 0)
		return FEDNS_EMALFORMED;
	return walk(dsc, rd, rdlen, false, NULL, NULL) == NULL ? FEDNS_OK : FEDNS_EMALFORMED;
}

/* ------------------------------------------------------------------------------------ */
/* Presentation -> wire                                                                  */

typedef struct pctx {
	uint16_t type;
	const uint8_t *origin;
	fedns_diag *d;
	char tb[16];
} pctx;

/* The type's mnemonic, made only when a message needs it. */
static const char *
tname(pctx *c)
{
	if (c->tb[0] == '\0')
		fedns_rrtype_to_text(c->type, c->tb);
	return c->tb;
}

static fedns_err
parse_name(pctx *c, const field *f, const fedns_token *t, fedns_wbuf *w)
{
	size_t nl;
	uint8_t tmp[FEDNS_NAME_MAXLEN];
	bool direct = w->err == FEDNS_OK && w->cap - w->len >= FEDNS_NAME_MAXLEN;
	uint8_t *dst = direct ? w->buf + w->len : tmp;
	fedns_err err = FEDNS_ESYNTAX;

	if (!t->quoted)
		err = fedns_name_from_text(t->s, t->len, c->origin, dst, &nl, NULL);
	if (err != FEDNS_OK) {
		fedns_diag nd;
		char sb[SHOWMAX];
		fedns_diag_clear(&nd);
		show(t->s, t->len, sb, sizeof(sb));
		if (t->quoted)
			return fedns_diag_set(c->d, FEDNS_ESYNTAX,
					      "%s %s \"%s\" must not be quoted", tname(c), f->name,
					      sb);
		err = fedns_name_from_text(t->s, t->len, c->origin, tmp, &nl, &nd);
		return fedns_diag_set(c->d, err == FEDNS_OK ? FEDNS_ESYNTAX : err,
				      "%s %s \"%s\" is not a valid name (%s)", tname(c), f->name,
				      sb, nd.msg);
	}
	if (direct)
		w->len += nl;
	else
		fedns_wbuf_bytes(w, tmp, nl);
	return FEDNS_OK;
}

/* BIND's names for DNSSEC algorithms and DS digest types (case-insensitive). */
typedef struct u8name {
	uint8_t v;
	const char *name;
} u8name;

static const u8name secalg_names[] = {
	{1, "RSAMD5"},	     {1, "RSA"},
	{2, "DH"},	     {3, "DSA"},
	{4, "ECC"},	     {5, "RSASHA1"},
	{6, "NSEC3DSA"},     {6, "DSA-NSEC3-SHA1"},
	{7, "NSEC3RSASHA1"}, {7, "RSASHA1-NSEC3-SHA1"},
	{8, "RSASHA256"},    {10, "RSASHA512"},
	{12, "ECCGOST"},     {13, "ECDSAP256SHA256"},
	{13, "ECDSA256"},    {14, "ECDSAP384SHA384"},
	{14, "ECDSA384"},    {15, "ED25519"},
	{16, "ED448"},	     {252, "INDIRECT"},
	{253, "PRIVATEDNS"}, {254, "PRIVATEOID"},
	{0, NULL},
};

static const u8name digest_names[] = {
	{1, "SHA-1"}, {1, "SHA1"},    {2, "SHA-256"}, {2, "SHA256"},
	{3, "GOST"},  {4, "SHA-384"}, {4, "SHA384"},  {0, NULL},
};

static bool
mnemonic_u8(const u8name *tab, const char *s, size_t len, uint8_t *out)
{
	for (; tab->name != NULL; tab++) {
		if (ci_equal(s, len, tab->name)) {
			*out = tab->v;
			return true;
		}
	}
	return false;
}

static fedns_err
parse_num(pctx *c, const field *f, const fedns_token *t, fedns_wbuf *w)
{
	uint64_t max = f->kind == FK_U8 ? 255 : f->kind == FK_U16 ? 65535 : UINT32_MAX;
	uint64_t v = 0;
	int r = -1;
	if (!t->quoted)
		r = parse_uint(t->s, t->len, max, &v);
	if (r != 0)
		return bad_number(c->d, tname(c), f->name, t, r, max);
	if (f->kind == FK_U8)
		fedns_wbuf_u8(w, (uint8_t)v);
	else if (f->kind == FK_U16)
		fedns_wbuf_u16(w, (uint16_t)v);
	else
		fedns_wbuf_u32(w, (uint32_t)v);
	return FEDNS_OK;
}

/* One <character-string> token into the wire form (length byte + octets). */
static fedns_err
parse_cs(pctx *c, const field *f, const fedns_token *t, fedns_wbuf *w)
{
	if (!fedns_wbuf_room(w, 1))
		return FEDNS_ETOOBIG;
	size_t at = w->len;
	size_t room = w->cap - at - 1;
	size_t n;
	int r = decode_cs(t->s, t->len, w->buf + at + 1, room < 255 ? room : 255, &n);
	if (r == -2 && room < 255) {
		/* Decide between "too long" and "no room" without writing past cap. */
		uint8_t tmp[256];
		r = decode_cs(t->s, t->len, tmp, 255, &n);
		if (r == 0) {
			w->err = FEDNS_ETOOBIG;
			return fedns_diag_set(c->d, FEDNS_ETOOBIG, "%s rdata is too long",
					      tname(c));
		}
	}
	if (r == -2)
		return fedns_diag_set(c->d, FEDNS_ESYNTAX, "%s %s is longer than 255 bytes",
				      tname(c), f->name);
	if (r != 0) {
		char sb[SHOWMAX];
		return fedns_diag_set(c->d, FEDNS_ESYNTAX, "%s %s \"%s\" has a bad escape",
				      tname(c), f->name, show(t->s, t->len, sb, sizeof(sb)));
	}
	w->buf[at] = (uint8_t)n;
	w->len = at + 1 + n;
	return FEDNS_OK;
}

static fedns_err parse_svc(pctx *c, const fedns_token *tok, size_t ntok, fedns_wbuf *w);

static const char b32hex[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";

/* NSEC3 salt ("-" for none, else hex) and next hashed owner (base32hex without
 * padding, RFC 4648 §7), each at most 255 octets behind a length octet. */
static fedns_err
parse_lenbytes(pctx *c, const field *f, const fedns_token *t, fedns_wbuf *w)
{
	char sb[SHOWMAX];
	uint8_t tmp[255];
	fedns_wbuf tb;
	fedns_wbuf_init(&tb, tmp, sizeof(tmp));
	bool ok = !t->quoted;
	if (ok && f->kind == FK_SALT) {
		if (!(t->len == 1 && t->s[0] == '-')) {
			hexdec h = {-1};
			ok = hex_feed(&h, t->s, t->len, &tb) && h.hi < 0 && t->len > 0;
		}
	} else if (ok) {
		uint32_t acc = 0;
		unsigned nbits = 0;
		for (size_t i = 0; ok && i < t->len; i++) {
			unsigned char ch = (unsigned char)t->s[i];
			if (ch >= 'a' && ch <= 'z')
				ch = (unsigned char)(ch - 32);
			const char *pos = ch != 0 ? strchr(b32hex, ch) : NULL;
			if (pos == NULL) {
				ok = false;
				break;
			}
			acc = (acc << 5) | (uint32_t)(pos - b32hex);
			nbits += 5;
			if (nbits >= 8) {
				nbits -= 8;
				fedns_wbuf_u8(&tb, (uint8_t)(acc >> nbits));
			}
		}
		/* Leftover bits must be zero and fewer than a whole character's worth. */
		if (ok && (nbits >= 5 || (acc & ((1u << nbits) - 1)) != 0 || t->len == 0))
			ok = false;
	}
	if (!ok)
		return fedns_diag_set(c->d, FEDNS_ESYNTAX, "%s %s \"%s\" is not valid %s", tname(c),
				      f->name, show(t->s, t->len, sb, sizeof(sb)),
				      f->kind == FK_SALT ? "hex (or \"-\")" : "base32hex");
	if (tb.err != FEDNS_OK)
		return fedns_diag_set(c->d, FEDNS_ESYNTAX, "%s %s is longer than 255 bytes",
				      tname(c), f->name);
	fedns_wbuf_u8(w, (uint8_t)tb.len);
	fedns_wbuf_bytes(w, tmp, tb.len);
	return FEDNS_OK;
}

static fedns_err
parse_bitmap(pctx *c, const field *f, const fedns_token *tok, size_t ntok, fedns_wbuf *w)
{
	uint8_t bits[8192];
	int maxwin = -1;
	memset(bits, 0, sizeof(bits));
	for (size_t i = 0; i < ntok; i++) {
		uint16_t ty;
		if (tok[i].quoted ||
		    fedns_rrtype_from_text(tok[i].s, tok[i].len, &ty) != FEDNS_OK) {
			char sb[SHOWMAX];
			return fedns_diag_set(c->d, FEDNS_ESYNTAX,
					      "%s %s: \"%s\" is not a known type", tname(c),
					      f->name, show(tok[i].s, tok[i].len, sb, sizeof(sb)));
		}
		bits[ty >> 3] |= (uint8_t)(0x80 >> (ty & 7));
		if ((ty >> 8) > maxwin)
			maxwin = ty >> 8;
	}
	for (int win = 0; win <= maxwin; win++) {
		const uint8_t *b = bits + 32 * win;
		int last = 31;
		while (last >= 0 && b[last] == 0)
			last--;
		if (last < 0)
			continue;
		fedns_wbuf_u8(w, (uint8_t)win);
		fedns_wbuf_u8(w, (uint8_t)(last + 1));
		fedns_wbuf_bytes(w, b, (size_t)last + 1);
	}
	if (maxwin < 0 && !(f->flags & NF_EMPTY_OK))
		return fedns_diag_set(c->d, FEDNS_ESYNTAX, "%s %s is empty", tname(c), f->name);
	return FEDNS_OK;
}

static const char *
plural(size_t n)
{
	return n == 1 ? "" : "s";
}

static fedns_err
field_count_error(pctx *c, const rdesc *dsc, size_t ntok)
{
	size_t want = 0;
	bool atleast = false;
	for (size_t k = 0; k < MAXFIELDS && dsc->f[k].kind != FK_END; k++) {
		uint8_t kd = dsc->f[k].kind;
		if (kd == FK_STRS || kd == FK_HEX || kd == FK_B64)
			atleast = true;
		if (kd != FK_SVC && kd != FK_BITMAP)
			want++;
		else
			atleast = true;
	}
	return fedns_diag_set(c->d, FEDNS_ESYNTAX, "%s has %zu field%s, %s%zu expected", tname(c),
			      ntok, plural(ntok), atleast ? "at least " : "", want);
}

static fedns_err
parse_fields(pctx *c, const rdesc *dsc, const fedns_token *tok, size_t ntok, fedns_wbuf *w)
{
	size_t ti = 0;
	fedns_err err;
	for (size_t k = 0; k < MAXFIELDS && dsc->f[k].kind != FK_END; k++) {
		const field *f = &dsc->f[k];
		const fedns_token *t = &tok[ti];
		if (ti >= ntok && f->kind != FK_SVC && f->kind != FK_BITMAP)
			return field_count_error(c, dsc, ntok);
		switch (f->kind) {
		case FK_NAME:
			err = parse_name(c, f, t, w);
			ti++;
			break;
		case FK_U8:
		case FK_U16:
		case FK_U32:
			err = parse_num(c, f, t, w);
			ti++;
			break;
		case FK_ALG:
		case FK_DIGEST: {
			uint8_t v;
			if (!t->quoted &&
			    mnemonic_u8(f->kind == FK_ALG ? secalg_names : digest_names, t->s,
					t->len, &v)) {
				fedns_wbuf_u8(w, v);
				err = FEDNS_OK;
			} else {
				field nf = *f;
				nf.kind = FK_U8;
				err = parse_num(c, &nf, t, w);
			}
			ti++;
			break;
		}
		case FK_TTL: {
			uint32_t v;
			int r = t->quoted ? -1 : ttl_parse(t->s, t->len, &v);
			if (r != 0) {
				char what[64];
				snprintf(what, sizeof(what), "%s %s", tname(c), f->name);
				return ttl_error(c->d, FEDNS_ESYNTAX, what, t->s, t->len, r);
			}
			fedns_wbuf_u32(w, v);
			err = FEDNS_OK;
			ti++;
			break;
		}
		case FK_A: {
			uint8_t a[4];
			if (t->quoted || !parse_ip4(t->s, t->len, a)) {
				char sb[SHOWMAX];
				return fedns_diag_set(c->d, FEDNS_ESYNTAX,
						      "%s %s \"%s\" is not a valid IPv4 address",
						      tname(c), f->name,
						      show(t->s, t->len, sb, sizeof(sb)));
			}
			fedns_wbuf_bytes(w, a, 4);
			err = FEDNS_OK;
			ti++;
			break;
		}
		case FK_AAAA: {
			uint8_t a[16];
			if (t->quoted || !parse_ip6(t->s, t->len, a)) {
				char sb[SHOWMAX];
				return fedns_diag_set(c->d, FEDNS_ESYNTAX,
						      "%s %s \"%s\" is not a valid IPv6 address",
						      tname(c), f->name,
						      show(t->s, t->len, sb, sizeof(sb)));
			}
			fedns_wbuf_bytes(w, a, 16);
			err = FEDNS_OK;
			ti++;
			break;
		}
		case FK_STR:
			err = parse_cs(c, f, t, w);
			ti++;
			break;
		case FK_STRS:
			err = FEDNS_OK;
			for (; ti < ntok && err == FEDNS_OK; ti++)
				err = parse_cs(c, f, &tok[ti], w);
			break;
		case FK_HEX: {
			hexdec h = {-1};
			for (; ti < ntok; ti++) {
				if (tok[ti].quoted || !hex_feed(&h, tok[ti].s, tok[ti].len, w)) {
					char sb[SHOWMAX];
					return fedns_diag_set(
						c->d, FEDNS_ESYNTAX,
						"%s %s \"%s\" is not valid hex", tname(c), f->name,
						show(tok[ti].s, tok[ti].len, sb, sizeof(sb)));
				}
			}
			if (h.hi >= 0)
				return fedns_diag_set(c->d, FEDNS_ESYNTAX,
						      "%s %s has an odd number of hex digits",
						      tname(c), f->name);
			err = FEDNS_OK;
			break;
		}
		case FK_B64: {
			b64dec b = {0, 0, 0, 0};
			for (; ti < ntok; ti++) {
				if (tok[ti].quoted || !b64_feed(&b, tok[ti].s, tok[ti].len, w)) {
					char sb[SHOWMAX];
					return fedns_diag_set(
						c->d, FEDNS_ESYNTAX,
						"%s %s \"%s\" is not valid base64", tname(c),
						f->name,
						show(tok[ti].s, tok[ti].len, sb, sizeof(sb)));
				}
			}
			if (!b64_done(&b))
				return fedns_diag_set(c->d, FEDNS_ESYNTAX,
						      "%s %s is not valid base64 (bad length or "
						      "padding)",
						      tname(c), f->name);
			err = FEDNS_OK;
			break;
		}
		case FK_CAATAG: {
			char sb[SHOWMAX];
			if (t->quoted || t->len == 0 || t->len > 255)
				return fedns_diag_set(
					c->d, FEDNS_ESYNTAX,
					"%s tag \"%s\" must be 1-255 letters and digits", tname(c),
					show(t->s, t->len, sb, sizeof(sb)));
			for (size_t i = 0; i < t->len; i++) {
				unsigned char ch = (unsigned char)t->s[i];
				if (!((ch >= '0' && ch <= '9') ||
				      ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z')))
					return fedns_diag_set(
						c->d, FEDNS_ESYNTAX,
						"%s tag \"%s\" must be 1-255 letters and digits",
						tname(c), show(t->s, t->len, sb, sizeof(sb)));
			}
			fedns_wbuf_u8(w, (uint8_t)t->len);
			fedns_wbuf_bytes(w, t->s, t->len);
			err = FEDNS_OK;
			ti++;
			break;
		}
		case FK_CAAVAL: {
			size_t n;
			size_t room = w->err == FEDNS_OK ? w->cap - w->len : 0;
			int r = decode_cs(t->s, t->len, w->buf + w->len, room, &n);
			if (r == -1) {
				char sb[SHOWMAX];
				return fedns_diag_set(c->d, FEDNS_ESYNTAX,
						      "%s value \"%s\" has a bad escape", tname(c),
						      show(t->s, t->len, sb, sizeof(sb)));
			}
			if (r == -2) {
				w->err = FEDNS_ETOOBIG;
				return fedns_diag_set(c->d, FEDNS_ETOOBIG, "%s rdata is too long",
						      tname(c));
			}
			w->len += n;
			err = FEDNS_OK;
			ti++;
			break;
		}
		case FK_SVC:
			err = parse_svc(c, tok + ti, ntok - ti, w);
			ti = ntok;
			break;
		case FK_TYPE: {
			uint16_t ty;
			if (t->quoted || fedns_rrtype_from_text(t->s, t->len, &ty) != FEDNS_OK) {
				char sb[SHOWMAX];
				return fedns_diag_set(c->d, FEDNS_ESYNTAX,
						      "%s %s \"%s\" is not a known type", tname(c),
						      f->name, show(t->s, t->len, sb, sizeof(sb)));
			}
			fedns_wbuf_u16(w, ty);
			err = FEDNS_OK;
			ti++;
			break;
		}
		case FK_TIME: {
			uint32_t v;
			if (t->quoted || !time_parse(t->s, t->len, &v)) {
				char sb[SHOWMAX];
				return fedns_diag_set(
					c->d, FEDNS_ESYNTAX,
					"%s %s \"%s\" is not a time (YYYYMMDDHHmmSS or seconds)",
					tname(c), f->name, show(t->s, t->len, sb, sizeof(sb)));
			}
			fedns_wbuf_u32(w, v);
			err = FEDNS_OK;
			ti++;
			break;
		}
		case FK_SALT:
		case FK_B32:
			err = parse_lenbytes(c, f, t, w);
			ti++;
			break;
		case FK_BITMAP:
			err = parse_bitmap(c, f, tok + ti, ntok - ti, w);
			ti = ntok;
			break;
		default:
			return fedns_diag_set(c->d, FEDNS_ENOTSUP, "%s: internal descriptor error",
					      tname(c));
		}
		if (err != FEDNS_OK)
			return err;
	}
	if (ti != ntok)
		return field_count_error(c, dsc, ntok);
	if (w->err != FEDNS_OK)
		return fedns_diag_set(c->d, w->err, "%s rdata is too long", tname(c));
	return FEDNS_OK;
}

/* RFC 3597 §5: \# <length> <hex>..., for any type. */
static fedns_err
parse_generic_rdata(pctx *c, const fedns_token *tok, size_t ntok, fedns_wbuf *w)
{
	char sb[SHOWMAX];
	uint64_t len;
	if (ntok < 2)
		return fedns_diag_set(c->d, FEDNS_ESYNTAX, "%s \\# needs a length", tname(c));
	int r = tok[1].quoted ? -1 : parse_uint(tok[1].s, tok[1].len, FEDNS_RDATA_MAXLEN, &len);
	if (r != 0)
		return fedns_diag_set(c->d, FEDNS_ESYNTAX,
				      "%s \\# length \"%s\" is not a number from 0 to 65535",
				      tname(c), show(tok[1].s, tok[1].len, sb, sizeof(sb)));
	if (w->cap < len) {
		w->err = FEDNS_ETOOBIG;
		return fedns_diag_set(c->d, FEDNS_ETOOBIG, "%s rdata is too long", tname(c));
	}
	/* The declared length bounds the output, so surplus hex is caught, not written. */
	fedns_wbuf lim;
	fedns_wbuf_init(&lim, w->buf, (size_t)len);
	hexdec h = {-1};
	for (size_t i = 2; i < ntok; i++) {
		if (tok[i].quoted || !hex_feed(&h, tok[i].s, tok[i].len, &lim))
			return fedns_diag_set(c->d, FEDNS_ESYNTAX,
					      "%s \\# data \"%s\" is not valid hex", tname(c),
					      show(tok[i].s, tok[i].len, sb, sizeof(sb)));
	}
	if (h.hi >= 0)
		return fedns_diag_set(c->d, FEDNS_ESYNTAX,
				      "%s \\# data has an odd number of hex digits", tname(c));
	if (lim.err != FEDNS_OK || lim.len != len)
		return fedns_diag_set(c->d, FEDNS_ESYNTAX,
				      "%s \\# data is %s than the declared length %u", tname(c),
				      lim.err != FEDNS_OK ? "longer" : "shorter", (unsigned)len);
	w->len = (size_t)len;
	return FEDNS_OK;
}

/* Unquoted decimal up to 65535 into p[0..1]; the fast paths' number reader. */
static inline bool
u16_fast(const fedns_token *t, uint8_t *p)
{
	if (t->quoted || t->len == 0 || t->len > 5)
		return false;
	unsigned v = 0;
	for (size_t i = 0; i < t->len; i++) {
		unsigned d = (unsigned)((unsigned char)t->s[i] - '0');
		if (d > 9)
			return false;
		v = v * 10 + d;
	}
	if (v > 65535)
		return false;
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return true;
}

static inline bool
name_fast(const fedns_token *t, const uint8_t *origin, uint8_t *p, size_t *nl)
{
	return !t->quoted && fedns_name_from_text(t->s, t->len, origin, p, nl, NULL) == FEDNS_OK;
}

/* The types that make up nearly every zone, without the descriptor loop. Returns false
 * on anything unusual (including errors), and the general path then does the work and
 * words the message. 'out' has room for the largest result (cap >= 1024 checked). */
static bool
fast_from_text(uint16_t type, const fedns_token *tok, size_t ntok, const uint8_t *origin,
	       uint8_t *out, size_t *outlen)
{
	size_t nl;
	switch (type) {
	case FEDNS_T_A:
		if (ntok != 1 || tok[0].quoted || !parse_ip4(tok[0].s, tok[0].len, out))
			return false;
		*outlen = 4;
		return true;
	case FEDNS_T_AAAA:
		if (ntok != 1 || tok[0].quoted || !parse_ip6(tok[0].s, tok[0].len, out))
			return false;
		*outlen = 16;
		return true;
	case FEDNS_T_CNAME:
	case FEDNS_T_NS:
	case FEDNS_T_PTR:
	case FEDNS_T_DNAME:
		if (ntok != 1 || !name_fast(&tok[0], origin, out, &nl))
			return false;
		*outlen = nl;
		return true;
	case FEDNS_T_MX:
		if (ntok != 2 || !u16_fast(&tok[0], out) ||
		    !name_fast(&tok[1], origin, out + 2, &nl))
			return false;
		*outlen = 2 + nl;
		return true;
	case FEDNS_T_SRV:
		if (ntok != 4 || !u16_fast(&tok[0], out) || !u16_fast(&tok[1], out + 2) ||
		    !u16_fast(&tok[2], out + 4) || !name_fast(&tok[3], origin, out + 6, &nl))
			return false;
		*outlen = 6 + nl;
		return true;
	default:
		return false;
	}
}

fedns_err
fedns_rdata_from_text(uint16_t type, const fedns_token *tok, size_t ntok, const uint8_t *origin,
		      uint8_t *out, size_t cap, size_t *outlen, fedns_diag *d)
{
	if (cap >= 1024 && fast_from_text(type, tok, ntok, origin, out, outlen))
		return FEDNS_OK;

	pctx c = {type, origin, d, ""};
	fedns_wbuf w;
	fedns_err err;
	const rdesc *dsc = desc_get(type);

	if (cap > FEDNS_RDATA_MAXLEN)
		cap = FEDNS_RDATA_MAXLEN;
	fedns_wbuf_init(&w, out, cap);

	if (ntok >= 1 && !tok[0].quoted && tok[0].len == 2 && tok[0].s[0] == '\\' &&
	    tok[0].s[1] == '#') {
		err = parse_generic_rdata(&c, tok, ntok, &w);
		if (err != FEDNS_OK)
			return err;
		if (dsc != NULL) {
			const char *why = walk(dsc, out, w.len, true, NULL, NULL);
			if (why != NULL)
				return fedns_diag_set(d, FEDNS_ESYNTAX,
						      "%s rdata in \\# form is not valid: %s",
						      tname(&c), why);
		}
		*outlen = w.len;
		return FEDNS_OK;
	}
	if (dsc == NULL)
		return fedns_diag_set(d, FEDNS_ESYNTAX,
				      "%s has no known presentation format; write it as \\# "
				      "<length> <hex> (RFC 3597)",
				      tname(&c));
	err = parse_fields(&c, dsc, tok, ntok, &w);
	if (err != FEDNS_OK)
		return err;
	if (dsc->extra != NULL) {
		const char *why = dsc->extra(out, w.len, true);
		if (why != NULL)
			return fedns_diag_set(d, FEDNS_ESYNTAX, "%s rdata is not valid: %s",
					      tname(&c), why);
	}
	*outlen = w.len;
	return FEDNS_OK;
}

/* ------------------------------------------------------------------------------------ */
/* SVCB/HTTPS parameters (RFC 9460 §2.1, Appendix A)                                     */

static const char *const svc_key_names[] = {
	"mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech", "ipv6hint",
};

/* Key name or keyNNNNN (no leading zeros); "dohpath" (RFC 9461) is read, printed as
 * key7 as BIND 9.18 does. */
static bool
svc_key_from_text(const char *s, size_t len, uint16_t *out)
{
	for (size_t i = 0; i < NELEM(svc_key_names); i++) {
		if (strlen(svc_key_names[i]) == len && memcmp(s, svc_key_names[i], len) == 0) {
			*out = (uint16_t)i;
			return true;
		}
	}
	if (len == 7 && memcmp(s, "dohpath", 7) == 0) {
		*out = SVC_DOHPATH;
		return true;
	}
	uint64_t v;
	if (len < 4 || len > 8 || memcmp(s, "key", 3) != 0)
		return false;
	if (len > 4 && s[3] == '0')
		return false;
	if (parse_uint(s + 3, len - 3, 65535, &v) != 0)
		return false;
	*out = (uint16_t)v;
	return true;
}

static void
svc_key_to_text(uint16_t key, fedns_buf *out)
{
	if (key < NELEM(svc_key_names))
		fedns_buf_puts(out, svc_key_names[key]);
	else
		fedns_buf_printf(out, "key%u", (unsigned)key);
}

/* Splits v[0..len) at commas; with 'escapes', "\," and "\\" stand for themselves
 * (RFC 9460 Appendix A.1 value-list). Calls fn per item with the unescaped item. */
typedef const char *(*item_fn)(void *ctx, const uint8_t *item, size_t len);

static const char *
svc_split(const uint8_t *v, size_t len, bool escapes, item_fn fn, void *ctx)
{
	uint8_t item[256];
	size_t n = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || v[i] == ',') {
			const char *why = fn(ctx, item, n);
			if (why != NULL)
				return why;
			n = 0;
			continue;
		}
		uint8_t ch = v[i];
		if (escapes && ch == '\\') {
			if (++i == len)
				return "ends with a lone backslash";
			ch = v[i];
		}
		if (n == sizeof(item))
			return "has an item longer than 255 bytes";
		item[n++] = ch;
	}
	return NULL;
}

typedef struct svc_out {
	uint8_t *buf; /* value being built */
	size_t len, cap;
} svc_out;

static const char *
svc_put(svc_out *o, const void *p, size_t n)
{
	if (o->cap - o->len < n)
		return "value is too long";
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	return NULL;
}

static const char *
item_alpn(void *ctx, const uint8_t *item, size_t len)
{
	svc_out *o = ctx;
	if (len == 0)
		return "has an empty protocol id";
	uint8_t l = (uint8_t)len;
	const char *why = svc_put(o, &l, 1);
	return why != NULL ? why : svc_put(o, item, len);
}

static const char *
item_v4(void *ctx, const uint8_t *item, size_t len)
{
	uint8_t a[4];
	if (!parse_ip4((const char *)item, len, a))
		return "has an invalid IPv4 address";
	return svc_put(ctx, a, 4);
}

static const char *
item_v6(void *ctx, const uint8_t *item, size_t len)
{
	uint8_t a[16];
	if (!parse_ip6((const char *)item, len, a))
		return "has an invalid IPv6 address";
	return svc_put(ctx, a, 16);
}

static const char *
item_key(void *ctx, const uint8_t *item, size_t len)
{
	svc_out *o = ctx;
	uint16_t k;
	uint8_t b[2];
	if (!svc_key_from_text((const char *)item, len, &k))
		return "lists an unknown key";
	/* Insert in order, refusing duplicates: the wire list is strictly increasing. */
	size_t n = o->len / 2, i = 0;
	while (i < n && fedns_get_u16(o->buf + 2 * i) < k)
		i++;
	if (i < n && fedns_get_u16(o->buf + 2 * i) == k)
		return "lists a key twice";
	if (o->cap - o->len < 2)
		return "value is too long";
	memmove(o->buf + 2 * i + 2, o->buf + 2 * i, o->len - 2 * i);
	fedns_put_u16(b, k);
	memcpy(o->buf + 2 * i, b, 2);
	o->len += 2;
	return NULL;
}

/* Converts one decoded value to its wire form for 'key'. */
static const char *
svc_value_from_text(uint16_t key, const uint8_t *v, size_t vl, bool has_value, svc_out *o)
{
	switch (key) {
	case SVC_MANDATORY:
		if (!has_value || vl == 0)
			return "needs a value";
		return svc_split(v, vl, false, item_key, o);
	case SVC_ALPN:
		if (!has_value || vl == 0)
			return "needs a value";
		return svc_split(v, vl, true, item_alpn, o);
	case SVC_NODEFALPN:
		/* RFC 9460 §2.1: an empty value is the same as none. */
		return vl != 0 ? "takes no value" : NULL;
	case SVC_PORT: {
		uint64_t port;
		uint8_t b[2];
		if (!has_value)
			return "needs a value";
		int r = parse_uint((const char *)v, vl, 65535, &port);
		if (r != 0)
			return r == -2 ? "is out of range (0-65535)" : "is not a number";
		fedns_put_u16(b, (uint16_t)port);
		return svc_put(o, b, 2);
	}
	case SVC_IPV4HINT:
		if (!has_value || vl == 0)
			return "needs a value";
		return svc_split(v, vl, false, item_v4, o);
	case SVC_IPV6HINT:
		if (!has_value || vl == 0)
			return "needs a value";
		return svc_split(v, vl, false, item_v6, o);
	case SVC_ECH: {
		b64dec b = {0, 0, 0, 0};
		fedns_wbuf w;
		fedns_wbuf_init(&w, o->buf + o->len, o->cap - o->len);
		if (!b64_feed(&b, (const char *)v, vl, &w) || !b64_done(&b))
			return "is not valid base64";
		if (w.err != FEDNS_OK)
			return "value is too long";
		o->len += w.len;
		return NULL;
	}
	default:
		return svc_put(o, v, vl);
	}
}

/* Inserts param (key, value) into the SvcParams region that starts at w->buf[base],
 * keeping keys in increasing order; the value is already at w->buf[w->len + 4]. */
static bool
svc_insert(fedns_wbuf *w, size_t base, uint16_t key, size_t vl)
{
	size_t pos = base;
	while (pos < w->len) {
		uint16_t k = fedns_get_u16(w->buf + pos);
		if (k == key)
			return false;
		if (k > key)
			break;
		pos += 4 + fedns_get_u16(w->buf + pos + 2);
	}
	uint8_t *p = w->buf + w->len;
	fedns_put_u16(p, key);
	fedns_put_u16(p + 2, (uint16_t)vl);
	if (pos != w->len) {
		/* Rotate the new param in front of the larger keys. */
		size_t n = 4 + vl, tail = w->len - pos;
		uint8_t tmpb[512];
		uint8_t *tmp = n <= sizeof(tmpb) ? tmpb : malloc(n);
		if (tmp == NULL) {
			w->err = FEDNS_ENOMEM;
			return true;
		}
		memcpy(tmp, p, n);
		memmove(w->buf + pos + n, w->buf + pos, tail);
		memcpy(w->buf + pos, tmp, n);
		if (tmp != tmpb)
			free(tmp);
	}
	w->len += 4 + vl;
	return true;
}

static fedns_err
parse_svc(pctx *c, const fedns_token *tok, size_t ntok, fedns_wbuf *w)
{
	size_t base = w->len;
	for (size_t i = 0; i < ntok; i++) {
		const fedns_token *t = &tok[i];
		char sb[SHOWMAX];
		if (t->quoted)
			return fedns_diag_set(c->d, FEDNS_ESYNTAX,
					      "%s parameter \"%s\" must be key or key=value",
					      tname(c), show(t->s, t->len, sb, sizeof(sb)));
		const char *eq = memchr(t->s, '=', t->len);
		size_t klen = eq != NULL ? (size_t)(eq - t->s) : t->len;
		uint16_t key;
		if (!svc_key_from_text(t->s, klen, &key))
			return fedns_diag_set(c->d, FEDNS_ESYNTAX,
					      "%s parameter \"%s\" has an unknown key", tname(c),
					      show(t->s, t->len, sb, sizeof(sb)));
		const char *vs = NULL;
		size_t vlen = 0;
		bool has_value = eq != NULL;
		if (eq != NULL) {
			vs = eq + 1;
			vlen = t->len - klen - 1;
			if (vlen == 0 && i + 1 < ntok && tok[i + 1].quoted &&
			    (uintptr_t)tok[i + 1].s == (uintptr_t)t->s + t->len + 1) {
				/* key="quoted value": the lexer ends the token at the quote,
				 * and the value is the next token if nothing came between. */
				i++;
				vs = tok[i].s;
				vlen = tok[i].len;
			} else if (vlen >= 2 && vs[0] == '"' && vs[vlen - 1] == '"') {
				vs++;
				vlen -= 2;
			} else if (vlen >= 1 && vs[0] == '"') {
				return fedns_diag_set(c->d, FEDNS_ESYNTAX,
						      "%s parameter \"%s\" has an unbalanced quote",
						      tname(c), show(t->s, t->len, sb, sizeof(sb)));
			}
		}
		/* Decode the char-string escapes, then the key's own syntax. */
		uint8_t dbuf[1024];
		uint8_t *dec = vlen <= sizeof(dbuf) ? dbuf : malloc(vlen);
		if (dec == NULL)
			return fedns_diag_set(c->d, FEDNS_ENOMEM, "out of memory");
		size_t dlen = 0;
		int r = decode_cs(vs != NULL ? vs : "", vlen, dec, vlen, &dlen);
		const char *why = r != 0 ? "has a bad escape" : NULL;
		size_t vstart = w->len + 4;
		svc_out o = {NULL, 0, 0};
		if (why == NULL) {
			if (w->err != FEDNS_OK || w->cap - w->len < 4) {
				why = "makes the rdata too long";
			} else {
				o.buf = w->buf + vstart;
				o.cap = w->cap - vstart;
				if (o.cap > 65535)
					o.cap = 65535;
				/* keyNNNNN for a known key carries the wire value, which must
				 * still be valid for that key (as BIND reads it). */
				if (key < NELEM(svc_key_names) && klen > 3 &&
				    memcmp(t->s, "key", 3) == 0) {
					why = svc_put(&o, dec, dlen);
					if (why == NULL)
						why = svc_value_check(key, o.buf, o.len);
				} else {
					why = svc_value_from_text(key, dec, dlen, has_value, &o);
				}
			}
		}
		if (dec != dbuf)
			free(dec);
		if (why != NULL) {
			fedns_err code =
				strstr(why, "too long") != NULL ? FEDNS_ETOOBIG : FEDNS_ESYNTAX;
			return fedns_diag_set(c->d, code, "%s parameter \"%s\" %s", tname(c),
					      show(t->s, t->len, sb, sizeof(sb)), why);
		}
		if (!svc_insert(w, base, key, o.len))
			return fedns_diag_set(c->d, FEDNS_ESYNTAX,
					      "%s parameter \"%.*s\" appears more than once",
					      tname(c), (int)(klen < 40 ? klen : 40), t->s);
		if (w->err != FEDNS_OK)
			return fedns_diag_set(c->d, w->err, "%s rdata is too long", tname(c));
	}
	return FEDNS_OK;
}

/* ------------------------------------------------------------------------------------ */
/* Wire -> presentation                                                                  */

/* BIND's escaping inside quotes: '"' and '\' backslashed, non-printables as \DDD. */
static void
put_escaped(fedns_buf *out, const uint8_t *p, size_t n)
{
	char tmp[256];
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = p[i];
		if (o > sizeof(tmp) - 5) {
			fedns_buf_append(out, tmp, o);
			o = 0;
		}
		if (ch < 0x20 || ch >= 0x7f) {
			tmp[o++] = '\\';
			tmp[o++] = (char)('0' + ch / 100);
			tmp[o++] = (char)('0' + ch / 10 % 10);
			tmp[o++] = (char)('0' + ch % 10);
		} else {
			if (ch == '"' || ch == '\\')
				tmp[o++] = '\\';
			tmp[o++] = (char)ch;
		}
	}
	fedns_buf_append(out, tmp, o);
}

static void
put_quoted(fedns_buf *out, const uint8_t *p, size_t n)
{
	fedns_buf_putc(out, '"');
	put_escaped(out, p, n);
	fedns_buf_putc(out, '"');
}

/* Hex and base64 in 56-character groups separated by spaces, as BIND's one-line style. */
static void
put_hex(fedns_buf *out, const uint8_t *p, size_t n)
{
	char tmp[57];
	for (size_t i = 0; i < n; i += 28) {
		size_t k = n - i < 28 ? n - i : 28;
		if (i != 0)
			fedns_buf_putc(out, ' ');
		fedns_buf_append(out, tmp, fedns_hex_encode(p + i, k, tmp, 1));
	}
}

static void
put_b64(fedns_buf *out, const uint8_t *p, size_t n, bool split)
{
	char tmp[57];
	for (size_t i = 0; i < n; i += 42) {
		size_t k = n - i < 42 ? n - i : 42;
		if (i != 0 && split)
			fedns_buf_putc(out, ' ');
		fedns_buf_append(out, tmp, fedns_base64_encode(p + i, k, tmp));
	}
}

static void
put_hex_run(fedns_buf *out, const uint8_t *p, size_t n)
{
	char tmp[57];
	for (size_t i = 0; i < n; i += 28) {
		size_t k = n - i < 28 ? n - i : 28;
		fedns_buf_append(out, tmp, fedns_hex_encode(p + i, k, tmp, 1));
	}
}

static void
put_b32(fedns_buf *out, const uint8_t *p, size_t n)
{
	char tmp[420];
	size_t o = 0;
	uint32_t acc = 0;
	unsigned nbits = 0;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | p[i];
		nbits += 8;
		while (nbits >= 5) {
			nbits -= 5;
			tmp[o++] = b32hex[(acc >> nbits) & 31];
		}
	}
	if (nbits > 0)
		tmp[o++] = b32hex[(acc << (5 - nbits)) & 31];
	fedns_buf_append(out, tmp, o);
}

static void
put_bitmap(fedns_buf *out, const uint8_t *p, size_t len)
{
	size_t off = 0;
	while (off + 2 <= len) {
		unsigned win = p[off], bl = p[off + 1];
		for (unsigned i = 0; i < bl * 8; i++) {
			if (p[off + 2 + i / 8] & (0x80 >> (i % 8))) {
				char tb[16];
				fedns_buf_putc(out, ' ');
				fedns_buf_puts(out,
					       fedns_rrtype_to_text((uint16_t)(win * 256 + i), tb));
			}
		}
		off += 2 + bl;
	}
}

static void
put_ip6(fedns_buf *out, const uint8_t *p)
{
	char tmp[INET6_ADDRSTRLEN];
	if (inet_ntop(AF_INET6, p, tmp, sizeof(tmp)) != NULL)
		fedns_buf_puts(out, tmp);
}

static void
put_ip4(fedns_buf *out, const uint8_t *p)
{
	fedns_buf_printf(out, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
}

static void
put_alpn_item(fedns_buf *out, const uint8_t *p, size_t n)
{
	/* Item escapes first (',' and '\'), then char-string escapes over the result;
	 * BIND also writes a space in an alpn id as \032. */
	uint8_t tmp[512];
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == ',' || p[i] == '\\')
			tmp[o++] = '\\';
		tmp[o++] = p[i];
	}
	size_t st = 0;
	for (size_t i = 0; i < o; i++) {
		if (tmp[i] == ' ') {
			put_escaped(out, tmp + st, i - st);
			fedns_buf_puts(out, "\\032");
			st = i + 1;
		}
	}
	put_escaped(out, tmp + st, o - st);
}

static void
svc_to_text(const uint8_t *p, size_t len, fedns_buf *out)
{
	size_t off = 0;
	while (off < len) {
		uint16_t key = fedns_get_u16(p + off);
		uint16_t vl = fedns_get_u16(p + off + 2);
		const uint8_t *v = p + off + 4;
		fedns_buf_putc(out, ' ');
		svc_key_to_text(key, out);
		switch (key) {
		case SVC_MANDATORY:
			for (size_t i = 0; i < vl; i += 2) {
				fedns_buf_putc(out, i == 0 ? '=' : ',');
				svc_key_to_text(fedns_get_u16(v + i), out);
			}
			break;
		case SVC_ALPN:
			fedns_buf_puts(out, "=\"");
			for (size_t i = 0; i < vl; i += 1 + (size_t)v[i]) {
				if (i != 0)
					fedns_buf_putc(out, ',');
				put_alpn_item(out, v + i + 1, v[i]);
			}
			fedns_buf_putc(out, '"');
			break;
		case SVC_NODEFALPN:
			break;
		case SVC_PORT:
			fedns_buf_printf(out, "=%u", (unsigned)fedns_get_u16(v));
			break;
		case SVC_IPV4HINT:
			for (size_t i = 0; i < vl; i += 4) {
				fedns_buf_putc(out, i == 0 ? '=' : ',');
				put_ip4(out, v + i);
			}
			break;
		case SVC_ECH:
			if (vl != 0) {
				fedns_buf_putc(out, '=');
				put_b64(out, v, vl, false);
			}
			break;
		case SVC_IPV6HINT:
			for (size_t i = 0; i < vl; i += 16) {
				fedns_buf_putc(out, i == 0 ? '=' : ',');
				put_ip6(out, v + i);
			}
			break;
		default:
			if (vl != 0) {
				fedns_buf_putc(out, '=');
				put_quoted(out, v, vl);
			}
			break;
		}
		off += 4 + (size_t)vl;
	}
}

fedns_err
fedns_rdata_to_text(uint16_t type, const uint8_t *rd, size_t rdlen, fedns_buf *out)
{
	const rdesc *dsc = desc_get(type);
	if (rdlen > FEDNS_RDATA_MAXLEN || (rd == NULL && rdlen != 0))
		return FEDNS_EMALFORMED;
	if (dsc == NULL) {
		fedns_buf_printf(out, "\\# %zu", rdlen);
		if (rdlen != 0) {
			fedns_buf_putc(out, ' ');
			put_hex(out, rd, rdlen);
		}
		return out->err;
	}
	if (walk(dsc, rd, rdlen, false, NULL, NULL) != NULL)
		return FEDNS_EMALFORMED;
	size_t off = 0;
	for (size_t k = 0; k < MAXFIELDS && dsc->f[k].kind != FK_END; k++) {
		const field *f = &dsc->f[k];
		if (k != 0 && f->kind != FK_SVC && f->kind != FK_BITMAP)
			fedns_buf_putc(out, ' ');
		switch (f->kind) {
		case FK_NAME: {
			char nb[FEDNS_NAME_MAXTEXT + 1];
			size_t n = fedns_name_to_text(rd + off, nb, sizeof(nb));
			fedns_buf_append(out, nb, n);
			off += fedns_name_len(rd + off);
			break;
		}
		case FK_U8:
		case FK_ALG:
		case FK_DIGEST:
			fedns_buf_printf(out, "%u", (unsigned)rd[off]);
			off += 1;
			break;
		case FK_U16:
			fedns_buf_printf(out, "%u", (unsigned)fedns_get_u16(rd + off));
			off += 2;
			break;
		case FK_U32:
		case FK_TTL:
			fedns_buf_printf(out, "%lu", (unsigned long)fedns_get_u32(rd + off));
			off += 4;
			break;
		case FK_A:
			put_ip4(out, rd + off);
			off += 4;
			break;
		case FK_AAAA:
			put_ip6(out, rd + off);
			off += 16;
			break;
		case FK_STR:
			put_quoted(out, rd + off + 1, rd[off]);
			off += 1 + (size_t)rd[off];
			break;
		case FK_STRS:
			while (off < rdlen) {
				put_quoted(out, rd + off + 1, rd[off]);
				off += 1 + (size_t)rd[off];
				if (off < rdlen)
					fedns_buf_putc(out, ' ');
			}
			break;
		case FK_HEX:
			put_hex(out, rd + off, rdlen - off);
			off = rdlen;
			break;
		case FK_B64:
			put_b64(out, rd + off, rdlen - off, true);
			off = rdlen;
			break;
		case FK_CAATAG:
			fedns_buf_append(out, rd + off + 1, rd[off]);
			off += 1 + (size_t)rd[off];
			break;
		case FK_CAAVAL:
			put_quoted(out, rd + off, rdlen - off);
			off = rdlen;
			break;
		case FK_SVC:
			svc_to_text(rd + off, rdlen - off, out);
			off = rdlen;
			break;
		case FK_TYPE: {
			char tb[16];
			fedns_buf_puts(out, fedns_rrtype_to_text(fedns_get_u16(rd + off), tb));
			off += 2;
			break;
		}
		case FK_TIME: {
			char tb[16];
			time_to_text(fedns_get_u32(rd + off), tb);
			fedns_buf_puts(out, tb);
			off += 4;
			break;
		}
		case FK_SALT:
			if (rd[off] == 0)
				fedns_buf_putc(out, '-');
			else
				put_hex_run(out, rd + off + 1, rd[off]);
			off += 1 + (size_t)rd[off];
			break;
		case FK_B32:
			put_b32(out, rd + off + 1, rd[off]);
			off += 1 + (size_t)rd[off];
			break;
		case FK_BITMAP:
			put_bitmap(out, rd + off, rdlen - off);
			off = rdlen;
			break;
		default:
			break;
		}
	}
	return out->err;
}

/* ------------------------------------------------------------------------------------ */
/* Message unpacking                                                                     */

fedns_err
fedns_rdata_unpack(uint16_t type, fedns_wire *w, size_t rdlen, uint8_t *out, size_t cap,
		   size_t *outlen)
{
	if (w->err != FEDNS_OK)
		return w->err;
	if (!fedns_wire_need(w, rdlen))
		return w->err;
	const rdesc *dsc = desc_get(type);
	const uint8_t *rd = w->buf + w->off;

	if (dsc == NULL || !(desc_name_flags(dsc) & NF_COMPRESS)) {
		/* Names in these types are never compressed (RFC 3597 §4), so the bytes are
		 * the rdata; a pointer fails the check as a bad name. */
		if (dsc != NULL && walk(dsc, rd, rdlen, false, NULL, NULL) != NULL) {
			fedns_wire_fail(w, FEDNS_EMALFORMED);
			return w->err;
		}
		if (cap < rdlen) {
			fedns_wire_fail(w, FEDNS_ETOOBIG);
			return w->err;
		}
		if (rdlen != 0)
			memcpy(out, rd, rdlen);
		w->off += rdlen;
		*outlen = rdlen;
		return FEDNS_OK;
	}

	/* The RFC 1035 types: names decompressed, other fields fixed-size numbers. RFC 3597
	 * §4 also suggests decompressing RP, AFSDB, RT, PX, NAPTR and SRV; we refuse
	 * pointers there, as BIND does for SRV. */
	size_t end = w->off + rdlen;
	size_t o = 0;
	for (size_t k = 0; k < MAXFIELDS && dsc->f[k].kind != FK_END; k++) {
		const field *f = &dsc->f[k];
		if (f->kind == FK_NAME) {
			uint8_t nb[FEDNS_NAME_MAXLEN];
			size_t nl;
			/* The name as it sits in the message must end inside the rdata. */
			fedns_wire sub = *w;
			sub.len = end;
			if (fedns_name_unpack(&sub, nb, &nl) != FEDNS_OK) {
				fedns_wire_fail(w, sub.err == FEDNS_ETRUNC ? FEDNS_EMALFORMED
									   : sub.err);
				return w->err;
			}
			w->off = sub.off;
			if (cap - o < nl) {
				fedns_wire_fail(w, FEDNS_ETOOBIG);
				return w->err;
			}
			memcpy(out + o, nb, nl);
			o += nl;
		} else {
			size_t n = f->kind == FK_U16 ? 2 : f->kind == FK_U8 ? 1 : 4;
			if (end - w->off < n) {
				fedns_wire_fail(w, FEDNS_EMALFORMED);
				return w->err;
			}
			if (cap - o < n) {
				fedns_wire_fail(w, FEDNS_ETOOBIG);
				return w->err;
			}
			memcpy(out + o, w->buf + w->off, n);
			w->off += n;
			o += n;
		}
	}
	if (w->off != end || o > FEDNS_RDATA_MAXLEN) {
		fedns_wire_fail(w, FEDNS_EMALFORMED);
		return w->err;
	}
	*outlen = o;
	return FEDNS_OK;
}

/* ------------------------------------------------------------------------------------ */
/* Canonical form, order and names                                                       */

typedef struct ranges {
	size_t n;
	size_t off[MAXFIELDS], len[MAXFIELDS];
} ranges;

static void
collect_lower(void *ctx, size_t off, size_t len, uint8_t flags)
{
	ranges *r = ctx;
	if ((flags & NF_LOWER) && r->n < MAXFIELDS) {
		r->off[r->n] = off;
		r->len[r->n] = len;
		r->n++;
	}
}

void
fedns_rdata_canonical(uint16_t type, const uint8_t *rd, size_t rdlen, uint8_t *out)
{
	const rdesc *dsc = desc_get(type);
	if (rdlen != 0)
		memcpy(out, rd, rdlen);
	if (dsc == NULL || !(desc_name_flags(dsc) & NF_LOWER))
		return;
	ranges r = {0, {0}, {0}};
	walk(dsc, rd, rdlen, false, collect_lower, &r);
	/* Length octets are at most 63, below 'A', so lowering whole names is safe. */
	for (size_t i = 0; i < r.n; i++)
		for (size_t j = r.off[i]; j < r.off[i] + r.len[i]; j++)
			if (out[j] >= 'A' && out[j] <= 'Z')
				out[j] = (uint8_t)(out[j] + 32);
}

static inline uint8_t
canon_at(const ranges *r, const uint8_t *p, size_t i)
{
	uint8_t ch = p[i];
	if (ch >= 'A' && ch <= 'Z') {
		for (size_t k = 0; k < r->n; k++)
			if (i >= r->off[k] && i - r->off[k] < r->len[k])
				return (uint8_t)(ch + 32);
	}
	return ch;
}

int
fedns_rdata_cmp(uint16_t type, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	const rdesc *dsc = desc_get(type);
	size_t n = alen < blen ? alen : blen;
	size_t i = 0;
	if (dsc == NULL || !(desc_name_flags(dsc) & NF_LOWER)) {
		int c = n != 0 ? memcmp(a, b, n) : 0;
		if (c != 0)
			return c < 0 ? -1 : 1;
		return alen < blen ? -1 : alen > blen ? 1 : 0;
	}
	/* Equal bytes and differing bytes that are not capital letters compare the same
	 * raw or canonical; name positions are worked out only when a capital decides. */
	for (; i < n; i++) {
		uint8_t x = a[i], y = b[i];
		if (x == y)
			continue;
		bool upper = (x >= 'A' && x <= 'Z') || (y >= 'A' && y <= 'Z');
		if (!upper)
			return x < y ? -1 : 1;
		break;
	}
	if (i < n) {
		ranges ra = {0, {0}, {0}}, rb = {0, {0}, {0}};
		walk(dsc, a, alen, false, collect_lower, &ra);
		walk(dsc, b, blen, false, collect_lower, &rb);
		for (; i < n; i++) {
			uint8_t x = canon_at(&ra, a, i), y = canon_at(&rb, b, i);
			if (x != y)
				return x < y ? -1 : 1;
		}
	}
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

typedef struct names_ctx {
	fedns_rdata_name_fn fn;
	void *ctx;
	size_t n;
} names_ctx;

static void
names_cb(void *ctx, size_t off, size_t len, uint8_t flags)
{
	names_ctx *nc = ctx;
	(void)len;
	nc->n++;
	if (nc->fn != NULL)
		nc->fn(nc->ctx, off, (flags & NF_COMPRESS) != 0);
}

size_t
fedns_rdata_names(uint16_t type, const uint8_t *rd, size_t rdlen, fedns_rdata_name_fn fn, void *ctx)
{
	const rdesc *dsc = desc_get(type);
	if (dsc == NULL || !(desc_name_flags(dsc) & 0x80u))
		return 0;
	names_ctx nc = {fn, ctx, 0};
	walk(dsc, rd, rdlen, false, names_cb, &nc);
	return nc.n;
}

/* ------------------------------------------------------------------------------------ */
/* SOA fields                                                                            */

static size_t
soa_fixed(const uint8_t *rd, size_t rdlen)
{
	size_t a = fedns_name_len(rd);
	size_t b = fedns_name_len(rd + a);
	(void)rdlen;
	return a + b;
}

uint32_t
fedns_soa_serial(const uint8_t *rd, size_t rdlen)
{
	return fedns_get_u32(rd + soa_fixed(rd, rdlen));
}

void
fedns_soa_set_serial(uint8_t *rd, size_t rdlen, uint32_t serial)
{
	fedns_put_u32(rd + soa_fixed(rd, rdlen), serial);
}

uint32_t
fedns_soa_minimum(const uint8_t *rd, size_t rdlen)
{
	return fedns_get_u32(rd + soa_fixed(rd, rdlen) + 16);
}
