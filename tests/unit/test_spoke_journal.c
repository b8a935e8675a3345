/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for spoke/journal: restart round trips (zone, serial and IXFR chain), torn
 * tails and bit flips cut at the last good record, compaction keeping IXFR history, many
 * zones, odd names confined to their directory, damaged snapshots, removal, the catalog
 * serial never going back, and a failing store refusing changes without a trace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/log.h"
#include "dns/rdata.h"
#include "dns/serial.h"
#include "dns/zonefile.h"
#include "spoke/journal.h"
#include "spoke/zoneset.h"

static const uint8_t origin[] = "\x07"
				"example\x03"
				"com";
static const uint8_t cat[] = "\x03"
			     "cat\x05"
			     "fedns";

typedef struct env {
	char dir[64];
	char path[256];
} env;

static int
setup(void **state)
{
	env *e = calloc(1, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/fedns-journal-XXXXXX");
	if (mkdtemp(e->dir) == NULL)
		return -1;
	/* a state directory that does not exist yet: the journal creates it */
	snprintf(e->path, sizeof(e->path), "%s/state", e->dir);
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	env *e = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	int r = system(cmd);
	free(e);
	return r == 0 ? 0 : -1;
}

static fedns_zone *
zone_text(const uint8_t *o, const char *text)
{
	fedns_zone *z = NULL;
	assert_int_equal(fedns_zone_new(o, FEDNS_C_IN, NULL, &z), FEDNS_OK);
	fedns_zonefile_opts opts = {.origin = o};
	assert_int_equal(fedns_zonefile_parse("t", text, strlen(text), &opts, z, NULL), FEDNS_OK);
	assert_int_equal(fedns_zone_finish(z, NULL, NULL), FEDNS_OK);
	return z;
}

/* Version 'serial': www moves, and one more host appears per version, so every diff
 * differs from the others. */
static fedns_zone *
zone_at(const uint8_t *o, uint32_t serial)
{
	char text[8192];
	int n = snprintf(text, sizeof(text),
			 "$TTL 60\n@ SOA ns hm %u 1 1 1 1\n@ NS ns\nns A 192.0.2.1\n"
			 "www A 198.51.100.%u\n",
			 serial, serial % 250);
	for (uint32_t i = 0; i < serial % 40; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "h%u TXT \"v%u\"\n", i, i);
	return zone_text(o, text);
}

typedef struct run {
	spoke_zoneset *zs;
	spoke_journal *j;
	size_t loaded, failed;
} run;

static void
start(run *r, const char *dir, size_t jmax, size_t compact, const uint8_t *catalog)
{
	spoke_zoneset_opts zo = {.journal_max = jmax, .catalog_origin = catalog};
	assert_int_equal(spoke_zoneset_new(&zo, &r->zs), FEDNS_OK);
	spoke_journal_opts jo = {.dir = dir, .journal_max = jmax, .compact_records = compact};
	fedns_diag d;
	fedns_diag_clear(&d);
	assert_int_equal(spoke_journal_open(&jo, &r->j, &d), FEDNS_OK);
	assert_int_equal(spoke_journal_load(r->j, r->zs, &r->loaded, &r->failed, &d), FEDNS_OK);
	spoke_journal_attach(r->j, r->zs);
}

static void
stop(run *r)
{
	spoke_journal_sync(r->j);
	spoke_zoneset_free(r->zs);
	spoke_journal_close(r->j);
	memset(r, 0, sizeof(*r));
}

static void
put(run *r, fedns_zone *z)
{
	fedns_diag d;
	fedns_diag_clear(&d);
	fedns_err err = spoke_zoneset_put(r->zs, z, &d);
	if (err != FEDNS_OK)
		fail_msg("put: %s", d.msg);
}

static uint32_t
serial_of(run *r, const uint8_t *o)
{
	spoke_version *v = spoke_zoneset_get(r->zs, o);
	if (v == NULL)
		return 0;
	uint32_t s = v->serial;
	spoke_version_rele(v);
	return s;
}

static char *
print_zone(const fedns_zone *z)
{
	fedns_buf b;
	fedns_buf_init(&b, 0);
	assert_int_equal(fedns_zone_print(z, &b), FEDNS_OK);
	size_t len;
	return (char *)fedns_buf_steal(&b, &len);
}

/* The IXFR chain from 'from' to the current version as text (from, to and every RR). */
static char *
chain_text(run *r, const uint8_t *o, uint32_t from)
{
	spoke_version *v = spoke_zoneset_get(r->zs, o);
	assert_non_null(v);
	spoke_jentry *je[64];
	long n = spoke_zoneset_journal(r->zs, v, from, je, 64);
	fedns_buf b;
	fedns_buf_init(&b, 0);
	fedns_buf_printf(&b, "n=%ld\n", n);
	for (long i = 0; i < n; i++) {
		fedns_buf_printf(&b, "%u->%u\n", je[i]->from, je[i]->to);
		const fedns_diff *df = &je[i]->diff;
		for (int side = 0; side < 2; side++) {
			const fedns_rr *rr = side ? df->add : df->del;
			size_t cnt = side ? df->nadd : df->ndel;
			for (size_t k = 0; k < cnt; k++) {
				char on[FEDNS_NAME_MAXTEXT];
				fedns_name_to_text(rr[k].owner, on, sizeof(on));
				fedns_buf_printf(&b, "%c %s %u %u %u ", side ? '+' : '-', on,
						 rr[k].type, rr[k].ttl, rr[k].rdlen);
				for (uint16_t x = 0; x < rr[k].rdlen; x++)
					fedns_buf_printf(&b, "%02x", rr[k].rdata[x]);
				fedns_buf_putc(&b, '\n');
			}
		}
		spoke_jentry_rele(je[i]);
	}
	spoke_version_rele(v);
	size_t len;
	return (char *)fedns_buf_steal(&b, &len);
}

static char *
current_text(run *r, const uint8_t *o)
{
	spoke_version *v = spoke_zoneset_get(r->zs, o);
	assert_non_null(v);
	char *t = print_zone(v->zone);
	spoke_version_rele(v);
	return t;
}

static void
zone_file(const env *e, const uint8_t *o, const char *file, char *out, size_t outsz)
{
	char name[256];
	assert_int_not_equal(spoke_journal_dirname(o, name, sizeof(name)), 0);
	int n = snprintf(out, outsz, "%s/zones/%.200s/%s", e->path, name, file);
	assert_true(n > 0 && (size_t)n < outsz);
}

static long
file_size(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return -1;
	return (long)st.st_size;
}

/* Offsets of the journal's records (at most 'max'). */
static size_t
record_offsets(const char *path, long *off, size_t max)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	uint8_t buf[1 << 16];
	size_t len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	size_t n = 0, p = 12;
	while (p + 4 <= len && n < max) {
		uint32_t l = ((uint32_t)buf[p] << 24) | ((uint32_t)buf[p + 1] << 16) |
			     ((uint32_t)buf[p + 2] << 8) | buf[p + 3];
		off[n++] = (long)p;
		p += 4 + l + 32;
	}
	return n;
}

