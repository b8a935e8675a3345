/* SPDX-License-Identifier: Apache-2.0 */
/* DNS messages: header, question, sections, EDNS0 OPT; decode, encode with name
 * compression, and TCP length framing (RFC 1035 §4, RFC 6891). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/err.h"
#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/wire.h"

#define FEDNS_MSG_MAXLEN 65535
#define FEDNS_MSG_HDRLEN 12
#define FEDNS_UDP_MINLEN 512

/* Header flag bits as they sit in the 16-bit flags word. */
#define FEDNS_F_QR 0x8000u
#define FEDNS_F_AA 0x0400u
#define FEDNS_F_TC 0x0200u
#define FEDNS_F_RD 0x0100u
#define FEDNS_F_RA 0x0080u
#define FEDNS_F_AD 0x0020u
#define FEDNS_F_CD 0x0010u

enum {
	FEDNS_OP_QUERY = 0,
	FEDNS_OP_NOTIFY = 4,
	FEDNS_OP_UPDATE = 5,
};

enum {
	FEDNS_RCODE_NOERROR = 0,
	FEDNS_RCODE_FORMERR = 1,
	FEDNS_RCODE_SERVFAIL = 2,
	FEDNS_RCODE_NXDOMAIN = 3,
	FEDNS_RCODE_NOTIMP = 4,
	FEDNS_RCODE_REFUSED = 5,
	FEDNS_RCODE_NOTAUTH = 9,
	FEDNS_RCODE_BADVERS = 16, /* extended, needs OPT */
	FEDNS_RCODE_BADSIG = 16,  /* TSIG error field */
	FEDNS_RCODE_BADKEY = 17,
	FEDNS_RCODE_BADTIME = 18,
	FEDNS_RCODE_BADTRUNC = 22,
};

typedef enum fedns_section {
	FEDNS_SEC_ANSWER = 0,
	FEDNS_SEC_AUTHORITY = 1,
	FEDNS_SEC_ADDITIONAL = 2,
} fedns_section;

typedef struct fedns_msg_header {
	uint16_t id;
	uint16_t flags; /* QR..RCODE as on the wire */
	uint16_t qdcount, ancount, nscount, arcount;
} fedns_msg_header;

static inline uint8_t
fedns_msg_opcode(uint16_t flags)
{
	return (uint8_t)((flags >> 11) & 0xf);
}

static inline uint8_t
fedns_msg_rcode(uint16_t flags)
{
	return (uint8_t)(flags & 0xf);
}

typedef struct fedns_edns {
	bool present;
	uint16_t udp_size;
	uint8_t ext_rcode; /* upper 8 bits of the 12-bit rcode */
	uint8_t version;
	uint16_t flags;		/* DO is 0x8000 */
	const uint8_t *options; /* raw option bytes, borrowed */
	uint16_t options_len;
} fedns_edns;

typedef struct fedns_question {
	const uint8_t *name;
	uint16_t qtype;
	uint16_t qclass;
} fedns_question;

/* A decoded message. Names and rdata are decompressed into the arena passed to
 * fedns_msg_parse; the OPT RR is lifted into 'edns' (not listed in additional); a TSIG
 * RR, which must be last, is kept in 'tsig' with 'tsig_off', the offset where it starts,
 * so the verifier can hash the bytes before it. */
typedef struct fedns_msg {
	fedns_msg_header hdr;
	fedns_question *qd;
	fedns_rr *sec[3];
	uint16_t count[3];
	fedns_edns edns;
	bool has_tsig;
	fedns_rr tsig;
	size_t tsig_off;
} fedns_msg;

/* Decodes buf[0..len). Checks counts against bytes left before allocating, refuses
 * trailing bytes, more than one OPT, an OPT or TSIG anywhere but additional, and a TSIG
 * that is not last. On failure returns FEDNS_EMALFORMED/FEDNS_ETRUNC/FEDNS_ETOOBIG/
 * FEDNS_ENOMEM and *out is unspecified (its memory is in the arena). Thread-safe. */