static void
test_round_trip(void **state)
{
	env *e = *state;
	run r = {0};
	start(&r, e->path, 5, 1000, NULL);
	assert_int_equal(r.loaded, 0);
	put(&r, zone_at(origin, 1));
	for (uint32_t s = 2; s <= 9; s++)
		put(&r, zone_at(origin, s));
	/* one change through apply, as the hub session will send them */
	spoke_version *cur = spoke_zoneset_get(r.zs, origin);
	fedns_zone *v10 = zone_at(origin, 10);
	fedns_diff diff;
	fedns_diff_init(&diff);
	assert_int_equal(fedns_diff_compute(cur->zone, v10, &diff), FEDNS_OK);
	spoke_version_rele(cur);
	uint32_t ns = 0;
	assert_int_equal(spoke_zoneset_apply(r.zs, origin, &diff, &ns, NULL), FEDNS_OK);
	assert_int_equal(ns, 10);
	fedns_diff_fini(&diff);
	fedns_zone_free(v10);
	char *zt = current_text(&r, origin), *ct = chain_text(&r, origin, 5);
	char *miss = chain_text(&r, origin, 4);
	assert_string_equal(miss, "n=-1\n"); /* journal_max 5 */
	stop(&r);

	/* the directory is private */
	struct stat st;
	assert_int_equal(stat(e->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	start(&r, e->path, 5, 1000, NULL);
	assert_int_equal(r.loaded, 1);
	assert_int_equal(r.failed, 0);
	assert_int_equal(serial_of(&r, origin), 10);
	char *zt2 = current_text(&r, origin), *ct2 = chain_text(&r, origin, 5);
	char *miss2 = chain_text(&r, origin, 4);
	assert_string_equal(zt2, zt);
	assert_string_equal(ct2, ct);
	assert_string_equal(miss2, "n=-1\n");
	assert_non_null(strstr(ct2, "n=5\n5->6\n"));
	/* and it keeps journaling after the restart */
	put(&r, zone_at(origin, 11));
	stop(&r);
	start(&r, e->path, 5, 1000, NULL);
	assert_int_equal(serial_of(&r, origin), 11);
	char *ct3 = chain_text(&r, origin, 10);
	assert_non_null(strstr(ct3, "n=1\n10->11\n"));
	stop(&r);
	free(zt);
	free(ct);
	free(miss);
	free(zt2);
	free(ct2);
	free(miss2);
	free(ct3);
}

static void
test_torn_tail(void **state)
{
	env *e = *state;
	run r = {0};
	start(&r, e->path, 100, 1000, NULL);
	for (uint32_t s = 1; s <= 10; s++)
		put(&r, zone_at(origin, s));
	stop(&r);
	char jp[512];
	zone_file(e, origin, "journal", jp, sizeof(jp));
	long sz = file_size(jp);
	/* a crash in the middle of the last append */
	assert_int_equal(truncate(jp, sz - 7), 0);
	start(&r, e->path, 100, 1000, NULL);
	assert_int_equal(r.loaded, 1);
	assert_int_equal(serial_of(&r, origin), 9);
	char *ct = chain_text(&r, origin, 1);
	assert_non_null(strstr(ct, "n=8\n1->2\n"));
	free(ct);
	/* the torn bytes were cut: a new change follows the last good record */
	long cut = file_size(jp);
	long off[16];
	assert_int_equal(record_offsets(jp, off, 16), 8);
	assert_true(cut < sz - 7);
	put(&r, zone_at(origin, 12));
	stop(&r);
	start(&r, e->path, 100, 1000, NULL);
	assert_int_equal(serial_of(&r, origin), 12);
	ct = chain_text(&r, origin, 9);
	assert_non_null(strstr(ct, "n=1\n9->12\n"));
	free(ct);
	stop(&r);
}

static void
test_bit_flip(void **state)
{
	env *e = *state;
	run r = {0};
	start(&r, e->path, 100, 1000, NULL);
	for (uint32_t s = 1; s <= 10; s++)
		put(&r, zone_at(origin, s));
	stop(&r);
	char jp[512];
	zone_file(e, origin, "journal", jp, sizeof(jp));
	long off[16];
	assert_int_equal(record_offsets(jp, off, 16), 9);
	/* one bit inside the payload of the record 7 -> 8 */
	FILE *f = fopen(jp, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, off[6] + 30, SEEK_SET), 0);
	int c = fgetc(f);
	assert_int_equal(fseek(f, off[6] + 30, SEEK_SET), 0);
	fputc(c ^ 0x10, f);
	fclose(f);
	start(&r, e->path, 100, 1000, NULL);
	assert_int_equal(r.loaded, 1);
	assert_int_equal(serial_of(&r, origin), 7);
	assert_int_equal(file_size(jp), off[6]);
	stop(&r);

	/* a flipped length field is caught too (torn or bad length, never a crash) */
	assert_int_equal(record_offsets(jp, off, 16), 6);
	f = fopen(jp, "r+b");
	assert_int_equal(fseek(f, off[3], SEEK_SET), 0);
	fputc(0x7f, f);
	fclose(f);
	start(&r, e->path, 100, 1000, NULL);
	assert_int_equal(serial_of(&r, origin), 4);
	stop(&r);
}

static void
test_compaction_keeps_history(void **state)
{
	env *e = *state;
	run r = {0};
	start(&r, e->path, 5, 4, NULL);
	for (uint32_t s = 1; s <= 30; s++) {
		put(&r, zone_at(origin, s));
		if (s % 7 == 0)
			spoke_journal_sync(r.j);
	}
	spoke_journal_sync(r.j);
	char *zt = current_text(&r, origin), *ct = chain_text(&r, origin, 25);
	stop(&r);
	char jp[512], sp[512];
	zone_file(e, origin, "journal", jp, sizeof(jp));
	zone_file(e, origin, "snapshot", sp, sizeof(sp));
	long off[64];
	size_t nrec = record_offsets(jp, off, 64);
	/* compacted: at most the history plus what followed the last snapshot */
	assert_true(nrec >= 5);
	assert_true(nrec <= 5 + 4);
	start(&r, e->path, 5, 4, NULL);
	assert_int_equal(serial_of(&r, origin), 30);
	char *zt2 = current_text(&r, origin), *ct2 = chain_text(&r, origin, 25);
	assert_string_equal(zt2, zt);
	assert_string_equal(ct2, ct);
	assert_non_null(strstr(ct2, "n=5\n25->26\n"));
	stop(&r);
	free(zt);
	free(ct);
	free(zt2);
	free(ct2);
}

static void
test_many_zones(void **state)
{
	env *e = *state;
	run r = {0};
	start(&r, e->path, 10, 3, NULL);
	uint8_t names[60][FEDNS_NAME_MAXLEN];
	for (int i = 0; i < 60; i++) {
		char t[64];
		snprintf(t, sizeof(t), "z%d.example.", i);
		size_t nl;
		assert_int_equal(fedns_name_from_text(t, strlen(t), NULL, names[i], &nl, NULL),
				 FEDNS_OK);
		for (uint32_t s = 1; s <= (uint32_t)(i % 7) + 1; s++)
			put(&r, zone_at(names[i], s));
	}
	stop(&r);
	start(&r, e->path, 10, 3, NULL);
	assert_int_equal(r.loaded, 60);
	assert_int_equal(r.failed, 0);
	for (int i = 0; i < 60; i++) {
		assert_int_equal(serial_of(&r, names[i]), (uint32_t)(i % 7) + 1);
		char *ct = chain_text(&r, names[i], 1);
		char want[32];
		snprintf(want, sizeof(want), "n=%d\n", i % 7);
		assert_memory_equal(ct, want, strlen(want));
		free(ct);
	}
	stop(&r);
}

static void
test_odd_names(void **state)
{
	env *e = *state;
	char out[256];
	uint8_t n[FEDNS_NAME_MAXLEN];
	size_t nl;
	static const uint8_t root[1] = {0};
	struct {
		const char *text, *want;
	} cases[] = {
		{"Example.COM.", "example.com"},
		{"a\\/b.example.", "a%2fb.example"},
		{"\\.\\..example.", "%2e%2e.example"},
		{"..", NULL}, /* not a name */
		{"%41.x.", "%2541.x"},
		{"sp\\032ace\\000.x.", "sp%20ace%00.x"},
		{".", "@"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fedns_err err = fedns_name_from_text(cases[i].text, strlen(cases[i].text), root, n,
						     &nl, NULL);
		if (cases[i].want == NULL) {
			assert_int_not_equal(err, FEDNS_OK);
			continue;
		}
		assert_int_equal(err, FEDNS_OK);
		assert_int_not_equal(spoke_journal_dirname(n, out, sizeof(out)), 0);
		assert_string_equal(out, cases[i].want);
	}
	/* a long name is hashed: 65 characters, no dot, no slash */
	char longt[400];
	size_t p = 0;
	for (int i = 0; i < 4; i++)
		p += (size_t)snprintf(longt + p, sizeof(longt) - p, "%s.",
				      "\\047\\047\\047\\047\\047\\047\\047\\047\\047\\047"
				      "\\047\\047\\047\\047\\047\\047\\047\\047\\047\\047");
	assert_int_equal(fedns_name_from_text(longt, p, root, n, &nl, NULL), FEDNS_OK);
	assert_int_equal(spoke_journal_dirname(n, out, sizeof(out)), 65);
	assert_int_equal(out[0], '#');
	assert_null(strchr(out, '/'));
	assert_int_equal(spoke_journal_dirname(n, out, 10), 0);

	/* zones with such names round-trip and stay inside zones/ */
	uint8_t odd[3][FEDNS_NAME_MAXLEN];
	const char *texts[] = {"a\\/b.Example.", "\\.\\..example.", longt};
	run r = {0};
	start(&r, e->path, 10, 100, NULL);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(
			fedns_name_from_text(texts[i], strlen(texts[i]), root, odd[i], &nl, NULL),
			FEDNS_OK);
		put(&r, zone_at(odd[i], 1));
		put(&r, zone_at(odd[i], 2));
	}
	stop(&r);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "test $(find '%s' -mindepth 1 | wc -l) -eq 12", e->dir);
	/* state, catalog-serial, zones, 3 x (dir, snapshot, journal) */
	if (system(cmd) != 0) {
		snprintf(cmd, sizeof(cmd), "find '%s' -mindepth 1 >&2", e->dir);
		(void)!system(cmd);
		fail_msg("unexpected files in the state directory");
	}
	start(&r, e->path, 10, 100, NULL);
	assert_int_equal(r.loaded, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(serial_of(&r, odd[i]), 2);
	stop(&r);
}

static void
test_damaged_snapshot(void **state)
{
	env *e = *state;
	static const uint8_t good[] = "\x04good\x07"
				      "example";
	run r = {0};
	start(&r, e->path, 10, 100, NULL);
	put(&r, zone_at(origin, 3));
	put(&r, zone_at(good, 4));
	stop(&r);
	char sp[512];
	zone_file(e, origin, "snapshot", sp, sizeof(sp));
	FILE *f = fopen(sp, "r+b");
	assert_int_equal(fseek(f, 40, SEEK_SET), 0);
	fputc('X', f);
	fclose(f);
	start(&r, e->path, 10, 100, NULL);
	assert_int_equal(r.loaded, 1);
	assert_int_equal(r.failed, 1);
	assert_int_equal(serial_of(&r, origin), 0);
	assert_int_equal(serial_of(&r, good), 4);
	stop(&r);
	/* an empty snapshot is an error too, not a crash */
	assert_int_equal(truncate(sp, 0), 0);
	start(&r, e->path, 10, 100, NULL);
	assert_int_equal(r.failed, 1);
	stop(&r);
}

static void
test_remove_and_catalog(void **state)
{
	env *e = *state;
	static const uint8_t b[] = "\x01"
				   "b\x07"
				   "example";
	run r = {0};
	start(&r, e->path, 10, 100, cat);
	put(&r, zone_at(origin, 1));
	put(&r, zone_at(b, 1));
	assert_int_equal(spoke_zoneset_remove(r.zs, origin), FEDNS_OK);
	uint32_t cs = serial_of(&r, cat);
	assert_int_equal(cs, 3);
	stop(&r);
	char zd[512];
	zone_file(e, origin, "", zd, sizeof(zd));
	assert_int_equal(file_size(zd), -1);
	start(&r, e->path, 10, 100, cat);
	assert_int_equal(r.loaded, 1);
	assert_int_equal(serial_of(&r, origin), 0);
	assert_int_equal(serial_of(&r, b), 1);
	/* the catalog continues above everything served before the restart */
	uint32_t cs2 = serial_of(&r, cat);
	assert_true(fedns_serial_gt(cs2, cs));
	put(&r, zone_at(origin, 5));
	uint32_t cs3 = serial_of(&r, cat);
	assert_true(fedns_serial_gt(cs3, cs2));
	stop(&r);
	start(&r, e->path, 10, 100, cat);
	assert_true(fedns_serial_gt(serial_of(&r, cat), cs3));
	assert_int_equal(serial_of(&r, origin), 5);
	stop(&r);
}

/* A store that refuses everything: the set must stay as it was. */
static fedns_err
refuse_added(void *ctx, const spoke_version *v, fedns_diag *d)
{
	(void)ctx;
	(void)v;
	return fedns_diag_set(d, FEDNS_EIO, "disk full");
}

static fedns_err
refuse_changed(void *ctx, const spoke_version *v, fedns_diag *d)
{
	(void)ctx;
	(void)v;
	return fedns_diag_set(d, FEDNS_EIO, "disk full");
}

static fedns_err
refuse_removed(void *ctx, const uint8_t *o, fedns_diag *d)
{
	(void)ctx;
	(void)o;
	return fedns_diag_set(d, FEDNS_EIO, "disk full");
}

static void
test_store_failure_refuses(void **state)
{
	(void)state;
	spoke_zoneset_opts zo = {.journal_max = 3};
	spoke_zoneset *zs = NULL;
	assert_int_equal(spoke_zoneset_new(&zo, &zs), FEDNS_OK);
	assert_int_equal(spoke_zoneset_put(zs, zone_at(origin, 1), NULL), FEDNS_OK);
	for (uint32_t s = 2; s <= 4; s++)
		assert_int_equal(spoke_zoneset_put(zs, zone_at(origin, s), NULL), FEDNS_OK);
	spoke_zoneset_store st = {
		.added = refuse_added, .changed = refuse_changed, .removed = refuse_removed};
	spoke_zoneset_set_store(zs, &st);
	spoke_version *before = spoke_zoneset_get(zs, origin);
	fedns_diag d;
	fedns_diag_clear(&d);
	fedns_zone *v5 = zone_at(origin, 5);
	assert_int_equal(spoke_zoneset_put(zs, v5, &d), FEDNS_EIO);
	assert_string_equal(d.msg, "disk full");
	fedns_diff diff;
	fedns_diff_init(&diff);
	assert_int_equal(fedns_diff_compute(before->zone, v5, &diff), FEDNS_OK);
	size_t nd = diff.ndel, na = diff.nadd;
	uint32_t ns = 0;
	assert_int_equal(spoke_zoneset_apply(zs, origin, &diff, &ns, NULL), FEDNS_EIO);
	/* the diff is still the caller's, whole */
	assert_int_equal(diff.ndel, nd);
	assert_int_equal(diff.nadd, na);
	assert_int_equal(diff.add[0].type, FEDNS_T_SOA);
	fedns_diff_fini(&diff);
	fedns_zone_free(v5);
	static const uint8_t b[] = "\x01"
				   "b\x07"
				   "example";
	fedns_zone *zb = zone_at(b, 1);
	assert_int_equal(spoke_zoneset_put(zs, zb, NULL), FEDNS_EIO);
	fedns_zone_free(zb);
	assert_int_equal(spoke_zoneset_remove(zs, origin), FEDNS_EIO);
	spoke_version *after = spoke_zoneset_get(zs, origin);
	assert_ptr_equal(after, before);
	assert_null(spoke_zoneset_get(zs, b));
	/* the IXFR history was not shortened by the refused changes */
	spoke_jentry *je[8];
	long n = spoke_zoneset_journal(zs, after, 1, je, 8);
	assert_int_equal(n, 3);
	for (long i = 0; i < n; i++)
		spoke_jentry_rele(je[i]);
	spoke_version_rele(after);
	spoke_version_rele(before);
	spoke_zoneset_free(zs);
}

static void
test_refuses_foreign_dir(void **state)
{
	env *e = *state;
	/* a regular file where the directory should be */
	FILE *f = fopen(e->path, "w");
	fclose(f);
	spoke_journal_opts jo = {.dir = e->path};
	spoke_journal *j = NULL;
	fedns_diag d;
	fedns_diag_clear(&d);
	assert_int_not_equal(spoke_journal_open(&jo, &j, &d), FEDNS_OK);
	assert_non_null(strstr(d.msg, e->path));
	unlink(e->path);
	/* an existing directory is narrowed to 0700 */
	assert_int_equal(mkdir(e->path, 0755), 0);
	fedns_diag_clear(&d);
	assert_int_equal(spoke_journal_open(&jo, &j, &d), FEDNS_OK);
	struct stat st;
	assert_int_equal(stat(e->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	spoke_journal_close(j);
}

int
main(void)
{
	fedns_log_setup(stderr, FEDNS_LOG_WARN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bit_flip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compaction_keeps_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_zones, setup, teardown),
		cmocka_unit_test_setup_teardown(test_odd_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_and_catalog, setup, teardown),
		cmocka_unit_test(test_store_failure_refuses),
		cmocka_unit_test_setup_teardown(test_refuses_foreign_dir, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