fedns_err fedns_msg_parse(const uint8_t *buf, size_t len, fedns_arena *arena, fedns_msg *out);

/* Reads only the header (12 bytes). */
fedns_err fedns_msg_header_parse(const uint8_t *buf, size_t len, fedns_msg_header *out);

/* Compression table for one message being written: remembers where names (and their
 * suffixes) were written so later names can point at them. */
#define FEDNS_COMPRESS_SLOTS 256
typedef struct fedns_compress {
	uint16_t off[FEDNS_COMPRESS_SLOTS]; /* offsets of written names in the message */
	uint16_t n;
	/* Hash index over off[] so a lookup costs one probe per suffix, not a scan. */
	uint32_t hash[FEDNS_COMPRESS_SLOTS];	  /* case-insensitive hash of the name at off[i] */
	uint16_t slot[FEDNS_COMPRESS_SLOTS];	  /* where entry i sits in index[] */
	uint16_t index[FEDNS_COMPRESS_SLOTS * 2]; /* entry + 1; 0 is empty */
	/* The last owner fedns_msgw_rr wrote and how: in a zone transfer most owners repeat
	 * the one before, and re-emitting its encoding skips hashing every suffix. */
	const uint8_t *last_owner; /* NULL: none */
	uint16_t last_start;	   /* where its encoding begins in the message */
	uint16_t last_full;	   /* offset to point at for the whole name, or 0xffff */
	uint16_t last_pre;	   /* else: bytes of literal labels, then... */
	uint16_t last_tail;	   /* ...a pointer here, or 0xffff for the root label */
} fedns_compress;

/* Message writer: a fedns_wbuf plus a compression table and section counts. The caller
 * writes the header, then question, then RRs section by section (in order), then calls
 * fedns_msgw_finish, which fills the counts. A record that does not fit leaves the
 * message as it was before that record and returns FEDNS_ETOOBIG, so multi-message
 * transfers can start a new message with it. */
typedef struct fedns_msgw {
	fedns_wbuf b;
	fedns_compress comp;
	bool compress;
	uint16_t qdcount;
	uint16_t count[3];
	fedns_section cur;
} fedns_msgw;

void fedns_msgw_init(fedns_msgw *mw, uint8_t *buf, size_t cap, bool compress);
void fedns_msgw_header(fedns_msgw *mw, uint16_t id, uint16_t flags);
fedns_err fedns_msgw_question(fedns_msgw *mw, const uint8_t *name, uint16_t qtype, uint16_t qclass);
/* Writes one RR in 'sec' (sections must be written in order). */
fedns_err fedns_msgw_rr(fedns_msgw *mw, fedns_section sec, const fedns_rr *rr);
/* Writes a name with compression (if enabled) at the current position. */
fedns_err fedns_msgw_name(fedns_msgw *mw, const uint8_t *name);
/* Adds an OPT RR to the additional section. */
fedns_err fedns_msgw_opt(fedns_msgw *mw, uint16_t udp_size, uint8_t ext_rcode, uint16_t flags,
			 const uint8_t *options, uint16_t options_len);
/* Writes the counts into the header; returns the message length or 0 on error. */
size_t fedns_msgw_finish(fedns_msgw *mw);

/* TCP framing (RFC 1035 §4.2.2): 2-byte length prefix. */
static inline void
fedns_tcp_frame_put(uint8_t prefix[2], size_t msglen)
{
	prefix[0] = (uint8_t)(msglen >> 8);
	prefix[1] = (uint8_t)msglen;
}

/* Given buffered bytes, says how long the first framed message is: returns FEDNS_OK and
 * sets *msglen when the 2-byte prefix is present (the body may not be complete yet:
 * the frame is complete when have >= 2 + *msglen); FEDNS_ETRUNC when fewer than 2
 * bytes; FEDNS_EMALFORMED for a zero length. */
fedns_err fedns_tcp_frame_len(const uint8_t *buf, size_t have, size_t *msglen);
